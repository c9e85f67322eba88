using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Containers.Sdk.Analyzers.CodeFixes;

/// <summary>CSDK1006: adds <c>[assembly: Containers.Sdk.ContainerPort(N)]</c> for the port the app listens on.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ExposeListeningPortCodeFix))]
[Shared]
public sealed class ExposeListeningPortCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(RuleIds.ListeningPortNotExposed);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue("Port", out var portText)
                || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Expose port {port} with [assembly: ContainerPort({port})]",
                    cancellationToken => AddAttributeAsync(context.Document, port, cancellationToken),
                    equivalenceKey: nameof(ExposeListeningPortCodeFix) + port.ToString(CultureInfo.InvariantCulture)),
                diagnostic);
        }

        return Task.CompletedTask;
    }

    private static async Task<Document> AddAttributeAsync(Document document, int port, CancellationToken cancellationToken)
    {
        var root = (CompilationUnitSyntax)(await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var attributeList = SyntaxFactory.ParseCompilationUnit(
                "[assembly: Containers.Sdk.ContainerPort(" + port.ToString(CultureInfo.InvariantCulture) + ")]" + System.Environment.NewLine)
            .AttributeLists[0];
        return document.WithSyntaxRoot(root.WithAttributeLists(root.AttributeLists.Add(attributeList)));
    }
}
