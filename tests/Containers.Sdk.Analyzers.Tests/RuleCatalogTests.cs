using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Tests;

/// <summary>Every rule has a unique ID, a docs page its help link points at, and a release-tracking entry.</summary>
[TestClass]
public sealed class RuleCatalogTests
{
    private static readonly string RepoRoot = RepoPaths.Root;

    private static IReadOnlyList<DiagnosticDescriptor> AllDescriptors() =>
        typeof(Descriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.FieldType == typeof(DiagnosticDescriptor))
            .Select(field => (DiagnosticDescriptor)field.GetValue(null)!)
            .ToList();

    private static IReadOnlyList<string> AllRuleIds() =>
        typeof(RuleIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral)
            .Select(field => (string)field.GetRawConstantValue()!)
            .ToList();

    [TestMethod]
    public void Rule_ids_are_unique_and_every_rule_has_descriptors_that_agree()
    {
        var ids = AllRuleIds();
        Assert.AreEqual(ids.Count, ids.Distinct(StringComparer.Ordinal).Count(), "a rule ID is repeated in RuleIds");
        CollectionAssert.AreEquivalent(ids.ToList(), AllDescriptors().Select(d => d.Id).Distinct(StringComparer.Ordinal).ToList());

        // A rule may have a second descriptor only to be reported from a compilation-end action (CSDK1006 for
        // ports named by the environment); it must then be the same rule to the user.
        foreach (var group in AllDescriptors().GroupBy(d => d.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            Assert.AreEqual(1, group.Select(d => (d.Title.ToString(), d.DefaultSeverity, d.IsEnabledByDefault, d.HelpLinkUri, d.Category)).Distinct().Count(), $"the descriptors of {group.Key} differ in title, severity, help link or category");
        }
    }

    [TestMethod]
    public void Every_rule_has_a_docs_page_with_the_required_sections_and_its_help_link_points_at_it()
    {
        foreach (var descriptor in AllDescriptors())
        {
            var page = Path.Combine(RepoRoot, "docs", "rules", descriptor.Id + ".md");
            Assert.IsTrue(File.Exists(page), $"{descriptor.Id} has no docs/rules/{descriptor.Id}.md");
            var text = File.ReadAllText(page);
            foreach (var section in new[] { "## Cause", "## How to fix", "## How to suppress", "### Wrong", "### Right" })
            {
                Assert.Contains(section, text, $"{descriptor.Id}.md lacks '{section}'");
            }

            Assert.EndsWith("docs/rules/" + descriptor.Id + ".md", descriptor.HelpLinkUri);
        }
    }

    [TestMethod]
    public void Every_rule_is_tracked_in_unshipped_releases_with_its_severity()
    {
        var unshipped = File.ReadAllLines(Path.Combine(RepoRoot, "src", "Containers.Sdk.Analyzers", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in AllDescriptors())
        {
            var row = unshipped.SingleOrDefault(line => line.StartsWith(descriptor.Id + " ", StringComparison.Ordinal));
            Assert.IsNotNull(row, $"{descriptor.Id} is missing from AnalyzerReleases.Unshipped.md");
            // Release tracking writes "Disabled" for rules that are off by default.
            Assert.Contains("| " + (descriptor.IsEnabledByDefault ? descriptor.DefaultSeverity.ToString() : "Disabled") + " |", row);
        }
    }

    [TestMethod]
    public void Every_descriptor_is_supported_by_exactly_one_analyzer()
    {
        var analyzers = typeof(Descriptors).Assembly.GetTypes()
            .Where(type => typeof(DiagnosticAnalyzer).IsAssignableFrom(type) && !type.IsAbstract)
            .Select(type => (DiagnosticAnalyzer)Activator.CreateInstance(type)!)
            .ToList();
        foreach (var descriptor in AllDescriptors())
        {
            Assert.AreEqual(1, analyzers.Count(analyzer => analyzer.SupportedDiagnostics.Any(d => d.Id == descriptor.Id)), descriptor.Id);
        }
    }
}
