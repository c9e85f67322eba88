using Containers.Host.Images;
using Containers.Host.Networking;
using Containers.Host.Readiness;
using Containers.Host.Runtimes;
using Containers.Host.Storage;

namespace Containers.Host.Lifecycle;

/// <summary>How <see cref="ContainerHost.StartAsync"/> runs an image.</summary>
public sealed class ContainerStartOptions
{
    /// <summary>The image to run.</summary>
    public required ContainerImageSource Image { get; init; }

    /// <summary>Replaces the image's Cmd (its Entrypoint is kept); null runs the image's own.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>
    /// Replaces the image's Entrypoint (empty: none); null keeps the image's own. As with <c>docker run --entrypoint</c>,
    /// a replaced Entrypoint also drops the image's Cmd: the process is this Entrypoint plus <see cref="Command"/>.
    /// </summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Replaces the image's WorkingDir (absolute; created when the image lacks it, as docker does — except by podman 4.3, which refuses to start then); null keeps the image's own.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The signal <see cref="RunningContainer.StopAsync(CancellationToken)"/> sends first (e.g. <c>SIGINT</c>); null: the image's StopSignal, else SIGTERM.</summary>
    public string? StopSignal { get; init; }

    /// <summary>Labels of the container (annotations in the OCI runtime's bundle, <c>--label</c> for the podman/docker CLI).</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Environment variables added to (or replacing those of) the image's Env.</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Container TCP ports to publish on free 127.0.0.1 ports; empty publishes the image's ExposedPorts (TCP).
    /// </summary>
    public IList<int> PublishedPorts { get; } = [];

    /// <summary>
    /// Fixed 127.0.0.1 ports for container TCP ports (container port → host port), as <c>docker run -p 8080:80</c>: each
    /// key is published (in addition to <see cref="PublishedPorts"/>) on its value instead of a free port. A host port
    /// in use fails the start with a message naming it. Rootless on the host's own network (no private network) a
    /// container port is the host port itself; a different one is refused there.
    /// </summary>
    public IDictionary<int, int> HostPorts { get; } = new Dictionary<int, int>();

    /// <summary>
    /// Networks to join, each with the aliases the other members reach this container by; the container keeps its own
    /// network namespace (and 127.0.0.1 publishing). None: a namespace with loopback only.
    /// </summary>
    public IList<ContainerNetworkAttachment> Networks { get; } = [];

    /// <summary>Files and directories copied into the container's root filesystem before it starts.</summary>
    public IList<ContainerFile> Files { get; } = [];

    /// <summary>Host paths, volumes and tmpfs mounted into the container.</summary>
    public IList<ContainerMount> Mounts { get; } = [];

    /// <summary>Replaces the image's user (<c>name</c>, <c>uid</c>, <c>name:group</c>, <c>uid:gid</c>); null runs the image's own.</summary>
    public string? User { get; init; }

    /// <summary>
    /// The most memory the container may use, in bytes (its processes are killed beyond it, exit code 137); null: no limit.
    /// Applied by runc and the podman/docker CLI through cgroups; the namespaces backend and rootless runc cannot and say so in the log.
    /// </summary>
    public long? MemoryLimitBytes { get; init; }

    /// <summary>The most CPU time the container may use, in CPUs (0.5: half of one core); null: no limit. Applied where <see cref="MemoryLimitBytes"/> is.</summary>
    public double? CpuLimit { get; init; }

    /// <summary>The container's host name; null: its first alias on its first network, else the short container id.</summary>
    public string? Hostname { get; init; }

    /// <summary>Checks that must all pass before <see cref="ContainerHost.StartAsync"/> returns; none means "the process started".</summary>
    public IList<IContainerWaitStrategy> WaitStrategies { get; } = [];

    /// <summary>The default of <see cref="StartupTimeout"/>: 60 s.</summary>
    public static readonly TimeSpan DefaultStartupTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long the waits may take in total.</summary>
    public TimeSpan StartupTimeout { get; init; } = DefaultStartupTimeout;

    /// <summary>How long a stop waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Which backend runs the container; <see cref="ContainerBackendKind.Automatic"/> also honours the CONTAINERS_HOST_BACKEND environment variable.</summary>
    public ContainerBackendKind Backend { get; init; } = ContainerBackendKind.Automatic;

    /// <summary>Receives host diagnostics: the backend chosen, fallbacks, published ports.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Called when the container is disposed, after it stopped and before its files go, with everything it
    /// wrote — e.g. to attach the output to a test's results.
    /// </summary>
    public Action<RunningContainer>? OnDisposing { get; init; }

    /// <summary>The root filesystem cache and container state; default <c>/var/tmp/containers-sdk-host</c> (or <c>$XDG_CACHE_HOME/containers-sdk-host</c> when not root).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Called once the container's process runs, before its waits (a graph's "started" dependencies go on from here).</summary>
    internal Action<RunningContainer>? Launched { get; init; }

    /// <summary>
    /// Set for a member of a reused graph: the supervisor that will own it. The container's runtime process then runs
    /// detached from this process, and ports this process would forward are published by the supervisor.
    /// </summary>
    internal SupervisorConnection? Supervisor { get; init; }

    /// <summary>A copy (collections copied too) with the graph's hooks and settings where given.</summary>
    internal ContainerStartOptions Copy(Action<RunningContainer>? launched = null, Action<RunningContainer>? onDisposing = null, Action<string>? log = null, ContainerBackendKind? backend = null, string? cacheDirectory = null, SupervisorConnection? supervisor = null)
    {
        var copy = new ContainerStartOptions
        {
            Image = Image,
            Command = Command,
            Entrypoint = Entrypoint,
            WorkingDirectory = WorkingDirectory,
            StopSignal = StopSignal,
            User = User,
            MemoryLimitBytes = MemoryLimitBytes,
            CpuLimit = CpuLimit,
            Hostname = Hostname,
            StartupTimeout = StartupTimeout,
            StopGracePeriod = StopGracePeriod,
            Backend = backend ?? Backend,
            Log = log ?? Log,
            OnDisposing = onDisposing ?? OnDisposing,
            CacheDirectory = cacheDirectory ?? CacheDirectory,
            Launched = launched ?? Launched,
            Supervisor = supervisor ?? Supervisor,
        };
        foreach (var (name, value) in Environment)
        {
            copy.Environment[name] = value;
        }

        foreach (var (name, value) in Labels)
        {
            copy.Labels[name] = value;
        }

        foreach (var port in PublishedPorts)
        {
            copy.PublishedPorts.Add(port);
        }

        foreach (var network in Networks)
        {
            copy.Networks.Add(network);
        }

        foreach (var file in Files)
        {
            copy.Files.Add(file);
        }

        foreach (var mount in Mounts)
        {
            copy.Mounts.Add(mount);
        }

        foreach (var wait in WaitStrategies)
        {
            copy.WaitStrategies.Add(wait);
        }

        return copy;
    }
}
