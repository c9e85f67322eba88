using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Containers.Sdk.Analyzers.CodeFixes;

/// <summary>CSDK1005: replaces the root user in <c>[assembly: ContainerUser(...)]</c> with <c>"app"</c>, the .NET base images' non-root user.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseNonRootUserCodeFix))]
[Shared]
public sealed class UseNonRootUserCodeFix : CodeFixProvider
{
    /// <summary>The user the fix writes.</summary>
    public const string NonRootUser = "app";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIds.ContainerUserIsRoot);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not LiteralExpressionSyntax literal
            || !literal.IsKind(SyntaxKind.StringLiteralExpression))
        {
            return;
        }

        context.RegisterCodeFix(
            CodeAction.Create(
                "Run as the non-root user \"app\"",
                cancellationToken => ReplaceAsync(context.Document, literal, cancellationToken),
                equivalenceKey: nameof(UseNonRootUserCodeFix)),
            context.Diagnostics);
    }

    private static async Task<Document> ReplaceAsync(Document document, LiteralExpressionSyntax literal, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var replacement = SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(NonRootUser))
            .WithTriviaFrom(literal);
        return document.WithSyntaxRoot(root!.ReplaceNode(literal, replacement));
    }
}
