using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>CSDK1005: <c>[assembly: ContainerUser("root")]</c> or uid 0.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContainerUserIsRootAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ContainerUserIsRoot);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            foreach (var attribute in AssemblyAttributes.OfType(compilation.Compilation, ContainerAttributesSource.UserAttribute))
            {
                if (AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out string? user) && ContainerValueRules.IsRootUser(user))
                {
                    compilation.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.ContainerUserIsRoot, AssemblyAttributes.ConstructorArgumentLocation(attribute, 0), user));
                }
            }
        });
    }
}
