namespace Containers.TestSupport;

/// <summary>
/// A temporary local NuGet feed that a test run packs the repository's packages into, once per run, with a private
/// NuGet package folder beside it, so a package re-packed with the same version is never served stale from the
/// machine's global package cache. Containers.Sdk.Tests packs Containers.Sdk and Containers.Testing into one;
/// Containers.Cli.Tests packs the <c>dotnet container</c> tool.
/// </summary>
public sealed class LocalPackageFeed : IDisposable
{
    private LocalPackageFeed(string root)
    {
        Root = root;
        Directory.CreateDirectory(FeedDirectory);
        Directory.CreateDirectory(PackagesDirectory);
    }

    /// <summary>The repository root (where Containers.Sdk.sln is).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The temporary directory holding the feed, the package folder and anything else of the run.</summary>
    public string Root { get; }

    /// <summary>The folder holding the packed .nupkg files.</summary>
    public string FeedDirectory => Path.Combine(Root, "feed");

    /// <summary>NUGET_PACKAGES for every dotnet command that consumes the feed.</summary>
    public string PackagesDirectory => Path.Combine(Root, "packages");

    /// <summary>Makes an empty feed in a new temporary directory whose name starts with <paramref name="prefix"/>.</summary>
    public static LocalPackageFeed Create(string prefix) => new(Directory.CreateTempSubdirectory(prefix).FullName);

    /// <summary>
    /// Packs <paramref name="project"/> (relative to the repository root) in Release into the feed and returns the version
    /// of <paramref name="packageId"/> it wrote.
    /// </summary>
    /// <param name="project">The project file, e.g. <c>src/Containers.Cli/Containers.Cli.csproj</c>.</param>
    /// <param name="packageId">The package it makes.</param>
    /// <param name="environment">
    /// The environment of <c>dotnet pack</c>. Packing restores the repository's own projects: give it the machine's
    /// package folder (not <see cref="PackagesDirectory"/>), or their obj/project.assets.json would point into a folder
    /// this run deletes, and a test project built after it would fail with NETSDK1127.
    /// </param>
    /// <param name="cancellationToken">Cancels the pack.</param>
    public async Task<string> PackAsync(string project, string packageId, IDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        await TestTools.RunCheckedAsync(
            "dotnet",
            ["pack", Path.Combine(RepositoryRoot, project), "-c", "Release", "-o", FeedDirectory, "-nodeReuse:false", "-v:q", "-nologo"],
            RepositoryRoot,
            environment,
            cancellationToken);
        var package = Directory.GetFiles(FeedDirectory, packageId + ".*.nupkg")
            .Single(file => char.IsAsciiDigit(Path.GetFileName(file)[(packageId.Length + 1)..][0]));
        return Path.GetFileNameWithoutExtension(package)[(packageId.Length + 1)..];
    }

    /// <summary>Deletes the feed, the package folder and everything else under <see cref="Root"/>.</summary>
    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Containers.Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Containers.Sdk.sln above {AppContext.BaseDirectory}.");
    }
}
