using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1005: <c>[assembly: ContainerUser("root")]</c> or uid 0, analyzed per attribute syntax node (a local
/// diagnostic), so the IDE reports it as you type and offers the code fix; and the <c>ContainerUser</c> MSBuild
/// property, reported once for the compilation with no location (the message names the property).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContainerUserIsRootAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The MSBuild property checked (exposed with CompilerVisibleProperty).</summary>
    public const string PropertyName = "ContainerUser";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ContainerUserIsRoot, Descriptors.ContainerUserIsRootByProperty);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            if (compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue("build_property." + PropertyName, out var user)
                && ContainerValueRules.IsRootUser(user.Trim()))
            {
                compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.ContainerUserIsRootByProperty, Location.None, user.Trim()));
            }
        });
        context.RegisterCompilationStartAction(static start =>
        {
            var userAttribute = start.Compilation.GetTypeByMetadataName(ContainerAttributesSource.UserAttribute);
            if (userAttribute is null)
            {
                return;
            }

            start.RegisterSyntaxNodeAction(node => AnalyzeAttribute(node, userAttribute), SyntaxKind.Attribute);
        });
    }

    private static void AnalyzeAttribute(SyntaxNodeAnalysisContext context, INamedTypeSymbol userAttribute)
    {
        var attribute = (AttributeSyntax)context.Node;
        if (attribute.Parent is not AttributeListSyntax { Target: { } target } || !target.Identifier.IsKind(SyntaxKind.AssemblyKeyword)
            || attribute.ArgumentList is not { Arguments.Count: > 0 } arguments)
        {
            return;
        }

        var constructor = context.SemanticModel.GetSymbolInfo(attribute, context.CancellationToken).Symbol;
        if (!SymbolEqualityComparer.Default.Equals(constructor?.ContainingType, userAttribute))
        {
            return;
        }

        var userArgument = arguments.Arguments[0].Expression;
        if (context.SemanticModel.GetConstantValue(userArgument, context.CancellationToken).Value is string user && ContainerValueRules.IsRootUser(user))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.ContainerUserIsRoot, userArgument.GetLocation(), user));
        }
    }
}
