using System.Collections.Immutable;
using System.Text;
using Containers.Sdk.Analyzers.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
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

        // One ForAttributeWithMetadataName per attribute, as System.Text.Json's generator does: the compiler finds the files
        // that apply it (by name, before binding) and reads them again only when they change, so an edit elsewhere
        // leaves this step cached. The assembly's attributes target the compilation unit.
        var fromAttributes = Attributes(context, ContainerAttributesSource.PortAttribute)
            .Combine(Attributes(context, ContainerAttributesSource.EnvironmentAttribute))
            .Combine(Attributes(context, ContainerAttributesSource.LabelAttribute))
            .Combine(Attributes(context, ContainerAttributesSource.UserAttribute))
            .Combine(Attributes(context, ContainerAttributesSource.WorkingDirectoryAttribute))
            .Combine(Attributes(context, ContainerAttributesSource.HealthCheckAttribute))
            .Select(static (all, _) => Parser.Combine(
                all.Left.Left.Left.Left.Left, all.Left.Left.Left.Left.Right, all.Left.Left.Left.Right, all.Left.Left.Right, all.Left.Right, all.Right));

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

    /// <summary>The settings declared by one kind of assembly attribute, per file that applies it, in file order.</summary>
    private static IncrementalValueProvider<ImmutableArray<ContainerConfigModel>> Attributes(IncrementalGeneratorInitializationContext context, string metadataName) =>
        context.SyntaxProvider
            .ForAttributeWithMetadataName(
                metadataName,
                static (node, _) => node is CompilationUnitSyntax,
                static (attributes, cancellationToken) => Parser.ParseAttributes(attributes.Attributes, cancellationToken))
            .WithTrackingName(AttributesStep)
            .Collect();
}
