using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;
using Containers.Host.Readiness;
using Containers.Oci;
using Containers.Oci.Images;
using Containers.Oci.Stores;

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

        // The docker client is often installed without a daemon (as on CI machines): only a daemon that answers counts.
        return HostTools.FindOnPath("docker") is { } docker && LocalEngines.Probe(docker).Answers ? ("docker", docker) : null;
    }

    /// <summary>Loads the image into the CLI's store (once) and makes the run command line.</summary>
    public async Task PrepareAsync(ContainerLaunch launch, CancellationToken cancellationToken)
    {
        var imageName = await EnsureImageAsync(Name, Executable, launch.Image, launch.Directory.Path, launch.Directory.CacheDirectory, launch.Log, cancellationToken).ConfigureAwait(false);

        // Waits run outside the container: through the CLI, a port a TCP wait checks must be published too.
        _ports = launch.Ports.Union(Wait.TcpPorts(launch.Options.WaitStrategies)).ToList();
        var networks = new List<string>();
        foreach (var attachment in launch.Options.Networks)
        {
            if (attachment.Network.Driver is not CliNetworkDriver driver)
            {
                throw new OciException($"The {attachment.Network} was made for another backend than this container's ({Name}); create the network with the same Backend as the containers that join it.");
            }

            var member = attachment.Network.Join(launch.Id, attachment.Aliases, endpoint: null);
            launch.Resources.Add(new NetworkLease(member));
            networks.Add(driver.RunArgument(member));
        }

        var storage = await StorageArgumentsAsync(launch, cancellationToken).ConfigureAwait(false);
        _runArguments = RunArguments(launch, imageName, _ports, [.. networks.SelectMany(n => new[] { "--network", n }), .. storage]);
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

        var stopwatch = Stopwatch.StartNew();
        try
        {
            await LocalEngines.LoadAsync(executable, image, [imageName], image.Config.Created ?? DateTimeOffset.UnixEpoch, temporaryDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (OciException ex)
        {
            throw new OciException($"{ex.Message}; check that {name} works ('{name} info').", ex);
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

    // Files (copied into the container's directory and bound from there, so later changes on the host do not reach
    // the container), mounts, user and limits, as run arguments.
    private async Task<List<string>> StorageArgumentsAsync(ContainerLaunch launch, CancellationToken cancellationToken)
    {
        var arguments = new List<string>();
        var files = Path.Combine(launch.Directory.Path, "files");
        for (var i = 0; i < launch.Options.Files.Count; i++)
        {
            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("ContainerStartOptions.Files needs Unix file modes; on Windows, bind a host directory with ContainerMount.Bind instead.");
            }

            var file = launch.Options.Files[i];
            var staged = Path.Combine(files, i.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(staged);
            await Storage.FileCopy.CopyIntoRootAsync(staged, file, cancellationToken).ConfigureAwait(false);
            arguments.AddRange(["--volume", Storage.FileCopy.Staged(staged, file) + ":" + file.ContainerPath]);
        }

        foreach (var mount in launch.Options.Mounts)
        {
            var readOnly = mount.ReadOnly ? ",ro" : "";
            switch (mount)
            {
                case Storage.BindMount bind:
                    arguments.AddRange(["--mount", $"type=bind,source={bind.HostPath},destination={bind.ContainerPath}{readOnly}"]);
                    break;
                case Storage.VolumeMount volume:
                    await EnsureVolumeAsync(volume.Source, cancellationToken).ConfigureAwait(false);
                    arguments.AddRange(["--mount", $"type=volume,source={volume.Source.CliName},destination={volume.ContainerPath}{readOnly}"]);
                    break;
                case Storage.TmpfsMount tmpfs:
                    arguments.AddRange(["--mount", $"type=tmpfs,destination={tmpfs.ContainerPath}," + string.Join(',', tmpfs.Options.Select(o => "tmpfs-" + o))]);
                    break;
            }
        }

        if (launch.Options.User is { } user)
        {
            arguments.AddRange(["--user", user]);
        }

        if (launch.Options.MemoryLimitBytes is { } memory)
        {
            arguments.AddRange(["--memory", memory.ToString(CultureInfo.InvariantCulture) + "b", "--memory-swap", memory.ToString(CultureInfo.InvariantCulture) + "b"]);
        }

        if (launch.Options.CpuLimit is { } cpus)
        {
            arguments.AddRange(["--cpus", cpus.ToString("0.###", CultureInfo.InvariantCulture)]);
        }

        return arguments;
    }

    // The CLI's copy of a volume: made once (kept ones labelled so, others with the owner for reaping); the CLI fills an
    // empty one with the image's content at the mount point, as the other backends do.
    private async Task EnsureVolumeAsync(Storage.ContainerVolume volume, CancellationToken cancellationToken)
    {
        volume.AddCliVolume(Executable);
        if ((await HostTools.RunAsync(Executable, ["volume", "inspect", volume.CliName], cancellationToken).ConfigureAwait(false)).ExitCode == 0)
        {
            return;
        }

        var label = volume.Keep ? "dev.containers-sdk.kept=true" : Networking.CliNetworkDriver.OwnerLabel + "=" + Lifecycle.OwnerStamp.Current;
        var (code, output) = await HostTools.RunAsync(Executable, ["volume", "create", "--label", label, volume.CliName], cancellationToken).ConfigureAwait(false);
        if (code != 0 && (await HostTools.RunAsync(Executable, ["volume", "inspect", volume.CliName], cancellationToken).ConfigureAwait(false)).ExitCode != 0)
        {
            throw new OciException($"'{Name} volume create' could not make the volume {volume.CliName}: {output.Trim()}");
        }
    }

    /// <summary>
    /// The command line that runs <paramref name="imageName"/> in the foreground (its output is the process's), named
    /// after the container, with <paramref name="ports"/> published on free 127.0.0.1 ports, and <paramref name="extra"/> options.
    /// </summary>
    private static List<string> RunArguments(ContainerLaunch launch, string imageName, IReadOnlyList<int> ports, IReadOnlyList<string> extra)
    {
        var arguments = new List<string> { "run", "--name", launch.Id, "--label", "dev.containers-sdk.owner=" + launch.Directory.Owner, "--hostname", launch.Hostname };
        arguments.AddRange(extra);

        foreach (var port in ports)
        {
            arguments.Add("--publish");
            var hostPort = launch.Options.HostPorts.TryGetValue(port, out var fixedPort) ? fixedPort.ToString(CultureInfo.InvariantCulture) : "";
            arguments.Add($"127.0.0.1:{hostPort}:{port.ToString(CultureInfo.InvariantCulture)}");
        }

        foreach (var (key, value) in launch.Options.Environment)
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
        if (launch.Options.StopSignal is not null || launch.Config.Config?.StopSignal is { Length: > 0 })
        {
            arguments.Add("--stop-signal");
            arguments.Add(launch.StopSignal);
        }

        foreach (var (name, value) in launch.Options.Labels)
        {
            arguments.Add("--label");
            arguments.Add(name + "=" + value);
        }

        if (launch.Options.WorkingDirectory is { } workingDirectory)
        {
            arguments.Add("--workdir");
            arguments.Add(workingDirectory);
        }

        // --entrypoint takes one executable (docker's CLI has no list form): the rest of a replaced entrypoint goes in
        // front of the command; a replaced entrypoint also drops the image's Cmd, as in the other backends.
        var entrypoint = launch.Options.Entrypoint;
        if (entrypoint is not null)
        {
            arguments.Add("--entrypoint");
            arguments.Add(entrypoint.Count == 0 ? "" : entrypoint[0]);
        }

        arguments.Add(imageName);
        arguments.AddRange(entrypoint?.Skip(1) ?? []);
        arguments.AddRange(launch.Options.Command ?? []);
        return arguments;
    }

    public Process StartRun(ContainerLaunch launch, string pidFile)
    {
        var id = launch.Id;
        var cidFile = pidFile + ".cid";
        File.Delete(cidFile);
        var start = HostTools.StartInfo(Executable, [_runArguments[0], "--cidfile", cidFile, .. _runArguments.Skip(1)]);
        var process = launch.StartProcess(start);

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

    public async Task<ContainerExecResult> ExecAsync(RunningContainer container, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? user, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "exec" };
        foreach (var (name, value) in environment)
        {
            arguments.Add("--env");
            arguments.Add(name + "=" + value);
        }

        if (user is not null)
        {
            arguments.Add("--user");
            arguments.Add(user);
        }

        arguments.Add(container.Id);
        arguments.AddRange(command);

        // A killed exec client leaves the command running in the container: on cancel, its processes are found by
        // their pid namespace (the container's), their parent outside it (the CLI's exec monitor) and their command
        // line, and killed. The CLI may start the command only after its client was killed (a slow exec start), so
        // they are looked for a while longer, in the background: the caller's cancellation does not wait for that.
        var before = OperatingSystem.IsLinux() ? ProcessesInNamespaceOf(container.Pid) : [];
        var (code, stdout, stderr) = await HostTools.RunSeparatelyAsync(
            HostTools.StartInfo(Executable, arguments),
            () =>
            {
                KillExecProcesses(container.Pid, before, command);
                _ = Task.Run(() => WatchForLateExecProcessesAsync(container.Pid, before, command));
                return Task.CompletedTask;
            },
            cancellationToken).ConfigureAwait(false);
        return new ContainerExecResult(code, stdout, stderr);
    }

    private static readonly TimeSpan LateExecWindow = TimeSpan.FromSeconds(15);

    private static async Task WatchForLateExecProcessesAsync(int containerPid, HashSet<int> before, IReadOnlyList<string> command)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < LateExecWindow)
        {
            await Task.Delay(100).ConfigureAwait(false);
            try
            {
                KillExecProcesses(containerPid, before, command);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The container is gone, or a process went away while it was read: nothing left to kill.
            }
        }
    }

    private static HashSet<int> ProcessesInNamespaceOf(int pid)
    {
        var found = new HashSet<int>();
        var target = pid > 0 ? NamespaceOf(pid) : null;
        if (target is null)
        {
            return found;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate) && NamespaceOf(candidate) == target)
            {
                found.Add(candidate);
            }
        }

        return found;
    }

    private static void KillExecProcesses(int containerPid, HashSet<int> before, IReadOnlyList<string> command)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // An exec's first process has its parent outside the namespace; it and everything below it go.
        var now = ProcessesInNamespaceOf(containerPid);
        var parents = now.ToDictionary(p => p, ParentOf);
        var doomed = now.Where(p => !before.Contains(p) && parents[p] is { } parent && !now.Contains(parent) && CommandLineOf(p) is { } line && line.SequenceEqual(command)).ToHashSet();
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (pid, parent) in parents)
            {
                if (parent is { } p && doomed.Contains(p) && doomed.Add(pid))
                {
                    grew = true;
                }
            }
        }

        foreach (var pid in doomed)
        {
            NativeMethods.Kill(pid, 9);
        }
    }

    // A process's arguments (argv), or null when it is gone.
    private static string[]? CommandLineOf(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            return text.TrimEnd('\0').Split('\0');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? NamespaceOf(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/pid").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Reads the file with <c>cp &lt;id&gt;:&lt;path&gt; -</c>, which writes a tar of it to stdout.</summary>
    public async Task<byte[]> ReadFileAsync(RunningContainer container, string path, CancellationToken cancellationToken)
    {
        using var process = Process.Start(HostTools.StartInfo(Executable, ["cp", container.Id + ":" + path, "-"])) ?? throw new IOException($"Could not start {Executable}.");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var tar = new MemoryStream();
        await process.StandardOutput.BaseStream.CopyToAsync(tar, cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw error.Contains("no such file", StringComparison.OrdinalIgnoreCase) || error.Contains("not exist", StringComparison.OrdinalIgnoreCase)
                ? new FileNotFoundException($"Container {container.Id} has no file {path}.", path)
                : new OciException($"'{Name} cp' could not read {path} from container {container.Id}: {error.Trim()}");
        }

        tar.Position = 0;
        using var reader = new System.Formats.Tar.TarReader(tar);
        var entry = reader.GetNextEntry(copyData: true);
        if (entry is null || entry.EntryType is not (System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile))
        {
            throw new OciException($"{path} in container {container.Id} is not a file{(entry is null ? "" : " (it is a " + entry.EntryType + ")")}; name a file.");
        }

        using var content = new MemoryStream();
        await entry.DataStream!.CopyToAsync(content, cancellationToken).ConfigureAwait(false);
        return content.ToArray();
    }

    public async Task<int> ReapOrphansAsync(CancellationToken cancellationToken)
    {
        var reaped = await CliNetworkDriver.ReapAsync(Executable, cancellationToken).ConfigureAwait(false);

        // Volumes of owners that are gone (kept ones carry no owner label).
        var (code, output) = await HostTools.RunAsync(Executable, ["volume", "ls", "--filter", "label=" + CliNetworkDriver.OwnerLabel, "--format", "{{.Name}}\t{{index .Labels \"" + CliNetworkDriver.OwnerLabel + "\"}}"], cancellationToken).ConfigureAwait(false);
        foreach (var line in code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [])
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && parts[0].StartsWith(Storage.ContainerVolume.CliNamePrefix, StringComparison.Ordinal) && !OwnerStamp.IsAlive(parts[1]))
            {
                await HostTools.RunAsync(Executable, ["volume", "rm", "--force", parts[0]], cancellationToken).ConfigureAwait(false);
                reaped++;
            }
        }

        return reaped;
    }

    public async Task<INetworkDriver> CreateNetworkAsync(string id, string cacheDirectory, string directory, Action<string> log, CancellationToken cancellationToken) =>
        await CliNetworkDriver.CreateAsync(Name, Executable, id, cancellationToken).ConfigureAwait(false);

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
}

/// <summary>A CLI network membership, left when the container goes.</summary>
internal sealed class NetworkLease(NetworkMember member) : IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        member.Network.Leave(member);
        return ValueTask.CompletedTask;
    }
}
