using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>CSDK1002: <c>[assembly: ContainerPort(n, Protocol = "...")]</c> with a protocol other than tcp or udp.</summary>
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
                        Descriptors.UnknownPortProtocol, AssemblyAttributes.NamedArgumentLocation(attribute, "Protocol"), protocol ?? "null"));
                }
            }
        });
    }
}
