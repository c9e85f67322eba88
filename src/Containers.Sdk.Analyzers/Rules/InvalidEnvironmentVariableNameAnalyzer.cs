using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1004: <c>[assembly: ContainerEnvironment("name", "value")]</c> or a <c>ContainerEnvironmentVariable</c>
/// item with a name that is not a portable variable name.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InvalidEnvironmentVariableNameAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.InvalidEnvironmentVariableName);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            foreach (var attribute in AssemblyAttributes.OfType(compilation.Compilation, ContainerAttributesSource.EnvironmentAttribute))
            {
                AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out string? name);
                if (!ContainerValueRules.IsValidEnvironmentVariableName(name))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.InvalidEnvironmentVariableName, AssemblyAttributes.ConstructorArgumentLocation(attribute, 0), "ContainerEnvironment attribute", name ?? "null"));
                }
            }

            foreach (var (name, _) in MSBuildEnvironment.Read(compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions))
            {
                if (!ContainerValueRules.IsValidEnvironmentVariableName(name))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidEnvironmentVariableName, Location.None, "ContainerEnvironmentVariable item", name));
                }
            }
        });
    }
}
