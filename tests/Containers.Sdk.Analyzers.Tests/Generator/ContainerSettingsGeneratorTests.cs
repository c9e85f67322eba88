using System.Collections;
using System.Reflection;
using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Containers.Sdk.Analyzers.Tests.Generator;

[TestClass]
public sealed class ContainerSettingsGeneratorTests
{
    private const string FullApp = """
        using Containers.Sdk;

        [assembly: ContainerPort(8080)]
        [assembly: ContainerPort(53, Protocol = "udp")]
        [assembly: ContainerEnvironment("ASPNETCORE_HTTP_PORTS", "8080")]
        [assembly: ContainerEnvironment("GREETING", "say \"hi\"\\n")]
        [assembly: ContainerLabel("org.opencontainers.image.source", "https://example.test/app")]
        [assembly: ContainerUser("app")]
        [assembly: ContainerWorkingDirectory("/srv/app")]
        [assembly: ContainerHealthCheck("/healthz", Port = 8080, IntervalSeconds = 10)]

        public static class Program
        {
            public static int Port => ContainerSettings.Ports[0].Port;
            public static bool InContainer => ContainerSettings.IsRunningInContainer;
        }
        """;

    private static readonly Dictionary<string, string> MSBuild = new()
    {
        ["ContainerRepository"] = "team/app",
        ["ContainerImageTagsForAnalyzers"] = "1.0,latest",
        ["ContainerUser"] = "1000",
        ["ContainerPortsForAnalyzers"] = "9090/tcp,8080/tcp",
        // Encoded as the targets encode it: ',' and ';' inside a value are \x2C and \x3B.
        ["ContainerEnvironmentForAnalyzers"] = @"GREETING=from MSBuild,CONNECTION=a\x3Bb\x2Cc",
    };

    [TestMethod]
    [DataRow("attributes-only", false)]
    [DataRow("attributes-and-msbuild", true)]
    [DataRow("empty", false)]
    public void Generated_sources_match_baselines(string name, bool withMSBuild)
    {
        var source = name == "empty" ? "public static class Program { }" : FullApp;
        var (_, _, sources) = GeneratorHarness.Run(source, withMSBuild ? MSBuild : null);
        Baselines.AssertMatches(name, sources);
    }

    [TestMethod]
    public void Embedded_config_holds_only_code_settings_and_msbuild_wins_in_the_settings_class()
    {
        var (_, _, sources) = GeneratorHarness.Run(FullApp, MSBuild);
        Assert.Contains("\\\"user\\\":\\\"app\\\"", sources[ContainerSettingsGenerator.Emitter.MetadataHintName]);
        Assert.Contains("User => \"1000\"", sources[ContainerSettingsGenerator.Emitter.SettingsHintName]);
        Assert.Contains("new ExposedPort(9090, \"tcp\"), new ExposedPort(8080, \"tcp\"), new ExposedPort(53, \"udp\")", sources[ContainerSettingsGenerator.Emitter.SettingsHintName]);
        // An item overrides the attribute of the same name; item values are decoded.
        Assert.Contains("[\"GREETING\"] = \"from MSBuild\"", sources[ContainerSettingsGenerator.Emitter.SettingsHintName]);
        Assert.Contains("[\"CONNECTION\"] = \"a;b,c\"", sources[ContainerSettingsGenerator.Emitter.SettingsHintName]);
        Assert.DoesNotContain("CONNECTION", sources[ContainerSettingsGenerator.Emitter.MetadataHintName]);
    }

    [TestMethod]
    public void Registry_repository_and_tags_leave_the_generated_sources_unchanged()
    {
        // Where an image goes is not what is in it: compiled into the app, a new tag, repository or registry would give
        // a new app layer and a new image digest for the same code.
        var (_, _, sources) = GeneratorHarness.Run(FullApp, MSBuild);
        var elsewhere = new Dictionary<string, string>(MSBuild)
        {
            ["ContainerImageTagsForAnalyzers"] = "2.0,stable",
            ["ContainerImageTag"] = "nightly",
            ["ContainerRegistry"] = "registry.example:5000",
            ["ContainerRepository"] = "other-team/app",
        };
        var (_, _, retagged) = GeneratorHarness.Run(FullApp, elsewhere);

        CollectionAssert.AreEquivalent(sources.Keys.ToList(), retagged.Keys.ToList());
        foreach (var (hintName, text) in sources)
        {
            Assert.AreEqual(text, retagged[hintName], hintName);
        }
    }

    [TestMethod]
    public void Second_run_on_the_same_input_reports_tracked_steps_cached_or_unchanged()
    {
        var compilation = GeneratorHarness.Compile(FullApp);
        var driver = GeneratorHarness.CreateDriver(MSBuild).RunGenerators(compilation);
        // A new but equal compilation (as after an edit elsewhere that does not touch container settings).
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class Unrelated { }")));
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (var stepName in new[] { ContainerSettingsGenerator.AttributesStep, ContainerSettingsGenerator.MSBuildStep, ContainerSettingsGenerator.MergedStep })
        {
            Assert.IsTrue(steps.ContainsKey(stepName), stepName + " is not tracked");
            Assert.IsNotEmpty(steps[stepName].SelectMany(step => step.Outputs), stepName + " has no outputs");
            foreach (var output in steps[stepName].SelectMany(step => step.Outputs))
            {
                Assert.IsTrue(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{stepName}: {output.Reason}");
            }
        }
    }

    [TestMethod]
    public void Attribute_step_reads_only_the_files_found_by_attribute_name_and_caches_after_an_unrelated_edit()
    {
        // ForAttributeWithMetadataName: the compiler's syntactic search finds the files that apply the attributes and is
        // reused for unchanged files; only their attributes are bound again (Unchanged), never the whole compilation's,
        // and what follows stays Cached. A step fed by CompilationProvider would take the compilation as its input.
        var compilation = GeneratorHarness.Compile(FullApp);
        var driver = GeneratorHarness.CreateDriver(MSBuild).RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class Unrelated { void M() { } }")));
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;

        var attributeSteps = steps[ContainerSettingsGenerator.AttributesStep];
        Assert.HasCount(6, attributeSteps, "one step per attribute kind");
        Assert.IsFalse(
            attributeSteps.SelectMany(step => step.Inputs).Any(input => input.Source.Name == WellKnownGeneratorInputs.Compilation),
            "the attribute step is not computed from the whole compilation");
        var outputs = attributeSteps.SelectMany(step => step.Outputs).ToList();
        Assert.IsNotEmpty(outputs);
        Assert.IsTrue(outputs.All(output => output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), string.Join(", ", outputs.Select(output => output.Reason)));
        Assert.AreEqual(IncrementalStepRunReason.Cached, steps[ContainerSettingsGenerator.MergedStep].Single().Outputs.Single().Reason);
    }

    [TestMethod]
    public void Changing_an_attribute_changes_the_merged_step()
    {
        var compilation = GeneratorHarness.Compile(FullApp);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        driver = driver.RunGenerators(GeneratorHarness.Compile(FullApp.Replace("ContainerUser(\"app\")", "ContainerUser(\"1001\")", StringComparison.Ordinal)));
        var merged = driver.GetRunResult().Results.Single().TrackedSteps[ContainerSettingsGenerator.MergedStep];
        Assert.AreEqual(IncrementalStepRunReason.Modified, merged.Single().Outputs.Single().Reason);
    }

    [TestMethod]
    public void Model_holds_no_symbols_syntax_or_compilation()
    {
        var forbidden = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Compilation), typeof(SemanticModel), typeof(SyntaxTree), typeof(Location) };
        var visited = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(ContainerConfigModel)]);
        while (pending.Count > 0)
        {
            var type = pending.Pop();
            if (type.IsPrimitive || type == typeof(string) || !visited.Add(type))
            {
                continue;
            }

            Assert.IsFalse(forbidden.Any(f => f.IsAssignableFrom(type)), $"{type} is in the generator model");
            if (type.IsArray)
            {
                pending.Push(type.GetElementType()!);
                continue;
            }

            Assert.IsFalse(type == typeof(object) || (typeof(IEnumerable).IsAssignableFrom(type) && !type.IsGenericType && type != typeof(string)), $"{type} could hold anything");
            foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
            {
                pending.Push(argument);
            }

            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                pending.Push(Nullable.GetUnderlyingType(field.FieldType) ?? field.FieldType);
            }
        }

        CollectionAssert.Contains(visited.ToList(), typeof(PortModel));
        CollectionAssert.Contains(visited.ToList(), typeof(HealthCheckModel));
    }
}
