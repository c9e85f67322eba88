using System.Text.RegularExpressions;
using System.Xml.Linq;
using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// Every MSBuild snippet in README.md and docs/ works as written: a whole project (with the C# block after it) is
/// built and its tests run; a PropertyGroup or ItemGroup for Containers.Sdk is built in a new web app with no warning
/// from us (on a rule's page, docs/rules/, the "Wrong" example is reported with that rule and the "Right" one is not);
/// a Containers.Testing item is the one a sample smoke-test project uses (and those run in SmokeTestTests).
/// A block marked <c>&lt;!-- excerpt --&gt;</c> on the line before it shows someone else's code (the SDK's targets,
/// our own) and is not built.
/// </summary>
public sealed partial class PublishContainerTests
{
    private static readonly string[] TestingItems = ["ContainerUnderTest", "ContainerDependency", "ContainerCompose"];

    [TestMethod]
    public void Docs_snippets_are_found_and_excerpts_are_few()
    {
        var snippets = DocSnippet.ReadAll();
        TestContext.WriteLine(string.Join("\n", snippets.Select(s => $"{s.Location}: {s.Kind}")));
        Assert.IsGreaterThanOrEqualTo(8, snippets.Count(s => s.Kind != DocSnippetKind.Excerpt), "the docs' MSBuild snippets were found");
        Assert.IsLessThanOrEqualTo(3, snippets.Count(s => s.Kind == DocSnippetKind.Excerpt), "excerpts stay the exception: " + string.Join(", ", snippets.Where(s => s.Kind == DocSnippetKind.Excerpt).Select(s => s.Location)));
        foreach (var snippet in snippets.Where(s => s.Kind == DocSnippetKind.NuGetConfig))
        {
            Assert.AreEqual("configuration", XElement.Parse(snippet.Xml).Name.LocalName, snippet.Location);
        }
    }

    [TestMethod]
    public async Task Docs_container_settings_snippets_build_in_a_new_web_app_without_a_warning_of_ours()
    {
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var fragments = DocSnippet.ReadAll().Where(s => s.Kind == DocSnippetKind.SdkFragment).ToList();
        await Parallel.ForEachAsync(fragments, new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = TestContext.CancellationToken }, async (snippet, cancellationToken) =>
        {
            var root = PackageFeed.NewWorkDirectory("doc");
            TestProject.WriteNuGetConfig(root);
            var directory = Directory.CreateDirectory(Path.Combine(root, "DocApp")).FullName;
            var ownReference = snippet.Xml.Contains("\"Containers.Sdk\"", StringComparison.Ordinal)
                ? ""
                : $"""<ItemGroup><PackageReference Include="Containers.Sdk" Version="{PackageFeed.PackageVersion}" /></ItemGroup>""";
            await File.WriteAllTextAsync(Path.Combine(directory, "DocApp.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Web">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  {ownReference}
                {snippet.AsProjectContent()}
                </Project>
                """, cancellationToken);
            // A rule page's own .globalconfig that turns its rule on (CSDK1008 is off by default), as the page says.
            var turnOn = snippet.Rule is null ? null : DocSnippet.RuleConfig(snippet, suppress: false);
            if (turnOn is not null)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, ".globalconfig"), turnOn, cancellationToken);
            }

            await File.WriteAllTextAsync(Path.Combine(directory, "Program.cs"), """
                var app = WebApplication.Create(args);
                app.MapGet("/", () => "hi");
                app.Run();
                """, cancellationToken);

            var build = await TestProject.RunDotnetAsync(["build", directory, "-nologo", "-v:q"], directory, cancellationToken);
            var output = build.StandardOutput + build.StandardError;
            var ours = Regex.Matches(output, @"(warning|error) (CSDK|CONTAINER)\d+[^\r\n]*").Select(m => m.Value).Distinct().ToList();
            if (snippet.IsWrongExample)
            {
                // The page's wrong example is reported with its rule, and nothing else of ours.
                if (!ours.Any(d => d.Contains(" " + snippet.Rule + ":", StringComparison.Ordinal)) || ours.Any(d => !d.Contains(" " + snippet.Rule + ":", StringComparison.Ordinal)))
                {
                    failures.Add($"{snippet.Location} (wrong example): expected {snippet.Rule} alone, got: {string.Join("; ", ours)}\n{snippet.Xml}\n{output}");
                }

                // And the page's way to suppress it (a .globalconfig) does.
                var suppress = DocSnippet.RuleConfig(snippet, suppress: true);
                if (suppress is not null)
                {
                    await File.WriteAllTextAsync(Path.Combine(directory, ".globalconfig"), suppress, cancellationToken);
                    var suppressed = await TestProject.RunDotnetAsync(["build", directory, "-nologo", "-v:q", "--no-incremental"], directory, cancellationToken);
                    if ((suppressed.StandardOutput + suppressed.StandardError).Contains(" " + snippet.Rule + ":", StringComparison.Ordinal))
                    {
                        failures.Add($"{snippet.Location}: the page's .globalconfig does not suppress {snippet.Rule}:\n{suppress}\n{suppressed.StandardOutput}");
                    }
                }
            }
            else if (build.ExitCode != 0 || ours.Count > 0)
            {
                failures.Add($"{snippet.Location}: dotnet build exited {build.ExitCode}{(ours.Count > 0 ? "; " + string.Join("; ", ours) : "")}\n{snippet.Xml}\n{output}");
            }
        });

        Assert.IsEmpty(failures, string.Join("\n\n", failures));
        TestContext.WriteLine($"{fragments.Count} snippets built");
    }

    [TestMethod]
    public void Docs_containers_testing_items_are_the_ones_a_sample_smoke_test_project_uses()
    {
        var sampleItems = Directory.GetFiles(Path.Combine(PackageFeed.RepositoryRoot, "samples"), "*.csproj", SearchOption.AllDirectories)
            .SelectMany(file => XDocument.Load(file).Descendants().Where(e => TestingItems.Contains(e.Name.LocalName)))
            .Select(DocSnippet.Normalize)
            .ToHashSet();
        var checkedItems = 0;
        foreach (var snippet in DocSnippet.ReadAll().Where(s => s.Kind == DocSnippetKind.TestingFragment))
        {
            foreach (var item in XElement.Parse($"<Root>{snippet.Xml}</Root>").Descendants().Where(e => TestingItems.Contains(e.Name.LocalName)))
            {
                Assert.Contains(DocSnippet.Normalize(item), sampleItems, $"{snippet.Location}: {item.Name.LocalName} '{item.Attribute("Include")?.Value}' is written as in a sample's smoke-test project (samples/*.SmokeTests), whose tests run in CI");
                checkedItems++;
            }
        }

        Assert.IsGreaterThanOrEqualTo(4, checkedItems);
    }

    [TestMethod]
    public async Task Docs_whole_test_project_with_its_test_builds_and_passes_as_written()
    {
        RuncRunner.RequireRunc();
        var projects = DocSnippet.ReadAll().Where(s => s.Kind == DocSnippetKind.Project).ToList();
        Assert.IsNotEmpty(projects, "docs/containers-testing.md shows a whole test project");
        foreach (var snippet in projects)
        {
            Assert.IsNotNull(snippet.FollowingCSharp, $"{snippet.Location}: a whole project is followed by its C# code");
            var project = XElement.Parse(snippet.Xml);
            var underTest = project.Descendants("ContainerUnderTest").Select(e => e.Attribute("Include")!.Value).ToList();

            // As a user has it: the app beside the test project (the sample of that name), the test project as written.
            var root = PackageFeed.NewWorkDirectory("doc-project");
            TestProject.WriteNuGetConfig(root);
            foreach (var app in underTest)
            {
                var appName = Path.GetFileNameWithoutExtension(app);
                var appDirectory = Path.Combine(root, appName);
                CopyDirectory(Path.Combine(PackageFeed.RepositoryRoot, "samples", appName), appDirectory);
                File.Copy(Path.Combine(PackageFeed.RepositoryRoot, "samples", "Directory.Build.props"), Path.Combine(appDirectory, "Directory.Build.props"));
                File.Copy(Path.Combine(PackageFeed.RepositoryRoot, "samples", "Directory.Build.targets"), Path.Combine(appDirectory, "Directory.Build.targets"));
            }

            var tests = Directory.CreateDirectory(Path.Combine(root, "DocTests")).FullName;
            await File.WriteAllTextAsync(Path.Combine(tests, "DocTests.csproj"), snippet.Xml, TestContext.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(tests, "DocTests.cs"), snippet.FollowingCSharp, TestContext.CancellationToken);

            var result = await TestProject.RunDotnetAsync(
                ["test", tests, "-nologo", $"-p:ContainersSdkVersion={PackageFeed.PackageVersion}", $"-p:ContainerBaseRegistry={Registry.Host}", "--logger", "console;verbosity=normal"],
                root,
                TestContext.CancellationToken);
            var output = result.StandardOutput + result.StandardError;
            TestContext.WriteLine(output);
            Assert.AreEqual(0, result.ExitCode, $"{snippet.Location}: dotnet test of the project as written\n{output}");
            StringAssert.Matches(output, new Regex(@"Total tests: ([1-9]\d*)\s+Passed: \1\s"), "its tests ran and passed");
        }
    }
}

internal enum DocSnippetKind
{
    /// <summary>A whole project file.</summary>
    Project,

    /// <summary>Properties and items of Containers.Sdk, to go into an app's project.</summary>
    SdkFragment,

    /// <summary>Items of Containers.Testing, to go into a test project.</summary>
    TestingFragment,

    /// <summary>A NuGet.config.</summary>
    NuGetConfig,

    /// <summary>Marked <c>&lt;!-- excerpt --&gt;</c>: part of someone else's file, shown, not built.</summary>
    Excerpt,
}

/// <summary>An <c>```xml</c> block of README.md or docs/*.md.</summary>
internal sealed record DocSnippet(string Location, string Xml, DocSnippetKind Kind, string? FollowingCSharp, string Heading)
{
    /// <summary>On a rule's page (docs/rules/CSDK1001.md), the rule; else null.</summary>
    public string? Rule => Location.StartsWith("docs/rules/", StringComparison.Ordinal) ? Path.GetFileNameWithoutExtension(Location[..Location.LastIndexOf(':')]) : null;

    /// <summary>On a rule's page, the example under "Wrong": it must be reported.</summary>
    public bool IsWrongExample => Rule is not null && Heading.Contains("Wrong", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The snippet as the content of a project: PropertyGroup and ItemGroup as they are; a bare item (an element with
    /// Include) in an ItemGroup, a bare property in a PropertyGroup.
    /// </summary>
    public string AsProjectContent()
    {
        var elements = XElement.Parse($"<Root>{Xml}</Root>").Elements();
        return string.Join("\n", elements.Select(e => e.Name.LocalName is "PropertyGroup" or "ItemGroup" or "Target" or "Import"
            ? e.ToString()
            : e.Attribute("Include") is not null ? $"<ItemGroup>{e}</ItemGroup>" : $"<PropertyGroup>{e}</PropertyGroup>"));
    }

    public static IReadOnlyList<DocSnippet> ReadAll()
    {
        var root = PackageFeed.RepositoryRoot;
        var files = Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Append(Path.Combine(root, "README.md")).Order(StringComparer.Ordinal);
        var snippets = new List<DocSnippet>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Trim() != "```xml")
                {
                    continue;
                }

                var end = Array.FindIndex(lines, i + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
                var xml = string.Join("\n", lines[(i + 1)..end]);
                var excerpt = i > 0 && lines[i - 1].Trim() == "<!-- excerpt -->";
                var location = $"{Path.GetRelativePath(root, file)}:{i + 1}";
                var heading = lines[..i].LastOrDefault(l => l.StartsWith('#')) ?? "";
                snippets.Add(new DocSnippet(location, xml, excerpt ? DocSnippetKind.Excerpt : Classify(xml), FollowingCSharpBlock(lines, end + 1), heading));
                i = end;
            }
        }

        return snippets;
    }

    /// <summary>
    /// On a rule's page, the <c>```ini</c> block (a <c>.globalconfig</c>, <c>is_global = true</c>) that suppresses the rule
    /// (<paramref name="suppress"/>: severity <c>none</c>) or turns it on (another severity); null when the page has none.
    /// </summary>
    public static string? RuleConfig(DocSnippet snippet, bool suppress)
    {
        var file = Path.Combine(PackageFeed.RepositoryRoot, snippet.Location[..snippet.Location.LastIndexOf(':')]);
        var lines = File.ReadAllLines(file);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```ini")
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
            var text = string.Join("\n", lines[(i + 1)..end]) + "\n";
            var severityNone = text.Contains($"dotnet_diagnostic.{snippet.Rule}.severity = none", StringComparison.Ordinal);
            if (text.Contains("is_global = true", StringComparison.Ordinal) && severityNone == suppress)
            {
                return text;
            }

            i = end;
        }

        return null;
    }

    /// <summary>An item as text with comments dropped and whitespace runs made one space, to compare items as written.</summary>
    public static string Normalize(XElement element)
    {
        var copy = new XElement(element);
        copy.DescendantNodes().OfType<XComment>().ToList().ForEach(c => c.Remove());
        return Regex.Replace(copy.ToString(SaveOptions.DisableFormatting), @"\s+", " ").Replace("> <", "><", StringComparison.Ordinal).Trim();
    }

    private static DocSnippetKind Classify(string xml)
    {
        var trimmed = xml.TrimStart();
        if (trimmed.StartsWith("<Project", StringComparison.Ordinal))
        {
            return DocSnippetKind.Project;
        }

        if (trimmed.StartsWith("<configuration", StringComparison.Ordinal))
        {
            return DocSnippetKind.NuGetConfig;
        }

        return Regex.IsMatch(xml, @"<(ContainerUnderTest|ContainerDependency|ContainerCompose)\b") ? DocSnippetKind.TestingFragment : DocSnippetKind.SdkFragment;
    }

    // The ```csharp block that follows a project (after blank lines only), if any.
    private static string? FollowingCSharpBlock(string[] lines, int from)
    {
        var i = from;
        while (i < lines.Length && lines[i].Trim().Length == 0)
        {
            i++;
        }

        if (i >= lines.Length || lines[i].Trim() != "```csharp")
        {
            return null;
        }

        var end = Array.FindIndex(lines, i + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
        return string.Join("\n", lines[(i + 1)..end]);
    }
}
