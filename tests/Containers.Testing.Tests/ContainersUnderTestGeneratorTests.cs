using System.Collections.Immutable;
using System.Reflection;
using Containers.Testing.Generators;
using Containers.Testing.Manifest;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Containers.Testing.Tests;

/// <summary>
/// <see cref="ContainersUnderTestGenerator"/>: the <c>ContainersUnderTest</c> class it emits from the manifest the
/// package's build writes compiles against Containers.Testing, carries every item's settings into real handles, names
/// each container safely, builds the graph of all of them, and is not regenerated when nothing changed.
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
    public void No_manifest_or_an_empty_one_generates_nothing()
    {
        var (_, sources, _) = Run(null);
        var (_, blank, _) = Run("# nothing\n");

        Assert.IsEmpty(sources);
        Assert.IsEmpty(blank);
    }

    [TestMethod]
    public void Each_app_gets_a_typed_handle_pointing_at_its_layout_and_All_keeps_item_order()
    {
        var (output, sources, assembly) = Run(Manifest(App("WebApi", "/work/tests/obj/containers/WebApi/"), App("Worker", "/work/tests/obj/containers/Worker/")), withUsage: true);

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
    public void Dependencies_and_every_setting_reach_the_handles_and_the_graph_holds_all_of_them()
    {
        var app = App("TodoApi", "/obj/containers/TodoApi/")
            .Add("env", "ConnectionStrings__Db=Host=db;Password=\"quoted\"\tand tab")
            .Add("env", "EMPTY=")
            .Add("dependsOn", "db").Add("dependsOn", "cache:started")
            .Add("alias", "api").Add("network", "front").Add("network", "back")
            .Add("port", "8080").Add("wait", "http:/healthz").Add("command", "--urls").Add("command", "http://+:8080")
            .Add("timeout", "90.5");
        var db = new TestContainerManifestEntry(TestContainerManifest.Dependency, "db").Add("image", "postgres:15").Add("wait", "tcp:5432").Add("env", "POSTGRES_PASSWORD=secret");
        var cache = new TestContainerManifestEntry(TestContainerManifest.Dependency, "redis-cache").Add("image", "oci:/images:redis-7");
        var graph = new TestContainerManifestEntry(TestContainerManifest.Graph, "todoapi.smoketests").Add("reuse", "true").Add("reuseIdleTimeout", "90");

        var (_, sources, assembly) = Run(Manifest(app, db, cache, graph), withUsage: true);

        var type = assembly!.GetType("ContainersUnderTest")!;
        var todo = (ContainerUnderTest)type.GetProperty("TodoApi")!.GetValue(null)!;
        CollectionAssert.AreEqual(new Dictionary<string, string> { ["ConnectionStrings__Db"] = "Host=db;Password=\"quoted\"\tand tab", ["EMPTY"] = "" }, todo.Environment.ToDictionary());
        CollectionAssert.AreEqual(new[] { "db", "cache:started" }, todo.DependsOn.ToArray());
        CollectionAssert.AreEqual(new[] { "api" }, todo.Aliases.ToArray());
        CollectionAssert.AreEqual(new[] { "front", "back" }, todo.Networks.ToArray());
        CollectionAssert.AreEqual(new[] { 8080 }, todo.Ports.ToArray());
        CollectionAssert.AreEqual(new[] { "http:/healthz" }, todo.Waits.ToArray());
        CollectionAssert.AreEqual(new[] { "--urls", "http://+:8080" }, todo.Command.ToArray());
        Assert.AreEqual(TimeSpan.FromSeconds(90.5), todo.StartupTimeout);

        var postgres = (ContainerDependency)type.GetProperty("Db")!.GetValue(null)!;
        Assert.AreEqual("postgres:15", postgres.ImageReference);
        Assert.AreEqual("secret", postgres.Environment["POSTGRES_PASSWORD"]);
        var redis = (ContainerDependency)type.GetProperty("RedisCache")!.GetValue(null)!;
        Assert.AreEqual("redis-cache", redis.Name, "the property reads like a .NET name; the handle keeps the item's");

        var all = (TestContainerGraph)type.GetProperty("Graph")!.GetValue(null)!;
        Assert.AreEqual("todoapi.smoketests", all.Name);
        Assert.IsTrue(all.Reuse);
        Assert.AreEqual(TimeSpan.FromSeconds(90), all.ReuseIdleTimeout);
        CollectionAssert.AreEqual(new TestContainer[] { todo, postgres, redis }, all.Members.ToArray(), "the graph holds the same handles, in item order");
        StringAssert.Contains(sources["ContainersUnderTest.g.cs"], "public static global::Containers.Testing.TestContainerGraph Graph { get; }");
    }

    [TestMethod]
    public void Names_that_are_not_identifiers_are_made_into_distinct_ones()
    {
        var (output, sources, _) = Run(Manifest(App("Web-Api", "/a"), App("WebApi", "/b"), App("2Fast", "/c"), App("Web.Api", "/d"), App("All", "/e")));

        var source = sources["ContainersUnderTest.g.cs"];
        var properties = output.GetTypeByMetadataName("ContainersUnderTest")!.GetMembers().OfType<IPropertySymbol>().Select(p => p.Name).ToArray();
        CollectionAssert.AreEquivalent(new[] { "WebApi", "WebApi_", "_2Fast", "WebApi__", "All_", "All" }, properties);
        StringAssert.Contains(source, "new(\"Web-Api\", \"/a\", \"test\")", "the handle keeps the app's real name");
    }

    [TestMethod]
    public void An_unchanged_manifest_is_not_read_or_emitted_again()
    {
        var compilation = Compile(TestCode);
        var driver = CreateDriver(Manifest(App("WebApi", "/layouts/web"))).RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Other { }", new CSharpParseOptions(LanguageVersion.Latest))));

        var steps = driver.GetRunResult().Results.Single().TrackedSteps[ContainersUnderTestGenerator.ReadStep];
        Assert.IsTrue(steps.SelectMany(step => step.Outputs).All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), "a code edit does not re-run the container list");
        var outputSteps = driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs);
        Assert.IsTrue(outputSteps.All(o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
    }

    [TestMethod]
    public void The_manifest_format_round_trips_tabs_line_breaks_and_backslashes()
    {
        var entry = new TestContainerManifestEntry("app", "a\tb").Add("env", "X=1\n2\\3\r").Add("k=ey", "v=alue");

        var read = TestContainerManifest.Read(TestContainerManifest.Write([entry])).Single();

        Assert.AreEqual("a\tb", read.Name);
        Assert.AreEqual("X=1\n2\\3\r", read.First("env"));
        Assert.AreEqual("ey=v=alue", read.First("k"), "a key holds no '=': the first one ends it");
    }

    private static TestContainerManifestEntry App(string name, string layout) =>
        new TestContainerManifestEntry(TestContainerManifest.App, name).Add("layout", layout).Add("tag", "test");

    private static string Manifest(params TestContainerManifestEntry[] entries) => TestContainerManifest.Write(entries);

    private static (Compilation Output, IReadOnlyDictionary<string, string> Sources, Assembly? Loaded) Run(string? manifest, bool withUsage = false)
    {
        var driver = CreateDriver(manifest).RunGeneratorsAndUpdateCompilation(Compile(withUsage ? TestCode : "public static class Empty { }"), out var output, out var generatorDiagnostics);
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

    private static GeneratorDriver CreateDriver(string? manifest) =>
        CSharpGeneratorDriver.Create(
            [new ContainersUnderTestGenerator().AsSourceGenerator()],
            additionalTexts: manifest is null ? [] : [new ManifestText("/work/tests/obj/Release/net10.0/" + TestContainerManifest.FileName, manifest), new ManifestText("/work/tests/other.txt", "not a manifest")],
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
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

    private sealed class ManifestText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }
}
