namespace Containers.Shared;

/// <summary>
/// Finding a command-line tool the way a shell does, by its name in the directories of PATH. Linked into the
/// projects that start tools (the image library's credential helpers and local engines, the runtime host, the MSBuild
/// tasks, the test support) so they all look alike.
/// </summary>
internal static class PathSearch
{
    /// <summary>The full path of <paramref name="tool"/> in the first PATH directory that has it, or null.</summary>
    public static string? FindOnPath(string tool) =>
        FindIn(Environment.GetEnvironmentVariable("PATH") ?? "", tool);

    /// <summary>
    /// The full path of <paramref name="tool"/> in the first of <paramref name="searchPath"/>'s directories (separated
    /// as in PATH) that has it, or null.
    /// </summary>
    public static string? FindIn(string searchPath, string tool) =>
        searchPath
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(directory => Extensions.Select(extension => Path.Combine(directory, tool + extension)))
            .FirstOrDefault(File.Exists);

    // On Windows a tool is found by its name with the executable extensions too (docker-credential-wincred.exe).
    private static readonly string[] Extensions = OperatingSystem.IsWindows() ? [".exe", ".cmd", ".bat", ""] : [""];
}
