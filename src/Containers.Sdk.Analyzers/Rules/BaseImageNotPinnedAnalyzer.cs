using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>CSDK1008 (off by default): the ContainerBaseImage property names a tag, not a digest.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BaseImageNotPinnedAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The MSBuild property checked (exposed with CompilerVisibleProperty).</summary>
    public const string PropertyName = "ContainerBaseImage";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.BaseImageNotPinned);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationAction(static compilation =>
        {
            if (compilation.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue("build_property." + PropertyName, out var image)
                && image.Trim().Length > 0
                && image.IndexOf("@sha256:", StringComparison.Ordinal) < 0
                && image.IndexOf("@sha512:", StringComparison.Ordinal) < 0)
            {
                compilation.ReportDiagnostic(Diagnostic.Create(Descriptors.BaseImageNotPinned, Location.None, image.Trim()));
            }
        });
    }
}
