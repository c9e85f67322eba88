using Containers.Sdk.Analyzers.CodeFixes;
using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Rules;
using Containers.Shared;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

/// <summary>CSDK1009–1012 and CSDK1006 for ports named by the container environment.</summary>
[TestClass]
public sealed class ImageNameAndListenRulesTests
{
    private const string AspNetStubs = """

        namespace Microsoft.AspNetCore.Builder { public sealed class WebApplication { public void Run(string? url = null) { } } }
        namespace Microsoft.AspNetCore.Server.Kestrel.Core { public sealed class KestrelServerOptions { public void ListenAnyIP(int port) { } } }
        """;

    [TestMethod]
    [DataRow("MyApp", "uppercase letter 'M'")]
    [DataRow("team//app", "'//'")]
    [DataRow("app_", "ends with '_'")]
    public Task CSDK1009_reports_an_invalid_ContainerRepository_with_the_shared_rule_text(string repository, string fragment) =>
        Verifier<ImageNameAnalyzer>.VerifyAsync("", new Dictionary<string, string> { ["ContainerRepository"] = repository },
            new DiagnosticResult(Descriptors.InvalidRepositoryName).WithNoLocation().WithArguments(repository, Problem(ImageNameRules.ValidateRepository(repository), fragment)));

    [TestMethod]
    public Task CSDK1009_accepts_valid_or_empty_repositories() =>
        Verifier<ImageNameAnalyzer>.VerifyAsync("", new Dictionary<string, string> { ["ContainerRepository"] = "team/my-app.v2", ["ContainerRegistry"] = "" });

    [TestMethod]
    public Task CSDK1010_reports_each_invalid_tag_of_ContainerImageTag_and_ContainerImageTags() =>
        Verifier<ImageNameAnalyzer>.VerifyAsync("",
            new Dictionary<string, string> { ["ContainerImageTag"] = "-bad", ["ContainerImageTagsForAnalyzers"] = "1.0,has space,latest" },
            new DiagnosticResult(Descriptors.InvalidImageTag).WithNoLocation().WithArguments("ContainerImageTag", "-bad", ImageNameRules.ValidateTag("-bad")!),
            new DiagnosticResult(Descriptors.InvalidImageTag).WithNoLocation().WithArguments("ContainerImageTags", "has space", ImageNameRules.ValidateTag("has space")!));

    [TestMethod]
    [DataRow("https://registry.example.com")]
    [DataRow("registry:70000")]
    [DataRow("myregistry")]
    public Task CSDK1011_reports_an_invalid_ContainerRegistry(string registry) =>
        Verifier<ImageNameAnalyzer>.VerifyAsync("", new Dictionary<string, string> { ["ContainerRegistry"] = registry },
            new DiagnosticResult(Descriptors.InvalidRegistry).WithNoLocation().WithArguments(registry, ImageNameRules.ValidateRegistry(registry)!));

    [TestMethod]
    [DataRow("127.0.0.1:5000")]
    [DataRow("localhost")]
    [DataRow("[::1]:5000")]
    [DataRow("registry.example.com")]
    public Task CSDK1011_accepts_valid_registries(string registry) =>
        Verifier<ImageNameAnalyzer>.VerifyAsync("", new Dictionary<string, string> { ["ContainerRegistry"] = registry });

    [TestMethod]
    public Task CSDK1006_reports_a_port_from_a_ContainerEnvironment_attribute_at_its_value() =>
        Verifier<ListeningPortNotExposedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(8080)]
            [assembly: Containers.Sdk.ContainerEnvironment("ASPNETCORE_HTTP_PORTS", [|"8080;5005"|])]
            [assembly: Containers.Sdk.ContainerEnvironment("ASPNETCORE_URLS", "http://+:8080")]
            """);

    [TestMethod]
    public Task CSDK1006_reports_a_port_from_a_ContainerEnvironmentVariable_item_with_its_name() =>
        Verifier<ListeningPortNotExposedAnalyzer>.VerifyAsync("",
            new Dictionary<string, string>
            {
                ["ContainerPortsForAnalyzers"] = "8080/tcp",
                // As the targets encode it: ';' inside a value is \x3B.
                ["ContainerEnvironmentForAnalyzers"] = @"ASPNETCORE_URLS=http://+:8080\x3Bhttp://+:6000,OTHER=1",
            },
            new DiagnosticResult(Descriptors.ListeningPortNotExposedByEnvironment).WithNoLocation().WithArguments("ContainerEnvironmentVariable 'ASPNETCORE_URLS'", 6000));

    [TestMethod]
    public async Task CSDK1006_fix_on_an_environment_attribute_adds_the_port()
    {
        var test = new CSharpCodeFixTest<ListeningPortNotExposedAnalyzer, ExposeListeningPortCodeFix, DefaultVerifier>
        {
            TestCode = "[assembly: Containers.Sdk.ContainerPort(8080)]\n[assembly: Containers.Sdk.ContainerEnvironment(\"ASPNETCORE_HTTP_PORTS\", [|\"5005\"|])]\n",
            FixedCode = "[assembly: Containers.Sdk.ContainerPort(8080)]\n[assembly: Containers.Sdk.ContainerEnvironment(\"ASPNETCORE_HTTP_PORTS\", \"5005\")]\n[assembly: Containers.Sdk.ContainerPort(5005)]\n",
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            // CSDK1006 has two descriptors (as you type, and at compilation end); markup means the first.
            MarkupOptions = MarkupOptions.UseFirstDescriptor,
        };
        test.TestState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.FixedState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.TestState.AdditionalReferences.AddRange(RuntimeReferences.All);
        test.FixedState.AdditionalReferences.AddRange(RuntimeReferences.All);
        await test.RunAsync(CancellationToken.None);
    }

    [TestMethod]
    public Task CSDK1012_reports_an_exposed_port_nothing_listens_on() =>
        Verifier<ExposedPortNotListenedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(5005)]
            [assembly: Containers.Sdk.ContainerPort([|9999|])]
            [assembly: Containers.Sdk.ContainerPort(53, Protocol = "udp")]
            class App { void Start(Microsoft.AspNetCore.Builder.WebApplication app) => app.Run("http://+:5005"); }
            """ + AspNetStubs,
            new Dictionary<string, string> { ["ContainerPortsForAnalyzers"] = "7000/tcp" },
            new DiagnosticResult(Descriptors.ExposedPortNotListened).WithNoLocation().WithArguments("ContainerPort item", 7000, "5005"));

    [TestMethod]
    public Task CSDK1012_uses_the_base_image_default_8080_when_nothing_is_configured() =>
        Verifier<ExposedPortNotListenedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(8080)]
            [assembly: Containers.Sdk.ContainerPort({|#0:5000|})]
            class App { }
            """ + AspNetStubs,
            msbuildProperties: null,
            new DiagnosticResult(Descriptors.ExposedPortNotListened).WithLocation(0).WithArguments("ContainerPort attribute", 5000, "8080 (the .NET base images' ASPNETCORE_HTTP_PORTS, as nothing else is configured)"));

    [TestMethod]
    public Task CSDK1012_counts_ports_from_the_container_environment_and_is_silent_for_non_web_apps()
    {
        var web = Verifier<ExposedPortNotListenedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(5005)]
            [assembly: Containers.Sdk.ContainerEnvironment("ASPNETCORE_HTTP_PORTS", "5005")]
            class App { }
            """ + AspNetStubs);
        var console = Verifier<ExposedPortNotListenedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(9999)]
            class App { }
            """);
        return Task.WhenAll(web, console);
    }

    [TestMethod]
    [DataRow(@"A=1,B=x\x2Cy\x3Bz\x23w\x3Dv\\u", "A", "1", "B", @"x,y;z#w=v\u")]
    [DataRow(@"ML=l1\x0Al2,E=", "ML", "l1\nl2", "E", "")]
    public void MSBuild_environment_encoding_round_trips(string encoded, string name1, string value1, string name2, string value2)
    {
        var options = new TestGlobalOptions(new Dictionary<string, string> { ["build_property.ContainerEnvironmentForAnalyzers"] = encoded });
        var read = MSBuildEnvironment.Read(options).ToList();
        CollectionAssert.AreEqual(new[] { (name1, value1), (name2, value2) }, read);
    }

    private static string Problem(string? problem, string fragment)
    {
        Assert.IsNotNull(problem);
        Assert.Contains(fragment, problem);
        return problem;
    }

    private sealed class TestGlobalOptions(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
