using System.Collections.Generic;
using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1003: the same port and protocol declared twice — by two <c>ContainerPort</c> attributes (reported at
/// the later one) or by two <c>ContainerPort</c> items (reported with no location). An item and an attribute
/// naming the same port are not reported: the settings merge keeps one, by design (docs/analyzers.md).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DuplicatePortAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.DuplicatePort);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            var seen = new HashSet<(int Port, string Protocol)>();
            foreach (var attribute in AssemblyAttributes.OfType(compilation.Compilation, ContainerAttributesSource.PortAttribute))
            {
                if (!AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out int port))
                {
                    continue;
                }

                var protocol = AssemblyAttributes.NamedString(attribute, "Protocol", "tcp") ?? "tcp";
                if (!seen.Add((port, protocol)))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.DuplicatePort, AssemblyAttributes.ConstructorArgumentLocation(attribute, 0), port, protocol));
                }
            }

            var items = new HashSet<(int Port, string Protocol)>();
            foreach (var (text, protocol) in MSBuildPorts.Read(compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions))
            {
                if (ContainerValueRules.TryParsePort(text, out var port) && !items.Add((port, protocol)))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.DuplicatePort, Location.None, port, protocol));
                }
            }
        });
    }
}
