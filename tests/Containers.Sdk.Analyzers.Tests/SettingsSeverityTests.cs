using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

/// <summary>
/// A bad container setting only matters when an image is published, so the settings rules are warnings:
/// `dotnet build`, `dotnet run` and `dotnet test` go on, the publish tasks refuse the same value with their
/// CONTAINER70xx error, and the usual switches (TreatWarningsAsErrors, .editorconfig severities) make them errors.
/// </summary>
[TestClass]
public sealed class SettingsSeverityTests
{
    [TestMethod]
    public void Settings_rules_are_warnings_by_default()
    {
        foreach (var descriptor in new[]
        {
            Descriptors.PortOutOfRange, Descriptors.UnknownPortProtocol, Descriptors.InvalidEnvironmentVariableName,
            Descriptors.InvalidRepositoryName, Descriptors.InvalidImageTag, Descriptors.InvalidRegistry,
        })
        {
            Assert.AreEqual(DiagnosticSeverity.Warning, descriptor.DefaultSeverity, descriptor.Id);
            Assert.IsTrue(descriptor.IsEnabledByDefault, descriptor.Id);
        }
    }

    [TestMethod]
    public void Each_settings_rule_names_the_publish_error_that_refuses_the_same_value()
    {
        var pairs = new (DiagnosticDescriptor Rule, Containers.Build.Configuration.ContainerDiagnosticCode Publish)[]
        {
            (Descriptors.PortOutOfRange, Containers.Build.Configuration.ContainerDiagnosticCodes.InvalidPortNumber),
            (Descriptors.UnknownPortProtocol, Containers.Build.Configuration.ContainerDiagnosticCodes.InvalidPortType),
            (Descriptors.InvalidEnvironmentVariableName, Containers.Build.Configuration.ContainerDiagnosticCodes.InvalidEnvironmentVariableName),
            (Descriptors.InvalidRepositoryName, Containers.Build.Configuration.ContainerDiagnosticCodes.InvalidRepository),
            (Descriptors.InvalidImageTag, Containers.Build.Configuration.ContainerDiagnosticCodes.InvalidTag),
            (Descriptors.InvalidRegistry, Containers.Build.Configuration.ContainerDiagnosticCodes.InvalidRegistry),
        };
        foreach (var (rule, publish) in pairs)
        {
            Assert.AreEqual(Containers.Build.Configuration.ContainerDiagnosticSeverity.Error, publish.Severity, publish.Code);
            Assert.EndsWith($"Publishing fails on it ({publish.Code}).", rule.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), rule.Id);
        }
    }

    [TestMethod]
    public Task An_invalid_repository_is_a_warning() =>
        RunAsync();

    // TreatWarningsAsErrors and .editorconfig severities are the compiler's to apply (the end-to-end test builds with
    // TreatWarningsAsErrors=true); here the rule's own verdict: a warning, with the publish code in its message.
    private static async Task RunAsync()
    {
        var test = new CSharpAnalyzerTest<ImageNameAnalyzer, DefaultVerifier>
        {
            TestCode = "",
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.TestState.AdditionalReferences.AddRange(RuntimeReferences.All);
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.ContainerRepository = My_App\n"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(Descriptors.InvalidRepositoryName).WithNoLocation().WithSeverity(DiagnosticSeverity.Warning)
            .WithArguments("My_App", "repository 'My_App' contains uppercase letter 'M'; repository names must be lowercase."));
        await test.RunAsync(CancellationToken.None);
    }
}
