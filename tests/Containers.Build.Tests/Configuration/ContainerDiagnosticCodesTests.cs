using System.Reflection;
using Containers.Build.Configuration;

namespace Containers.Build.Tests.Configuration;

[TestClass]
public sealed class ContainerDiagnosticCodesTests
{
    [TestMethod]
    public void Every_code_is_in_the_table_once_and_in_the_settings_range()
    {
        var declared = typeof(ContainerDiagnosticCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(ContainerDiagnosticCode))
            .Select(f => (ContainerDiagnosticCode)f.GetValue(null)!)
            .ToArray();

        CollectionAssert.AreEquivalent(declared, ContainerDiagnosticCodes.All.ToArray());
        Assert.HasCount(ContainerDiagnosticCodes.All.Count, ContainerDiagnosticCodes.All.Select(c => c.Code).Distinct());
        foreach (var code in ContainerDiagnosticCodes.All)
        {
            Assert.MatchesRegex("^CONTAINER70[0-9][0-9]$", code.Code);
        }
    }

    [TestMethod]
    public void Every_code_is_documented_with_its_severity()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "properties.md"));

        foreach (var code in ContainerDiagnosticCodes.All)
        {
            Assert.Contains($"| {code.Code} | {code.Severity.ToString().ToLowerInvariant()} |", docs, $"{code.Code} ({code.Title}) is missing from docs/properties.md");
        }
    }

    [TestMethod]
    public void A_target_framework_version_that_is_not_a_version_is_an_error()
    {
        var error = TestProjects.SingleError(new ContainerSettings { ContainerBaseImage = "base:1" }, TestProjects.Console("netten"));

        Assert.AreEqual(ContainerDiagnosticCodes.InvalidTargetFramework.Code, error.Code);
        Assert.Contains("TargetFrameworkVersion 'netten'", error.Message);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Containers.Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Containers.Sdk.sln not found above " + AppContext.BaseDirectory);
    }
}
