using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;
using Containers.Host.Readiness;
using Containers.Oci;

namespace Containers.Host.Runtimes;

/// <summary>
/// The docker or podman command line as a backend, for machines where the host cannot run containers itself
/// (not root, or not Linux): the image is loaded into the CLI's image store and run there with its ports
/// published on 127.0.0.1, as <c>docker run -p 127.0.0.1::8080</c> does.
/// </summary>
internal sealed partial class CliRuntime(string name, string executable) : IContainerRuntime
{
    // Set by PrepareAsync: the run command line and the ports it publishes.
    private List<string> _runArguments = [];
    private List<int> _ports = [];

    public string Name { get; } = name;

    public string Executable { get; } = executable;

    /// <summary>
    /// The CLI to use: CONTAINERS_HOST_CLI (a name or path) when set, else podman (daemonless, so on PATH means usable),
    /// else docker when its daemon answers. Null when none.
    /// </summary>
    public static (string Name, string Path)? Find()
    {
        if (System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_CLI") is { Length: > 0 } configured)
        {
            var path = configured.Contains('/', StringComparison.Ordinal) ? configured : HostTools.FindOnPath(configured);
            return path is null ? null : (Path.GetFileName(path), path);
        }

        if (HostTools.FindOnPath("podman") is { } podman)
        {
            return ("podman", podman);
        }

        return HostTools.FindOnPath("docker") is { } docker && DockerDaemonAnswers(docker) ? ("docker", docker) : null;
    }

    /// <summary>Loads the image into the CLI's store (once) and makes the run command line.</summary>
    public async Task PrepareAsync(ContainerLaunch launch, CancellationToken cancellationToken)
    {
        var imageName = await EnsureImageAsync(Name, Executable, launch.Image, launch.Directory.Path, launch.Directory.CacheDirectory, launch.Log, cancellationToken).ConfigureAwait(false);

        // Waits run outside the container: through the CLI, a port a TCP wait checks must be published too.
        _ports = launch.Ports.Union(Wait.TcpPorts(launch.Options.WaitStrategies)).ToList();
        _runArguments = RunArguments(launch.Id, imageName, launch.Directory.Owner, _ports, new Dictionary<string, string>(launch.Options.Environment), launch.Options.Command, launch.Config.Config?.StopSignal);
    }

    /// <summary>
    /// Makes sure <paramref name="image"/> is in the CLI's store as <c>localhost/containers-sdk-host:&lt;manifest digest&gt;</c>,
    /// loading it from a docker-archive only when it is not there yet; returns that name.
    /// </summary>
    private static async Task<string> EnsureImageAsync(string name, string executable, IImage image, string temporaryDirectory, string cacheDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        var imageName = "localhost/containers-sdk-host:" + image.ManifestDescriptor.Digest.Hex[..32];
        var loadedList = Path.Combine(cacheDirectory, name + "-images");
        if ((await HostTools.RunAsync(executable, ["image", "inspect", "--format", "{{.Id}}", imageName], cancellationToken).ConfigureAwait(false)).ExitCode == 0)
        {
            await RecordUseAsync(loadedList, imageName, executable, log, cancellationToken).ConfigureAwait(false);
            return imageName;
        }

        var archive = Path.Combine(temporaryDirectory, "load-" + Guid.NewGuid().ToString("N")[..8] + ".tar");
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await DockerArchive.WriteToFileAsync(archive, image, [imageName], image.Config.Created ?? DateTimeOffset.UnixEpoch, cancellationToken).ConfigureAwait(false);
            var (code, output) = await HostTools.RunAsync(executable, ["load", "-i", archive], cancellationToken).ConfigureAwait(false);
            if (code != 0)
            {
                throw new OciException($"'{name} load' could not load the image ({output.Trim()}); check that {name} works ('{name} info').");
            }
        }
        finally
        {
            File.Delete(archive);
        }

        log($"Loaded the image into {name} as {imageName} in {stopwatch.ElapsedMilliseconds} ms.");
        await RecordUseAsync(loadedList, imageName, executable, log, cancellationToken).ConfigureAwait(false);
        return imageName;
    }

    // The CLI's store is a cache like the unpacked-image cache: keep the most recently used images we loaded and
    // remove older ones (an image a container still uses cannot be removed and stays until next time).
    private static async Task RecordUseAsync(string listFile, string imageName, string executable, Action<string> log, CancellationToken cancellationToken)
    {
        var names = File.Exists(listFile) ? (await File.ReadAllLinesAsync(listFile, cancellationToken).ConfigureAwait(false)).Where(l => l.Length > 0).ToList() : [];
        names.Remove(imageName);
        names.Add(imageName);
        var kept = new List<string>();
        foreach (var old in names.Take(Math.Max(0, names.Count - ContainerHost.CachedImages)))
        {
            var (code, _) = await HostTools.RunAsync(executable, ["rmi", old], cancellationToken).ConfigureAwait(false);
            if (code == 0)
            {
                log($"Removed {old}, keeping the {ContainerHost.CachedImages} most recently used images in the CLI's store.");
            }
            else if ((await HostTools.RunAsync(executable, ["image", "inspect", "--format", "{{.Id}}", old], cancellationToken).ConfigureAwait(false)).ExitCode == 0)
            {
                kept.Add(old);
            }
        }

        var temporary = listFile + "." + Guid.NewGuid().ToString("N")[..8];
        await File.WriteAllLinesAsync(temporary, [.. kept, .. names.Skip(Math.Max(0, names.Count - ContainerHost.CachedImages))], cancellationToken).ConfigureAwait(false);
        File.Move(temporary, listFile, overwrite: true);
    }

    /// <summary>
    /// The command line that runs <paramref name="imageName"/> in the foreground (its output is the process's), named
    /// <paramref name="id"/>, with <paramref name="ports"/> published on free 127.0.0.1 ports.
    /// </summary>
    private static List<string> RunArguments(string id, string imageName, string ownerStamp, IReadOnlyList<int> ports, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string>? command, string? stopSignal)
    {
        var arguments = new List<string> { "run", "--name", id, "--label", "dev.containers-sdk.owner=" + ownerStamp };
        foreach (var port in ports)
        {
            arguments.Add("--publish");
            arguments.Add($"127.0.0.1::{port.ToString(CultureInfo.InvariantCulture)}");
        }

        foreach (var (key, value) in environment)
        {
            arguments.Add("--env");
            arguments.Add(key + "=" + value);
        }

        // Never above this process's own limits: podman's defaults (nofile 1048576, nproc 4194304) are refused by
        // kernels that cap them, and a test app needs no more than its test process has. NPROC is capped lower because
        // some sandboxes refuse to set it above 65535 even for root.
        if (OperatingSystem.IsLinux() && NativeMethods.GetRLimit(NativeMethods.RlimitNofile, out var files) == 0)
        {
            var hard = Math.Min(files.Maximum, 1_048_576UL);
            arguments.Add("--ulimit");
            arguments.Add($"nofile={Math.Min(files.Current, hard).ToString(CultureInfo.InvariantCulture)}:{hard.ToString(CultureInfo.InvariantCulture)}");
        }

        arguments.Add("--ulimit");
        arguments.Add("nproc=32768:32768");
        if (!string.IsNullOrEmpty(stopSignal))
        {
            arguments.Add("--stop-signal");
            arguments.Add(stopSignal);
        }

        arguments.Add(imageName);
        arguments.AddRange(command ?? []);
        return arguments;
    }

    public Process StartRun(ContainerLaunch launch, string pidFile)
    {
        var id = launch.Id;
        var cidFile = pidFile + ".cid";
        File.Delete(cidFile);
        var start = HostTools.StartInfo(Executable, [_runArguments[0], "--cidfile", cidFile, .. _runArguments.Skip(1)]);
        var process = Process.Start(start) ?? throw new IOException($"Could not start {Executable}.");

        // The CLI writes the cid file once the container exists; its pid (0 once it has exited) then goes to the pid file
        // the launcher waits for.
        _ = Task.Run(async () =>
        {
            var deadline = Stopwatch.StartNew();
            while (!File.Exists(cidFile) || new FileInfo(cidFile).Length == 0)
            {
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    return;
                }

                await Task.Delay(10).ConfigureAwait(false);
            }

            // Created: from here on an early exit is the app's (a quick job or a crash), not the CLI failing.
            await File.WriteAllTextAsync(pidFile + ".started", "").ConfigureAwait(false);
            var pid = "0";
            while (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                var (code, output) = await HostTools.RunAsync(Executable, ["inspect", "--format", "{{.State.Pid}} {{.State.Status}}", id], CancellationToken.None).ConfigureAwait(false);
                var parts = output.Trim().Split(' ');
                if (code == 0 && parts.Length == 2 && (parts[1] is "running" or "exited" or "stopped"))
                {
                    pid = parts[0];
                    break;
                }

                if (process.HasExited)
                {
                    break;
                }

                await Task.Delay(20).ConfigureAwait(false);
            }

            await File.WriteAllTextAsync(pidFile + ".tmp", pid).ConfigureAwait(false);
            File.Move(pidFile + ".tmp", pidFile, overwrite: true);
        });
        return process;
    }

    public Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken) =>
        HostTools.RunAsync(Executable, ["kill", "--signal", signal, id], cancellationToken);

    public Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken) =>
        HostTools.RunAsync(Executable, ["rm", "--force", id], cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Reads the ports the CLI published (the container was started with them).</summary>
    public async Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken)
    {
        if (_ports.Count == 0)
        {
            return NoPublishedPorts.Instance;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lookup = GetPublishedPortsAsync(container.Id, _ports, stop.Token);
        if (await Task.WhenAny(lookup, container.Exited).ConfigureAwait(false) != lookup)
        {
            // Exited first: as with the other backends, the wait strategies tell a finished job from a crash.
            await stop.CancelAsync().ConfigureAwait(false);
            await ((Task)lookup).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            launch.Log($"Container {container.Id} exited (code {container.Exited.Result}) before its ports could be published.");
            return NoPublishedPorts.Instance;
        }

        var published = await lookup.ConfigureAwait(false);
        foreach (var port in _ports)
        {
            launch.Log($"Container {container.Id} port {port}/tcp published on 127.0.0.1:{published[port]} by {Name}.");
        }

        return new DirectPorts(_ports.ToDictionary(p => p, p => published[p]), _ports);
    }

    /// <summary>The 127.0.0.1 port the CLI published each container port on; waits until all of them are listed.</summary>
    private async Task<IReadOnlyDictionary<int, int>> GetPublishedPortsAsync(string id, IReadOnlyList<int> ports, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (code, output) = await HostTools.RunAsync(Executable, ["port", id], cancellationToken).ConfigureAwait(false);
            var published = new Dictionary<int, int>();
            foreach (Match match in PortLine().Matches(output))
            {
                published[int.Parse(match.Groups["container"].Value, CultureInfo.InvariantCulture)] = int.Parse(match.Groups["host"].Value, CultureInfo.InvariantCulture);
            }

            if (code == 0 && ports.All(published.ContainsKey))
            {
                return published;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new OciException($"'{Name} port {id}' did not list the published ports {string.Join(", ", ports)} ({output.Trim()}).");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    [GeneratedRegex(@"^(?<container>\d+)/tcp -> (?:127\.0\.0\.1|0\.0\.0\.0|\[::1?\]|::1?):(?<host>\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex PortLine();

    // The docker client is often installed without a daemon (as on CI machines): only a daemon that answers counts.
    private static bool DockerDaemonAnswers(string docker)
    {
        try
        {
            using var process = Process.Start(HostTools.StartInfo(docker, ["version", "--format", "{{.Server.Version}}"]))!;
            process.StandardInput.Close();
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
