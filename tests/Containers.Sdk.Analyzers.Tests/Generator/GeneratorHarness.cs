using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Containers.Sdk.Analyzers.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Tests.Generator;

/// <summary>Runs <see cref="ContainerSettingsGenerator"/> on source text and MSBuild properties, with step tracking on.</summary>
internal static class GeneratorHarness
{
    public static CSharpCompilation Compile(string source) =>
        CSharpCompilation.Create(
            "App",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            RuntimeReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(IReadOnlyDictionary<string, string>? msbuildProperties = null) =>
        CSharpGeneratorDriver.Create(
            [new ContainerSettingsGenerator().AsSourceGenerator()],
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            optionsProvider: new MSBuildOptionsProvider(msbuildProperties ?? new Dictionary<string, string>()),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator, asserts the output compiles without warnings, and returns the generated sources by hint name.</summary>
    public static (GeneratorDriver Driver, Compilation Output, IReadOnlyDictionary<string, string> Sources) Run(string source, IReadOnlyDictionary<string, string>? msbuildProperties = null)
    {
        var driver = CreateDriver(msbuildProperties).RunGeneratorsAndUpdateCompilation(Compile(source), out var output, out var generatorDiagnostics);
        Assert.IsEmpty(generatorDiagnostics);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.IsEmpty(problems, string.Join("\n", problems));
        var sources = driver.GetRunResult().Results.Single().GeneratedSources
            .ToDictionary(generated => generated.HintName, generated => generated.SourceText.ToString(), StringComparer.Ordinal);
        return (driver, output, sources);
    }

    private sealed class MSBuildOptionsProvider(IReadOnlyDictionary<string, string> properties) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(properties.ToImmutableDictionary(pair => "build_property." + pair.Key, pair => pair.Value));

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;
    }

    private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(ImmutableDictionary<string, string>.Empty);

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
