using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Containers.Testing.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Testing.Tests;

/// <summary>
/// <see cref="ContainersUnderTestGenerator"/>: the <c>ContainersUnderTest</c> class it emits from the
/// <c>ContainersUnderTestForGenerator</c> property (as Containers.Testing's targets encode it) compiles against
/// Containers.Testing, names each app safely, and is not regenerated when nothing changed.
/// </summary>
[TestClass]
public sealed class ContainersUnderTestGeneratorTests
{
    private const string TestCode = """
        using System.Linq;
        public static class Uses
        {
            public static string[] Names => ContainersUnderTest.All.Select(app => app.Name + "|" + app.LayoutDirectory + "|" + app.Tag).ToArray();
        }
        """;

    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    [TestMethod]
    public void No_ContainerUnderTest_items_generate_nothing()
    {
        var (_, sources, _) = Run(null);
        var (_, blank, _) = Run("  ");

        Assert.IsEmpty(sources);
        Assert.IsEmpty(blank);
    }

    [TestMethod]
    public void Each_app_gets_a_typed_handle_pointing_at_its_layout_and_All_keeps_item_order()
    {
        var (output, sources, assembly) = Run(@"WebApi=/work/tests/obj/containers/WebApi/,Worker=/work/tests/obj/containers/Worker/", withUsage: true);

        var source = sources["ContainersUnderTest.g.cs"];
        StringAssert.Contains(source, "public static global::Containers.Testing.ContainerUnderTest WebApi { get; }");
        StringAssert.Contains(source, "public static global::Containers.Testing.ContainerUnderTest Worker { get; }");
        var names = (string[])assembly!.GetType("Uses")!.GetProperty("Names")!.GetValue(null)!;
        CollectionAssert.AreEqual(
            new[] { "WebApi|/work/tests/obj/containers/WebApi/|test", "Worker|/work/tests/obj/containers/Worker/|test" },
            names,
            "the generated handles are real ContainerUnderTest objects with the layout the targets build into");
        Assert.IsNotNull(output.GetTypeByMetadataName("ContainersUnderTest"));
    }

    [TestMethod]
    public void Escaped_names_and_paths_are_decoded_and_emitted_as_valid_literals()
    {
        // The targets escape ',' '=' and '\' as \x2C, \x3D and \\ so they survive the property encoding.
        var (_, _, assembly) = Run(@"My\x2CApp=/tmp/a\x3Db/with ""quotes"" and \\backslash/,App2=C:\\layouts\\app2", withUsage: true);

        var names = (string[])assembly!.GetType("Uses")!.GetProperty("Names")!.GetValue(null)!;
        CollectionAssert.AreEqual(
            new[] { "My,App|/tmp/a=b/with \"quotes\" and \\backslash/|test", @"App2|C:\layouts\app2|test" },
            names);
    }

    [TestMethod]
    public void Names_that_are_not_identifiers_are_made_into_distinct_ones()
    {
        var (output, sources, _) = Run("Web-Api=/a,Web_Api=/b,2Fast=/c,Web.Api=/d");

        var source = sources["ContainersUnderTest.g.cs"];
        var properties = output.GetTypeByMetadataName("ContainersUnderTest")!.GetMembers().OfType<IPropertySymbol>().Select(p => p.Name).ToArray();
        CollectionAssert.AreEquivalent(new[] { "Web_Api", "Web_Api_", "_2Fast", "Web_Api__", "All" }, properties);
        StringAssert.Contains(source, "new(\"Web-Api\", \"/a\")", "the handle keeps the app's real name");
    }

    [TestMethod]
    public void An_unchanged_property_is_not_read_or_emitted_again()
    {
        var compilation = Compile(TestCode);
        var driver = CreateDriver("WebApi=/layouts/web").RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Other { }", new CSharpParseOptions(LanguageVersion.Latest))));

        var steps = driver.GetRunResult().Results.Single().TrackedSteps[ContainersUnderTestGenerator.ReadStep];
        Assert.IsTrue(steps.SelectMany(step => step.Outputs).All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), "a code edit does not re-run the app list");
        var outputSteps = driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs);
        Assert.IsTrue(outputSteps.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
    }

    private static (Compilation Output, IReadOnlyDictionary<string, string> Sources, Assembly? Loaded) Run(string? property, bool withUsage = false)
    {
        var driver = CreateDriver(property).RunGeneratorsAndUpdateCompilation(Compile(withUsage ? TestCode : "public static class Empty { }"), out var output, out var generatorDiagnostics);
        Assert.IsEmpty(generatorDiagnostics);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.IsEmpty(problems, string.Join("\n", problems));
        var sources = driver.GetRunResult().Results.Single().GeneratedSources.ToDictionary(g => g.HintName, g => g.SourceText.ToString(), StringComparer.Ordinal);
        Assembly? loaded = null;
        if (withUsage)
        {
            using var stream = new MemoryStream();
            var emitted = output.Emit(stream);
            Assert.IsTrue(emitted.Success, string.Join("\n", emitted.Diagnostics));
            loaded = Assembly.Load(stream.ToArray());
        }

        return (output, sources, loaded);
    }

    private static CSharpCompilation Compile(string source) =>
        CSharpCompilation.Create(
            "TestProject" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static GeneratorDriver CreateDriver(string? property) =>
        CSharpGeneratorDriver.Create(
            [new ContainersUnderTestGenerator().AsSourceGenerator()],
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            optionsProvider: new OptionsProvider(property is null
                ? ImmutableDictionary<string, string>.Empty
                : ImmutableDictionary<string, string>.Empty.Add("build_property." + ContainersUnderTestGenerator.PropertyName, property)),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    // The runtime's own assemblies plus Containers.Testing and what its public API names.
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var testing = typeof(ContainerUnderTest).Assembly;
        var dependencies = testing.GetReferencedAssemblies()
            .Select(name => Path.Combine(AppContext.BaseDirectory, name.Name + ".dll"))
            .Where(File.Exists);
        return platform.Concat([testing.Location]).Concat(dependencies)
            .Distinct(StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }

    private sealed class OptionsProvider(ImmutableDictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;
    }

    private sealed class Options(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(ImmutableDictionary<string, string>.Empty);

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
