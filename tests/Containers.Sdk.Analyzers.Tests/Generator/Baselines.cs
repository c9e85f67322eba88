namespace Containers.Sdk.Analyzers.Tests.Generator;

/// <summary>
/// Compares generated sources with checked-in files under Generator/Baselines/&lt;case&gt;/.
/// Set CONTAINERS_SDK_UPDATE_BASELINES=1 to rewrite them from the current output.
/// </summary>
internal static class Baselines
{
    public static void AssertMatches(string caseName, IReadOnlyDictionary<string, string> sources)
    {
        var directory = Path.Combine(RepoPaths.Root, "tests", "Containers.Sdk.Analyzers.Tests", "Generator", "Baselines", caseName);
        if (Environment.GetEnvironmentVariable("CONTAINERS_SDK_UPDATE_BASELINES") == "1")
        {
            Directory.CreateDirectory(directory);
            foreach (var file in Directory.GetFiles(directory))
            {
                File.Delete(file);
            }

            foreach (var (hintName, text) in sources)
            {
                File.WriteAllText(Path.Combine(directory, hintName), text.ReplaceLineEndings("\n"));
            }
        }

        var expected = Directory.Exists(directory) ? Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList() : [];
        CollectionAssert.AreEqual(expected, sources.Keys.Order(StringComparer.Ordinal).ToList(), $"generated files differ from {directory} (set CONTAINERS_SDK_UPDATE_BASELINES=1 to update)");
        foreach (var (hintName, text) in sources)
        {
            Assert.AreEqual(File.ReadAllText(Path.Combine(directory, hintName)), text.ReplaceLineEndings("\n"), $"{caseName}/{hintName} differs from its baseline (set CONTAINERS_SDK_UPDATE_BASELINES=1 to update)");
        }
    }
}
