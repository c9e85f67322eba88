using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>CSDK1002: <c>[assembly: ContainerPort(n, Protocol = "...")]</c> or a <c>ContainerPort</c> item whose Type is not tcp or udp.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnknownPortProtocolAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.UnknownPortProtocol);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            foreach (var attribute in AssemblyAttributes.OfType(compilation.Compilation, ContainerAttributesSource.PortAttribute))
            {
                var protocol = AssemblyAttributes.NamedString(attribute, "Protocol", "tcp");
                if (!ContainerValueRules.IsKnownProtocol(protocol))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.UnknownPortProtocol, AssemblyAttributes.NamedArgumentLocation(attribute, "Protocol"), "ContainerPort attribute", protocol ?? "null"));
                }
            }

            foreach (var (_, protocol) in MSBuildPorts.Read(compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions))
            {
                if (!ContainerValueRules.IsKnownProtocol(protocol))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.UnknownPortProtocol, Location.None, "ContainerPort item Type", protocol));
                }
            }
        });
    }
}
