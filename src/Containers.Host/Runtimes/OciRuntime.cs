using System.Diagnostics;
using System.Text.Json.Nodes;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;

namespace Containers.Host.Runtimes;

/// <summary>An OCI runtime command line (runc, crun, youki): the subcommands every one of them implements, on a <see cref="Bundle"/>.</summary>
/// <param name="name">The runtime's name.</param>
/// <param name="executable">Its path.</param>
/// <param name="stateRoot">Its state directory.</param>
/// <param name="rootless">Not root: the bundle maps the caller to the container's root and shares the host's network.</param>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class OciRuntime(string name, string executable, string stateRoot, bool rootless = false) : IContainerRuntime
{
    public string Name { get; } = name;

    public string Executable { get; } = executable;

    /// <summary>The runtime's state directory (<c>--root</c>), private to the host so reaping sees only our containers.</summary>
    public string StateRoot { get; } = stateRoot;

    /// <summary>The runtimes on PATH in the order they are tried; CONTAINERS_HOST_OCI_RUNTIMES (comma-separated names) overrides it.</summary>
    public static IReadOnlyList<(string Name, string Path)> Candidates()
    {
        var names = System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_OCI_RUNTIMES") is { Length: > 0 } configured
            ? configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["runc", "crun", "youki"];
        var found = new List<(string, string)>();
        foreach (var name in names)
        {
            if (HostTools.FindOnPath(name) is { } path)
            {
                found.Add((name, path));
            }
        }

        return found;
    }

    public async Task PrepareAsync(ContainerLaunch launch, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(StateRoot);
        await Bundle.PrepareAsync(launch, rootless, cancellationToken).ConfigureAwait(false);
    }

    public Process StartRun(ContainerLaunch launch, string pidFile)
    {
        var start = Start(["run", "--bundle", launch.Directory.Path, "--pid-file", pidFile, launch.Id]);
        return Process.Start(start) ?? throw new IOException($"Could not start {Executable}.");
    }

    public Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken) =>
        Bundle.PublishPortsAsync(container, launch, rootless, cancellationToken);

    public Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken) =>
        RunAsync(["kill", id, signal], cancellationToken);

    public Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken) =>
        RunAsync(["delete", "--force", id], cancellationToken);

    /// <summary>The ids of the containers in this runtime's state root.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(StateRoot))
        {
            return [];
        }

        var (code, output) = await RunAsync(["list", "--format", "json"], cancellationToken).ConfigureAwait(false);
        // The output holds stderr too: runc warns there about a container being created or deleted by another
        // process as it lists (level=warning msg=...). The JSON is the one line that is an array.
        var json = code == 0 ? output.Split('\n').Select(line => line.Trim()).FirstOrDefault(line => line.StartsWith('[')) : null;
        if (json is null)
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(json) is JsonArray list
                ? list.Select(entry => (string?)entry?["id"]).OfType<string>().ToList()
                : [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }

    // Every subcommand gets the host's private state root.
    private ProcessStartInfo Start(IEnumerable<string> arguments) => HostTools.StartInfo(Executable, ["--root", StateRoot, .. arguments]);

    private Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        HostTools.RunAsync(Executable, ["--root", StateRoot, .. arguments], cancellationToken);
}
