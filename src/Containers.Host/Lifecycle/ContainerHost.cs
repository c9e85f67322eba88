using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Containers.Oci;

namespace Containers.Host;

/// <summary>
/// Runs OCI images on this machine for tests: unpacks the image (cached by layer chain), runs it under an OCI
/// runtime in its own pid, mount, ipc, uts and network namespaces, publishes its ports on free 127.0.0.1
/// ports, and waits until it is ready — with no Docker daemon.
/// </summary>
/// <example>
/// <code>
/// var options = new ContainerStartOptions { Image = ContainerImageSource.FromOciLayout("obj/container", "latest") };
/// options.WaitStrategies.Add(Wait.ForHttp("/healthz"));
/// await using var app = await ContainerHost.StartAsync(options, cancellationToken);
/// using var http = app.CreateHttpClient();
/// var body = await http.GetStringAsync("/todos", cancellationToken);
/// </code>
/// </example>
public static class ContainerHost
{
    /// <summary>The prefix of every container id, state and bundle directory the host creates.</summary>
    public const string IdPrefix = "containers-sdk-";

    // Runtimes that failed to start a container in this process (crun on hybrid cgroups, for example).
    private static readonly ConcurrentDictionary<string, string> BrokenRuntimes = new(StringComparer.Ordinal);

    /// <summary>The default cache and state directory.</summary>
    public static string DefaultCacheDirectory =>
        NativeMethods.GetEffectiveUserId() == 0
            ? "/var/tmp/containers-sdk-host"
            : Path.Combine(System.Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache"), "containers-sdk-host");

    /// <summary>Starts a container and waits until every wait strategy passes.</summary>
    /// <exception cref="ContainerStartException">The container exited, a wait timed out, or no runtime could start it; the message ends with its output.</exception>
    public static async Task<RunningContainer> StartAsync(ContainerStartOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = options.Log ?? (_ => { });
        var backend = options.Backend;
        if (backend == ContainerBackendKind.Automatic && System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_BACKEND") is { Length: > 0 } fromEnvironment)
        {
            backend = Enum.TryParse<ContainerBackendKind>(fromEnvironment, ignoreCase: true, out var parsed)
                ? parsed
                : throw new OciException($"CONTAINERS_HOST_BACKEND is '{fromEnvironment}'; expected one of {string.Join(", ", Enum.GetNames<ContainerBackendKind>())}.");
        }

        // Callers need no platform annotations: this is the one place the platform is decided.
        var isRoot = OperatingSystem.IsLinux() && NativeMethods.GetEffectiveUserId() == 0;
        var cliFound = backend is ContainerBackendKind.Cli || (backend == ContainerBackendKind.Automatic && !isRoot) ? CliRuntime.Find() : null;
        if (backend == ContainerBackendKind.Cli || (backend == ContainerBackendKind.Automatic && !isRoot && (cliFound is not null || !OperatingSystem.IsLinux())))
        {
            if (cliFound is not { } cli)
            {
                throw new PlatformNotSupportedException(backend == ContainerBackendKind.Cli
                    ? "The CLI backend needs podman or docker (with a running daemon) on PATH, or CONTAINERS_HOST_CLI naming one; install podman, or use another backend."
                    : "Containers.Host runs containers itself only on Linux, and no podman or docker (with a running daemon) is on PATH for the CLI backend; install podman or Docker.");
            }

            if (backend == ContainerBackendKind.Automatic)
            {
                log($"Not running as root on Linux: the container runs with the {cli.Name} CLI.");
            }

            return await StartWithCliAsync(options, cli, log, cancellationToken).ConfigureAwait(false);
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException($"The {backend} backend runs Linux containers on Linux; use the CLI backend (podman or docker) elsewhere.");
        }

        // Not root: rootless (a user namespace mapping the caller to the container's root, the host's network).
        var rootless = !isRoot;

        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? DefaultCacheDirectory);
        var containersDirectory = Path.Combine(cacheDirectory, "containers");

        // The backends to try, in order: the OCI runtimes on PATH that have not failed in this process, then
        // (Automatic) the built-in namespaces backend for machines that have none.
        var runtimes = new List<(string Name, Func<IContainerRuntime> Create)>();
        if (backend is ContainerBackendKind.Automatic or ContainerBackendKind.OciRuntime)
        {
            foreach (var (name, path) in OciRuntime.Candidates().Where(r => !BrokenRuntimes.ContainsKey(r.Name)))
            {
                runtimes.Add((name, () => new OciRuntime(name, path, Path.Combine(cacheDirectory, "runtime", name))));
            }
        }

        var namespacesProblem = NamespacesRuntime.Unavailable(rootless);
        if (backend == ContainerBackendKind.Namespaces || (backend == ContainerBackendKind.Automatic && runtimes.Count == 0 && namespacesProblem is null))
        {
            if (namespacesProblem is not null)
            {
                throw new OciException($"The namespaces backend cannot run here: {namespacesProblem}; install util-linux and iproute2, or use an OCI runtime.");
            }

            if (backend == ContainerBackendKind.Automatic)
            {
                log("No working OCI runtime (runc, crun, youki) on PATH; using the built-in namespaces backend (unshare).");
            }

            runtimes.Add(("namespaces", () => new NamespacesRuntime(containersDirectory)));
        }

        if (runtimes.Count == 0)
        {
            var broken = BrokenRuntimes.IsEmpty ? "" : " Failed here: " + string.Join("; ", BrokenRuntimes.Select(b => b.Key + ": " + b.Value));
            throw new OciException($"No working OCI runtime on PATH (looked for {System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_OCI_RUNTIMES") ?? "runc, crun, youki"}) and the namespaces backend is unavailable ({namespacesProblem}); install runc (apt-get install runc).{broken}");
        }

        var (id, containerDirectory, _) = await CreateContainerDirectoryAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
        try
        {
            var (image, owner) = await options.Image.LoadAsync(ContainerImageSource.HostPlatform, cancellationToken).ConfigureAwait(false);
            string rootfs;
            using (owner)
            {
                var rootfsCache = new RootfsCache(Path.Combine(cacheDirectory, "rootfs"));
                using (rootfsCache.AcquireUse())
                {
                    // Under the use lock until the chain is recorded: no prune (of any process) can delete it in between.
                    var cached = await rootfsCache.GetOrUnpackAsync(image, cancellationToken).ConfigureAwait(false);
                    await File.WriteAllTextAsync(Path.Combine(containerDirectory, "image"), Path.GetFileName(cached), cancellationToken).ConfigureAwait(false);
                    rootfs = ContainerRoot.Create(cached, containerDirectory, log);
                }

                PruneRootfsCache(rootfsCache, containersDirectory, log);
            }

            var config = image.Config;
            var user = ImageUser.Resolve(config.Config?.User, rootfs);
            if (rootless)
            {
                // Only the caller's own ids are mapped into the container (as its root): another uid could not run.
                if (user.Uid != 0 || user.Gid != 0)
                {
                    log($"Rootless: the app runs as the container's root (uid {NativeMethods.GetEffectiveUserId()} on the host), not as uid {user.Uid}: only your own user is mapped into the container.");
                }

                user = user with { Uid = 0, Gid = 0, AdditionalGids = [] };
            }

            var command = options.Command ?? config.Config?.Cmd ?? [];
            IReadOnlyList<string> args = [.. config.Config?.Entrypoint ?? [], .. command];
            if (args.Count == 0)
            {
                throw new OciException($"The image {options.Image} has neither Entrypoint nor Cmd; pass ContainerStartOptions.Command.");
            }

            var spec = RuntimeSpec.Create(
                rootfs,
                id[IdPrefix.Length..],
                args,
                RuntimeSpec.Environment(config, options.Environment, user),
                string.IsNullOrEmpty(config.Config?.WorkingDir) ? "/" : config.Config!.WorkingDir!,
                user,
                rootless ? (NativeMethods.GetEffectiveUserId(), NativeMethods.GetEffectiveGroupId()) : null);
            await File.WriteAllTextAsync(Path.Combine(containerDirectory, "config.json"), spec.ToJsonString(), cancellationToken).ConfigureAwait(false);

            var ports = PortsToPublish(options, config);

            RunningContainer? container = null;
            foreach (var (name, create) in runtimes)
            {
                var runtime = create();
                if (runtime is OciRuntime oci)
                {
                    Directory.CreateDirectory(oci.StateRoot);
                }

                var logs = new ContainerLogs();
                var started = Stopwatch.StartNew();
                var candidate = await RunningContainer.LaunchAsync(id, containerDirectory, runtime, config, logs, options, cancellationToken).ConfigureAwait(false);
                if (candidate is not null)
                {
                    log($"Container {id} started with {runtime.Name} in {started.ElapsedMilliseconds} ms (image {options.Image}).");
                    container = candidate;
                    break;
                }

                var failure = logs.Tail(20).ReplaceLineEndings(" ");
                BrokenRuntimes[name] = failure;
                log($"The OCI runtime {name} could not start a container here ({failure}); trying the next one.");
                await runtime.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
            }

            if (container is null)
            {
                throw new ContainerStartException($"No OCI runtime could start {options.Image}: {string.Join("; ", runtimes.Select(r => r.Name + ": " + BrokenRuntimes.GetValueOrDefault(r.Name)))}.", new ContainerLogs());
            }

            return await MakeReadyAsync(container, () => container.PublishAsync(ports, hostNetwork: rootless, log, cancellationToken), options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ContainerRoot.Remove(containerDirectory);
            DeleteDirectory(containerDirectory);
            throw;
        }
    }

    private static List<int> PortsToPublish(ContainerStartOptions options, ImageConfig config) =>
        options.PublishedPorts.Count > 0
            ? options.PublishedPorts.Distinct().ToList()
            : (config.Config?.ExposedPorts?.Keys ?? [])
                .Where(key => key.EndsWith("/tcp", StringComparison.Ordinal) || !key.Contains('/', StringComparison.Ordinal))
                .Select(key => int.Parse(key.Split('/')[0], NumberStyles.None, CultureInfo.InvariantCulture))
                .ToList();

    // The CLI backend: no unpacking and no bundle; the CLI's store holds the image, its runtime runs it, and its
    // port publishing replaces the forwarders. The container directory still records the owner, for reaping.
    private static async Task<RunningContainer> StartWithCliAsync(ContainerStartOptions options, (string Name, string Path) cli, Action<string> log, CancellationToken cancellationToken)
    {
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? DefaultCacheDirectory);
        var (id, containerDirectory, owner) = await CreateContainerDirectoryAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
        try
        {
            var (image, imageOwner) = await options.Image.LoadAsync(ContainerImageSource.HostPlatform, cancellationToken).ConfigureAwait(false);
            string imageName;
            using (imageOwner)
            {
                imageName = await CliRuntime.EnsureImageAsync(cli.Name, cli.Path, image, containerDirectory, cacheDirectory, log, cancellationToken).ConfigureAwait(false);
            }

            var config = image.Config;
            // Waits run outside the container: through the CLI, a port a TCP wait checks must be published too.
            var ports = PortsToPublish(options, config).Union(Wait.TcpPorts(options.WaitStrategies)).ToList();
            var runtime = CliRuntime.ForRun(cli.Name, cli.Path, id, imageName, owner, ports, new Dictionary<string, string>(options.Environment), options.Command, config.Config?.StopSignal);
            var logs = new ContainerLogs();
            var started = Stopwatch.StartNew();
            var container = await RunningContainer.LaunchAsync(id, containerDirectory, runtime, config, logs, options, cancellationToken).ConfigureAwait(false);
            if (container is null)
            {
                await runtime.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
                throw new ContainerStartException($"{cli.Name} could not start {options.Image}.", logs);
            }

            log($"Container {id} started with {cli.Name} in {started.ElapsedMilliseconds} ms (image {options.Image}).");
            return await MakeReadyAsync(container, () => container.PublishCliPortsAsync(runtime, ports, log, cancellationToken), options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            DeleteDirectory(containerDirectory);
            throw;
        }
    }

    // Every backend's container gets <cache>/containers/<id> with the owner stamp reaping goes by; leftovers of
    // dead test processes are reaped first.
    private static async Task<(string Id, string Directory, string Owner)> CreateContainerDirectoryAsync(string cacheDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        var containersDirectory = Path.Combine(cacheDirectory, "containers");
        Directory.CreateDirectory(containersDirectory);
        await ReapAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);

        // Made under another name and renamed: a concurrent reaper (another test process) sees the directory only
        // with its complete owner stamp, never empty or half-written, which would read as a dead owner.
        var id = IdPrefix + Guid.NewGuid().ToString("N")[..12];
        var containerDirectory = Path.Combine(containersDirectory, id);
        var staging = Path.Combine(containersDirectory, ".new-" + id);
        Directory.CreateDirectory(staging);
        var owner = OwnerStamp(System.Environment.ProcessId);
        await File.WriteAllTextAsync(Path.Combine(staging, "owner"), owner, cancellationToken).ConfigureAwait(false);
        Directory.Move(staging, containerDirectory);
        return (id, containerDirectory, owner);
    }

    /// <summary>
    /// Removes containers left by test processes that are gone (killed test runs): stops them, deletes their
    /// runtime state and their directories. Runs at every start; containers of live processes are left alone.
    /// </summary>
    public static async Task<int> ReapAsync(string cacheDirectory, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var containersDirectory = Path.Combine(cacheDirectory, "containers");
        var reaped = 0;
        var ociRuntimes = OciRuntime.Candidates().Select(r => new OciRuntime(r.Name, r.Path, Path.Combine(cacheDirectory, "runtime", r.Name))).Where(r => Directory.Exists(r.StateRoot)).ToList();
        IReadOnlyList<IContainerRuntime> runtimes = [.. ociRuntimes, new NamespacesRuntime(containersDirectory)];
        if (CliRuntime.Find() is { } cli)
        {
            runtimes = [.. runtimes, CliRuntime.ForCleanup(cli.Name, cli.Path)];
        }

        var live = new HashSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(containersDirectory))
        {
            foreach (var directory in Directory.GetDirectories(containersDirectory, IdPrefix + "*"))
            {
                var id = Path.GetFileName(directory);
                if (IsOwnerAlive(Path.Combine(directory, "owner")))
                {
                    live.Add(id);
                    continue;
                }

                foreach (var runtime in runtimes)
                {
                    await runtime.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                }

                ContainerRoot.Remove(directory);
                DeleteDirectory(directory);
                reaped++;
                log?.Invoke($"Removed container {id}, left by a test process that is gone.");
            }
        }

        // Directories of starts killed before they were renamed into place; a minute is far longer than that takes.
        if (Directory.Exists(containersDirectory))
        {
            foreach (var staging in new DirectoryInfo(containersDirectory).EnumerateDirectories(".new-" + IdPrefix + "*"))
            {
                if (staging.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-1))
                {
                    DeleteDirectory(staging.FullName);
                }
            }
        }

        // Runtime state without a directory: a crash between start and cleanup. A container's directory exists
        // from before its runtime state is created until after it is deleted, so the directory is looked for
        // again now: one started by another process since the scan above has one and is not touched.
        foreach (var runtime in ociRuntimes)
        {
            foreach (var id in await runtime.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                if (id.StartsWith(IdPrefix, StringComparison.Ordinal) && !live.Contains(id) && !Directory.Exists(Path.Combine(containersDirectory, id)))
                {
                    await runtime.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                    reaped++;
                }
            }
        }

        return reaped;
    }

    /// <summary>How many unpacked images the cache keeps (most recently used first); images of live containers are always kept.</summary>
    public const int CachedImages = 8;

    // Every rebuilt app is a new layer chain: without a bound the cache would grow by an image per build.
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void PruneRootfsCache(RootfsCache cache, string containersDirectory, Action<string> log)
    {
        var deleted = cache.Prune(CachedImages, () => ImagesInUse(containersDirectory));
        if (deleted > 0)
        {
            log($"Removed {deleted} unpacked image(s) from {cache.Directory}, keeping the {CachedImages} most recently used.");
        }
    }

    // The chains the containers of this cache (live or not yet reaped) were made from.
    private static HashSet<string> ImagesInUse(string containersDirectory)
    {
        var inUse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(containersDirectory, IdPrefix + "*"))
        {
            try
            {
                inUse.Add(File.ReadAllText(Path.Combine(directory, "image")).Trim());
            }
            catch (IOException)
            {
                // No image recorded yet: that start holds the use lock until it records one, so no prune runs meanwhile.
            }
        }

        return inUse;
    }

    internal static void DeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A mount still held by a dying process: the next start's reaper tries again.
        }
    }

    // Publishes the ports and runs the waits; a container that does not get ready is stopped and removed.
    private static async Task<RunningContainer> MakeReadyAsync(RunningContainer container, Func<Task> publishPorts, ContainerStartOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await publishPorts().ConfigureAwait(false);
            await WaitUntilReadyAsync(container, options, cancellationToken).ConfigureAwait(false);
            return container;
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task WaitUntilReadyAsync(RunningContainer container, ContainerStartOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.StartupTimeout);
        var started = Stopwatch.StartNew();
        foreach (var strategy in options.WaitStrategies)
        {
            Task wait;
            try
            {
                wait = strategy.WaitAsync(container, timeout.Token);
            }
            catch (Exception ex)
            {
                // A strategy that fails before it starts waiting (no health check declared, bad port) fails like one that fails later.
                wait = Task.FromException(ex);
            }

            var exitsEarly = strategy.Description.StartsWith("the container to exit", StringComparison.Ordinal) ? Task.Delay(Timeout.Infinite, timeout.Token) : container.Exited;
            var first = await Task.WhenAny(wait, exitsEarly).ConfigureAwait(false);
            // A wait that failed because the container is gone (no port to reach any more) is explained by the exit.
            if (exitsEarly.IsCompletedSuccessfully && (first == exitsEarly || wait.IsFaulted))
            {
                throw new ContainerStartException($"The container exited with code {container.Exited.Result} after {started.ElapsedMilliseconds} ms, while waiting for {strategy.Description}.", container.Logs);
            }

            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ContainerStartException($"The container was not ready after {options.StartupTimeout.TotalSeconds:0.#} s: still waiting for {strategy.Description}.", container.Logs);
            }
            catch (Exception ex) when (ex is not ContainerStartException and not OperationCanceledException)
            {
                throw new ContainerStartException($"Waiting for {strategy.Description} failed: {ex.Message}", container.Logs, ex);
            }
        }
    }

    // "pid starttime": the start time (from /proc/<pid>/stat) tells a live owner from a reused pid.
    private static string OwnerStamp(int pid) => pid.ToString(CultureInfo.InvariantCulture) + " " + (ProcessStartTime(pid) ?? "0");

    private static bool IsOwnerAlive(string ownerFile)
    {
        try
        {
            var parts = File.ReadAllText(ownerFile).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ProcessStartTime(pid) == parts[1];
        }
        catch (IOException)
        {
            // No owner file: being created right now by a live process, or left half-made; age decides.
            return Directory.GetLastWriteTimeUtc(Path.GetDirectoryName(ownerFile)!) > DateTime.UtcNow.AddMinutes(-1);
        }
    }

    private static string? ProcessStartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Fields after the command name (which may contain spaces) start after the last ')'; starttime is field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
