using System.Collections.Immutable;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1009, CSDK1010, CSDK1011: the image name properties (<c>ContainerRepository</c>,
/// <c>ContainerImageTag</c>/<c>ContainerImageTags</c>, <c>ContainerRegistry</c>) break the distribution
/// spec's grammar. The rules are <see cref="ImageNameRules"/>, the same code the publish tasks run, so
/// the IDE reports exactly what publishing would refuse — and, like publishing, never rewrites a name.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ImageNameAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.InvalidRepositoryName, Descriptors.InvalidImageTag, Descriptors.InvalidRegistry);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            var options = compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
            if (Property(options, "ContainerRepository") is { } repository && ImageNameRules.ValidateRepository(repository) is { } repositoryProblem)
            {
                compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidRepositoryName, Location.None, repository, repositoryProblem));
            }

            if (Property(options, "ContainerImageTag") is { } tag && ImageNameRules.ValidateTag(tag) is { } tagProblem)
            {
                compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidImageTag, Location.None, "ContainerImageTag", tag, tagProblem));
            }

            if (Property(options, "ContainerImageTagsForAnalyzers") is { } tags)
            {
                foreach (var each in tags.Split(','))
                {
                    var trimmed = each.Trim();
                    if (trimmed.Length > 0 && ImageNameRules.ValidateTag(trimmed) is { } problem)
                    {
                        compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidImageTag, Location.None, "ContainerImageTags", trimmed, problem));
                    }
                }
            }

            if (Property(options, "ContainerRegistry") is { } registry && ImageNameRules.ValidateRegistry(registry) is { } registryProblem)
            {
                compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.InvalidRegistry, Location.None, registry, registryProblem));
            }
        });
    }

    // Empty means "not set" (the tasks infer a default); surrounding spaces are the project file's layout, not the name.
    private static string? Property(AnalyzerConfigOptions options, string name) =>
        options.TryGetValue("build_property." + name, out var value) && value.Trim().Length > 0 ? value.Trim() : null;
}
