namespace Containers.Cli.Tests;

/// <summary>
/// The <c>dotnet container</c> tool as a user installs it, once per test run: Containers.Cli packed into a
/// <see cref="LocalPackageFeed"/> and installed from it with <c>dotnet tool install --tool-path</c>.
/// </summary>
[TestClass]
public static class CliTool
{
    private static LocalPackageFeed? s_feed;

    /// <summary>The installed command, <c>&lt;tool path&gt;/dotnet-container</c>.</summary>
    public static string Command { get; private set; } = "";

    /// <summary>The <c>--tool-path</c> it is installed in.</summary>
    public static string ToolPath { get; private set; } = "";

    /// <summary>The package version installed.</summary>
    public static string Version { get; private set; } = "";

    private static LocalPackageFeed Feed => s_feed ?? throw new InvalidOperationException("The tool is installed in AssemblyInitialize.");

    /// <summary>Packs and installs the tool.</summary>
    [AssemblyInitialize]
    public static async Task InstallAsync(TestContext context)
    {
        s_feed = LocalPackageFeed.Create("containers-cli-tests-");

        // Packing restores the repository's projects: with the machine's package folder (see LocalPackageFeed.PackAsync).
        var packEnvironment = Quiet();
        Version = await s_feed.PackAsync("src/Containers.Cli/Containers.Cli.csproj", "Containers.Cli", packEnvironment, context.CancellationToken);

        // The sample's image is built with the package of this tree (WebApiImage).
        await s_feed.PackAsync("src/Containers.Sdk/Containers.Sdk.csproj", "Containers.Sdk", packEnvironment, context.CancellationToken);
        var toolPath = Path.Combine(s_feed.Root, "tool");
        var installEnvironment = Quiet();
        installEnvironment["NUGET_PACKAGES"] = s_feed.PackagesDirectory;
        await TestTools.RunCheckedAsync(
            "dotnet",
            ["tool", "install", "--tool-path", toolPath, "--add-source", s_feed.FeedDirectory, "Containers.Cli", "--version", Version],
            s_feed.Root,
            installEnvironment,
            context.CancellationToken);
        ToolPath = toolPath;
        Command = Path.Combine(toolPath, "dotnet-container");
        context.WriteLine($"installed Containers.Cli {Version} at {Command}");
    }

    /// <summary>The feed (Containers.Cli and Containers.Sdk).</summary>
    public static LocalPackageFeed PackageFeed => Feed;

    /// <summary>The state directory every test's tool invocations share (a private one: CONTAINERS_CLI_STATE_DIRECTORY).</summary>
    public static string StateDirectory => Path.Combine(Feed.Root, "state");

    /// <summary>The environment of the tool's invocations: the run's own state directory.</summary>
    public static Dictionary<string, string> Environment => new() { ["CONTAINERS_CLI_STATE_DIRECTORY"] = StateDirectory };

    /// <summary>Stops the sample's registry, deletes the feed, the installed tool and the state directory.</summary>
    [AssemblyCleanup]
    public static async Task CleanupAsync()
    {
        await WebApiImage.DisposeAsync();
        s_feed?.Dispose();
    }

    /// <summary>A new empty directory under this run's temporary root.</summary>
    public static string NewWorkDirectory(string name) =>
        Directory.CreateDirectory(Path.Combine(Feed.Root, "work", $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)])).FullName;

    /// <summary>Runs the installed tool with <paramref name="arguments"/> (with <see cref="Environment"/>) and waits for it.</summary>
    public static Task<ToolResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        TestTools.RunAsync(Command, arguments, Feed.Root, Environment, cancellationToken);

    /// <summary>Like <see cref="RunAsync"/>; fails the test with the tool's output when it does not exit with 0.</summary>
    public static async Task<ToolResult> RunCheckedAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var argumentList = arguments.ToList();
        var result = await RunAsync(argumentList, cancellationToken);
        Assert.AreEqual(0, result.ExitCode, $"dotnet-container {string.Join(' ', argumentList)}: {result.StandardOutput}{result.StandardError}");
        return result;
    }

    /// <summary>Quiet dotnet commands: no telemetry, banners or node reuse.</summary>
    public static Dictionary<string, string> Quiet() => new()
    {
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        ["DOTNET_CLI_UI_LANGUAGE"] = "en",
    };
}
