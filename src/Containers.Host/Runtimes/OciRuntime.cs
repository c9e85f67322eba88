using System.Diagnostics;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;

namespace Containers.Host.Runtimes;

/// <summary>An OCI runtime command line (runc, crun, youki): the subcommands every one of them implements, on a <see cref="Bundle"/>.</summary>
/// <param name="name">The runtime's name.</param>
/// <param name="executable">Its path.</param>
/// <param name="stateRoot">Its state directory.</param>
/// <param name="rootless">Not root: the bundle maps the caller to the container's root (and subordinate ids where there are) and joins a private network where one can be made.</param>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class OciRuntime(string name, string executable, string stateRoot, bool rootless = false) : IContainerRuntime
{
    public string Name { get; } = name;

    public bool SupportsReuse => !rootless;

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
        await Bundle.PrepareAsync(launch, rootless, applyLimits: true, cancellationToken).ConfigureAwait(false);
    }

    public Process StartRun(ContainerLaunch launch, string pidFile)
    {
        var start = Start(["run", "--bundle", launch.Directory.Path, "--pid-file", pidFile, launch.Id]);
        return launch.StartProcess(start);
    }

    public async Task<ContainerExecResult> ExecAsync(RunningContainer container, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? user, CancellationToken cancellationToken)
    {
        // runc exec starts from the bundle's process (environment, working directory, capabilities, user); the flags change it.
        var execUser = Bundle.ExecUser(container, user, rootless);
        var pidFile = Path.Combine(container.Directory.Path, "exec-" + Guid.NewGuid().ToString("N")[..8] + ".pid");
        var arguments = new List<string> { "exec", "--pid-file", pidFile, "--user", execUser.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + execUser.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var gid in execUser.AdditionalGids)
        {
            arguments.Add("--additional-gids");
            arguments.Add(gid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var (name, value) in environment)
        {
            arguments.Add("--env");
            arguments.Add(name + "=" + value);
        }

        arguments.Add(container.Id);
        arguments.AddRange(command);
        try
        {
            var (code, stdout, stderr) = await HostTools.RunSeparatelyAsync(Start(arguments), () => KillExecAsync(pidFile), cancellationToken).ConfigureAwait(false);
            return new ContainerExecResult(code, stdout, stderr);
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    public Task<byte[]> ReadFileAsync(RunningContainer container, string path, CancellationToken cancellationToken) =>
        Bundle.ReadFileAsync(container, path, cancellationToken);

    // runc forwards signals it gets to the exec'd process, but a killed runc leaves it running: kill it by its pid.
    private static async Task KillExecAsync(string pidFile)
    {
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile, CancellationToken.None).ConfigureAwait(false)).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            NativeMethods.Kill(pid, 9);
        }
    }

    public Task<int> ReapOrphansAsync(CancellationToken cancellationToken) => Task.FromResult(0);

    public Task<INetworkDriver> CreateNetworkAsync(string id, string cacheDirectory, string directory, Action<string> log, CancellationToken cancellationToken) =>
        Bundle.CreateNetworkAsync(id, cacheDirectory, directory, rootless, log, cancellationToken);

    public Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken) =>
        Bundle.PublishPortsAsync(container, launch, rootless, cancellationToken);

    public Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken) =>
        RunAsync(["kill", id, signal], cancellationToken);

    public Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken) =>
        RunAsync(["delete", "--force", id], cancellationToken);

    /// <summary>The ids of the containers in this runtime's state root.</summary>
    /// <remarks>
    /// Read from the state root itself, which holds a directory per container for runc, crun and youki alike: reaping
    /// runs at every start, and <c>runc list</c> would cost a process start each time. A container being created or
    /// deleted as this reads may or may not be listed; the reaper only deletes ids whose container directory is gone.
    /// </remarks>
    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<IReadOnlyList<string>>(
                Directory.Exists(StateRoot) ? Directory.GetDirectories(StateRoot).Select(Path.GetFileName).OfType<string>().ToList() : []);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }
    }

    // Every subcommand gets the host's private state root.
    private ProcessStartInfo Start(IEnumerable<string> arguments) => HostTools.StartInfo(Executable, ["--root", StateRoot, .. arguments]);

    private Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        HostTools.RunAsync(Executable, ["--root", StateRoot, .. arguments], cancellationToken);
}
