using Containers.Sdk.Analyzers.CodeFixes;
using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Rules;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

[TestClass]
public sealed class ListeningPortRuleTests
{
    // Minimal stand-ins with the ASP.NET Core names and shapes the rule looks for.
    private const string AspNetStubs = """

        namespace Microsoft.AspNetCore.Builder { public sealed class WebApplication { public void Run(string? url = null) { } } }
        namespace Microsoft.AspNetCore.Hosting
        {
            public interface IWebHostBuilder { }
            public static class HostingAbstractionsWebHostBuilderExtensions { public static IWebHostBuilder UseUrls(this IWebHostBuilder builder, params string[] urls) => builder; }
        }
        namespace Microsoft.AspNetCore.Server.Kestrel.Core
        {
            public sealed class KestrelServerOptions
            {
                public void ListenAnyIP(int port) { }
                public void ListenLocalhost(int port) { }
                public void Listen(System.Net.IPAddress address, int port) { }
            }
        }
        """;

    [TestMethod]
    public Task CSDK1006_reports_each_listen_call_on_an_unexposed_port() =>
        Verifier<ListeningPortNotExposedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(8080)]
            class App
            {
                void Start(Microsoft.AspNetCore.Builder.WebApplication app, Microsoft.AspNetCore.Hosting.IWebHostBuilder web, Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
                {
                    app.Run([|"http://+:5005"|]);
                    Microsoft.AspNetCore.Hosting.HostingAbstractionsWebHostBuilderExtensions.UseUrls(web, "http://*:8080", [|"https://localhost:7001/"|]);
                    kestrel.ListenAnyIP([|5006|]);
                    kestrel.ListenLocalhost([|5007|]);
                    kestrel.Listen(System.Net.IPAddress.Any, [|5008|]);
                }
            }
            """ + AspNetStubs);

    [TestMethod]
    public Task CSDK1006_accepts_exposed_ports_from_attributes_and_items_and_urls_without_port() =>
        Verifier<ListeningPortNotExposedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(8080)]
            class App
            {
                void Start(Microsoft.AspNetCore.Builder.WebApplication app, Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
                {
                    app.Run("http://+:8080");
                    app.Run("http://localhost");
                    kestrel.ListenAnyIP(9090);
                }
            }
            """ + AspNetStubs, new Dictionary<string, string> { ["ContainerPortsForAnalyzers"] = "9090/tcp" });

    [TestMethod]
    public Task CSDK1006_is_silent_when_no_port_is_declared() =>
        Verifier<ListeningPortNotExposedAnalyzer>.VerifyAsync("""
            class App { void Start(Microsoft.AspNetCore.Builder.WebApplication app) => app.Run("http://+:5005"); }
            """ + AspNetStubs);

    [TestMethod]
    [DataRow("70000/tcp")]
    [DataRow("http/tcp,0/")]
    public Task CSDK1006_is_reported_when_the_declared_ports_are_all_invalid(string joined) =>
        // CSDK1001 reports the bad item; the listen mismatch is a separate finding and must not wait for that fix.
        Verifier<ListeningPortNotExposedAnalyzer>.VerifyAsync("""
            class App { void Start(Microsoft.AspNetCore.Builder.WebApplication app) => app.Run([|"http://0.0.0.0:5005"|]); }
            """ + AspNetStubs, new Dictionary<string, string> { ["ContainerPortsForAnalyzers"] = joined });

    [TestMethod]
    [DataRow("http://+:5005", 5005)]
    [DataRow("https://[::1]:7001/path", 7001)]
    [DataRow("http://localhost:80", 80)]
    public void Url_port_is_read(string url, int expected)
    {
        Assert.IsTrue(ListeningPortNotExposedAnalyzer.TryGetUrlPort(url, out var port));
        Assert.AreEqual(expected, port);
    }

    [TestMethod]
    [DataRow("http://localhost")]
    [DataRow("http://[::1]")]
    [DataRow("localhost:5005")]
    public void Url_without_explicit_port_is_skipped(string url) =>
        Assert.IsFalse(ListeningPortNotExposedAnalyzer.TryGetUrlPort(url, out _));

    [TestMethod]
    public async Task CSDK1006_fix_adds_the_container_port_attribute()
    {
        var test = new CSharpCodeFixTest<ListeningPortNotExposedAnalyzer, ExposeListeningPortCodeFix, DefaultVerifier>
        {
            TestCode = "[assembly: Containers.Sdk.ContainerPort(8080)]\nclass App { void Start(Microsoft.AspNetCore.Builder.WebApplication app) => app.Run([|\"http://+:5005\"|]); }\n" + AspNetStubs,
            FixedCode = "[assembly: Containers.Sdk.ContainerPort(8080)]\n[assembly: Containers.Sdk.ContainerPort(5005)]\nclass App { void Start(Microsoft.AspNetCore.Builder.WebApplication app) => app.Run(\"http://+:5005\"); }\n" + AspNetStubs,
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
}
