using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Containers.Sdk.Analyzers.Generators;

/// <summary>
/// Adds the container attributes to the compilation, then emits the internal <c>ContainerSettings</c> class (MSBuild settings merged with the assembly's
/// container attributes) and <c>[assembly: AssemblyMetadata("Containers.Sdk.Config", json)]</c>
/// holding the settings declared in code, which the publish tasks read from the built assembly.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class ContainerSettingsGenerator : IIncrementalGenerator
{
    /// <summary>Tracking name of the step that reads the assembly attributes.</summary>
    public const string AttributesStep = "ContainerAttributes";

    /// <summary>Tracking name of the step that reads the MSBuild properties.</summary>
    public const string MSBuildStep = "ContainerMSBuildSettings";

    /// <summary>Tracking name of the step that merges both.</summary>
    public const string MergedStep = "ContainerSettingsMerged";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // The attributes come from this generator's post-initialization output, which (unlike another
        // generator's output) is part of the compilation this generator reads.
        context.RegisterPostInitializationOutput(static output =>
            output.AddSource(ContainerAttributesSource.HintName, SourceText.From(ContainerAttributesSource.Text, Encoding.UTF8)));

        var fromAttributes = context.CompilationProvider
            .Select(static (compilation, cancellationToken) => Parser.ParseAttributes(compilation, cancellationToken))
            .WithTrackingName(AttributesStep);

        var fromMSBuild = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => Parser.ParseMSBuild(options.GlobalOptions))
            .WithTrackingName(MSBuildStep);

        var merged = fromAttributes.Combine(fromMSBuild)
            .Select(static (pair, _) => (Code: pair.Left, Merged: Parser.Merge(pair.Left, pair.Right)))
            .WithTrackingName(MergedStep);

        context.RegisterSourceOutput(merged, static (output, settings) =>
        {
            output.AddSource(Emitter.SettingsHintName, Emitter.EmitSettingsClass(settings.Merged));
            output.AddSource(Emitter.MetadataHintName, Emitter.EmitAssemblyMetadata(settings.Code));
        });
    }
}
