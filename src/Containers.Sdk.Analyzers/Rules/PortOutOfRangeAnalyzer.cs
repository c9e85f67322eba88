using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>CSDK1001: <c>[assembly: ContainerPort(n)]</c> or a <c>ContainerPort</c> item with a port outside 1 to 65535.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PortOutOfRangeAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.PortOutOfRange);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            foreach (var attribute in AssemblyAttributes.OfType(compilation.Compilation, ContainerAttributesSource.PortAttribute))
            {
                if (AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out int port) && !ContainerValueRules.IsValidPort(port))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.PortOutOfRange, AssemblyAttributes.ConstructorArgumentLocation(attribute, 0), "ContainerPort attribute", port));
                }
            }

            foreach (var (port, _) in MSBuildPorts.Read(compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions))
            {
                if (!ContainerValueRules.TryParsePort(port, out _))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.PortOutOfRange, Location.None, "ContainerPort item", port));
                }
            }
        });
    }
}
