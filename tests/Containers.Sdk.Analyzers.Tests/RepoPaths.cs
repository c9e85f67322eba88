namespace Containers.Sdk.Analyzers.Tests;

/// <summary>Finds the repository root (the directory holding Containers.Sdk.sln) above the test output.</summary>
internal static class RepoPaths
{
    public static readonly string Root = Find();

    private static string Find()
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
