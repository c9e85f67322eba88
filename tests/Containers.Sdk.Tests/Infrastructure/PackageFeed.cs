using Containers.TestSupport;

namespace Containers.Sdk.Tests.Infrastructure;

/// <summary>
/// The freshly packed Containers.Sdk package, once per test run: a local feed folder holding the
/// .nupkg and a private NuGet package folder, so a package re-packed with the same version is never
/// served stale from the machine's global package cache.
/// </summary>
[TestClass]
public static class PackageFeed
{
    private static LocalPackageFeed? s_feed;

    /// <summary>The folder holding Containers.Sdk.&lt;version&gt;.nupkg.</summary>
    public static string FeedDirectory => Feed.FeedDirectory;

    /// <summary>NUGET_PACKAGES for every dotnet command the tests run.</summary>
    public static string PackagesDirectory => Feed.PackagesDirectory;

    /// <summary>The layer cache the tests' publishes share (per run, so runs never see each other's layers).</summary>
    public static string LayerCacheDirectory => Path.Combine(Root, "layer-cache");

    /// <summary>The repository root (where Containers.Sdk.sln is).</summary>
    public static string RepositoryRoot => LocalPackageFeed.RepositoryRoot;

    /// <summary>The package version packed (from Directory.Build.props).</summary>
    public static string PackageVersion { get; private set; } = "";

    /// <summary>How long packing took.</summary>
    public static TimeSpan PackDuration { get; private set; }

    private static LocalPackageFeed Feed => s_feed ?? throw new InvalidOperationException("The package feed is made in AssemblyInitialize.");

    private static string Root => Feed.Root;

    /// <summary>Packs src/Containers.Sdk into a new temporary feed.</summary>
    [AssemblyInitialize]
    public static async Task PackAsync(TestContext context)
    {
        s_feed = LocalPackageFeed.Create("containers-sdk-tests-");
        var started = System.Diagnostics.Stopwatch.StartNew();
        PackageVersion = await s_feed.PackAsync("src/Containers.Sdk/Containers.Sdk.csproj", "Containers.Sdk", PackEnvironment(), context.CancellationToken);
        await s_feed.PackAsync("src/Containers.Testing/Containers.Testing.csproj", "Containers.Testing", PackEnvironment(), context.CancellationToken);
        PackDuration = started.Elapsed;
        context.WriteLine($"packed Containers.Sdk {PackageVersion} in {PackDuration.TotalSeconds:F1} s");
    }

    // Packing restores the repository's own projects: with the run's private package folder their
    // obj/project.assets.json would point into it, and a test project built after this run deleted it (the
    // solution's test projects build and run in parallel) would fail with NETSDK1127. They keep the machine's
    // package folder, as in the solution build; only the projects the tests generate use the private one.
    private static IDictionary<string, string> PackEnvironment() => DotnetEnvironment.WithMachinePackageFolder();

    /// <summary>Deletes the feed, the package folder and every generated project.</summary>
    [AssemblyCleanup]
    public static void Cleanup() => s_feed?.Dispose();

    /// <summary>A new empty directory under this run's temporary root (outside the repository).</summary>
    public static string NewWorkDirectory(string name) =>
        Directory.CreateDirectory(Path.Combine(Root, "work", $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)])).FullName;
}
