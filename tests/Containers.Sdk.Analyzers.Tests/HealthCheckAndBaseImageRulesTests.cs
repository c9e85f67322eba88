using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Rules;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

[TestClass]
public sealed class HealthCheckAndBaseImageRulesTests
{
    private const string RoutingStubs = """

        namespace Microsoft.AspNetCore.Builder
        {
            public sealed class WebApplication
            {
                public void MapGet(string pattern, System.Delegate handler) { }
                public void MapHealthChecks(string pattern) { }
            }
        }
        """;

    [TestMethod]
    public Task CSDK1007_reports_health_check_path_no_endpoint_maps() =>
        Verifier<HealthCheckPathNotMappedAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerHealthCheck([|"/healthz"|], Port = 8080)]
            class App { void Map(Microsoft.AspNetCore.Builder.WebApplication app) => app.MapGet("/", () => "hi"); }
            """ + RoutingStubs);

    [TestMethod]
    [DataRow("app.MapHealthChecks(\"/healthz\")")]
    [DataRow("app.MapGet(\"/healthz/\", () => \"ok\")")]
    [DataRow("app.MapGet(Route, () => \"ok\")")]
    public Task CSDK1007_accepts_mapped_or_possibly_mapped_path(string call) =>
        Verifier<HealthCheckPathNotMappedAnalyzer>.VerifyAsync($$"""
            [assembly: Containers.Sdk.ContainerHealthCheck("/healthz")]
            class App
            {
                static string Route = "/x";
                void Map(Microsoft.AspNetCore.Builder.WebApplication app) => {{call}};
            }
            """ + RoutingStubs);

    [TestMethod]
    [DataRow("mcr.microsoft.com/dotnet/aspnet:10.0", true)]
    [DataRow("registry.test/base:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [DataRow("", false)]
    public async Task CSDK1008_reports_unpinned_base_image_when_enabled(string image, bool expected)
    {
        var test = new CSharpAnalyzerTest<BaseImageNotPinnedAnalyzer, DefaultVerifier>
        {
            TestCode = "class App { }",
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.TestState.AdditionalReferences.AddRange(RuntimeReferences.All);
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig",
            $"is_global = true\nbuild_property.ContainerBaseImage = {image}\ndotnet_diagnostic.CSDK1008.severity = suggestion\n"));
        if (expected)
        {
            test.ExpectedDiagnostics.Add(new DiagnosticResult(Descriptors.BaseImageNotPinned).WithNoLocation().WithArguments(image));
        }

        await test.RunAsync(CancellationToken.None);
    }

    // The test framework reports disabled-by-default rules too, so "off by default" is checked on the descriptor.
    [TestMethod]
    public void CSDK1008_is_off_by_default_and_informational()
    {
        Assert.IsFalse(Descriptors.BaseImageNotPinned.IsEnabledByDefault);
        Assert.AreEqual(Microsoft.CodeAnalysis.DiagnosticSeverity.Info, Descriptors.BaseImageNotPinned.DefaultSeverity);
    }
}
