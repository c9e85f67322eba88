using System.Diagnostics;
using System.Globalization;
using Containers.Host.Networking;
using Containers.Host.Runtimes;
using Containers.Oci.Models;

namespace Containers.Host.Lifecycle;

/// <summary>A started container: its published ports, logs and lifetime. Dispose it to stop it and remove everything it used.</summary>
public sealed class RunningContainer : IAsyncDisposable
{
    private readonly ContainerDirectory _directory;
    private readonly LaunchResources _resources;
    private readonly IContainerRuntime _runtime;
    private readonly ContainerProcess _process;
    private readonly TimeSpan _stopGracePeriod;
    private readonly string _stopSignal;
    private readonly Action<RunningContainer>? _onDisposing;
    private readonly Lazy<ImageConfig> _imageConfig;
    private IPublishedPorts _ports = NoPublishedPorts.Instance;
    private int _disposed;

    // A member of a reused graph: its supervisor owns it, so disposing lets go of it instead of stopping it.
    private bool _supervised;

    private RunningContainer(ContainerLaunch launch, IContainerRuntime runtime, ContainerProcess process, int pid, ContainerLogs logs)
        : this(launch.Id, launch.Directory, launch.Resources, runtime, process, pid, new Lazy<ImageConfig>(launch.Config), logs, launch.Options.StopGracePeriod, launch.StopSignal, launch.Options.OnDisposing)
    {
        StartEnvironment = new Dictionary<string, string>(launch.Options.Environment, StringComparer.Ordinal);
    }

    private RunningContainer(string id, ContainerDirectory directory, LaunchResources resources, IContainerRuntime runtime, ContainerProcess process, int pid, Lazy<ImageConfig> imageConfig, ContainerLogs logs, TimeSpan stopGracePeriod, string stopSignal, Action<RunningContainer>? onDisposing)
    {
        _onDisposing = onDisposing;
        Id = id;
        _directory = directory;
        _resources = resources;
        _runtime = runtime;
        _process = process;
        Pid = pid;
        _imageConfig = imageConfig;
        Logs = logs;
        _stopGracePeriod = stopGracePeriod;
        _stopSignal = stopSignal;
        Exited = process.Exited;
    }

    /// <summary>The container id, <c>containers-sdk-</c> and 12 hex digits.</summary>
    public string Id { get; }

    /// <summary>The backend that runs it, e.g. <c>runc</c>.</summary>
    public string BackendName => _runtime.Name;

    /// <summary>The host pid of the container's first process.</summary>
    public int Pid { get; }

    /// <summary>The image config the container was started from.</summary>
    public ImageConfig ImageConfig => _imageConfig.Value;

    /// <summary>The variables the start added to (or replaced in) the image's Env; empty for an attached container.</summary>
    internal IReadOnlyDictionary<string, string> StartEnvironment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>What the container wrote so far.</summary>
    public ContainerLogs Logs { get; }

    /// <summary>Completes with the exit code when the container's process exits.</summary>
    public Task<int> Exited { get; }

    /// <summary>The container ports published on 127.0.0.1.</summary>
    public IReadOnlyCollection<int> PublishedContainerPorts => _ports.ContainerPorts;

    /// <summary>The 127.0.0.1 port that forwards to <paramref name="containerPort"/>.</summary>
    public int GetPublishedPort(int containerPort) =>
        _ports.GetHostPort(containerPort)
        ?? throw new InvalidOperationException($"Container port {containerPort} is not published; published: {(PublishedContainerPorts.Count == 0 ? "none" : string.Join(", ", PublishedContainerPorts))}. Add it to ContainerStartOptions.PublishedPorts or expose it in the image.");

    /// <summary><c>http://127.0.0.1:&lt;published port&gt;/</c> of <paramref name="containerPort"/> (null: the first published port).</summary>
    public Uri GetBaseAddress(int? containerPort = null) =>
        new($"http://127.0.0.1:{GetPublishedPort(containerPort ?? FirstPublishedPort())}/");

    /// <summary>An HttpClient whose base address is the published <paramref name="containerPort"/> (null: the first published port).</summary>
    public HttpClient CreateHttpClient(int? containerPort = null) => new() { BaseAddress = GetBaseAddress(containerPort) };

    /// <summary>Waits until the container exits and returns its exit code.</summary>
    public Task<int> WaitForExitAsync(CancellationToken cancellationToken = default) => Exited.WaitAsync(cancellationToken);

    /// <summary>Stops the container: SIGTERM (or <see cref="ContainerStartOptions.StopSignal"/>, else the image's StopSignal), then SIGKILL after the grace period.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopAsync(_stopGracePeriod, cancellationToken);

    /// <summary>
    /// Stops the container: its stop signal, then SIGKILL when it has not exited after <paramref name="gracePeriod"/>
    /// (zero: SIGKILL at once), as <c>docker stop -t</c>.
    /// </summary>
    public async Task StopAsync(TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        if (Exited.IsCompleted)
        {
            return;
        }

        await _runtime.KillAsync(Id, gracePeriod <= TimeSpan.Zero ? "SIGKILL" : _stopSignal, cancellationToken).ConfigureAwait(false);
        if (await Task.WhenAny(Exited, Task.Delay(gracePeriod, cancellationToken)).ConfigureAwait(false) != Exited)
        {
            await _runtime.KillAsync(Id, "SIGKILL", cancellationToken).ConfigureAwait(false);
            await Exited.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops the container and removes its runtime state, forwarders, bundle and root filesystem. A member of a reused
    /// graph (<see cref="ContainerGraphOptions.Reuse"/>) is only let go: it goes on running for the next test run.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_supervised)
        {
            _onDisposing?.Invoke(this);
            await _ports.DisposeAsync().ConfigureAwait(false);
            _process.Dispose();
            return;
        }

        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            // Removal below still runs; delete --force kills what is left.
        }

        _onDisposing?.Invoke(this);
        await _ports.DisposeAsync().ConfigureAwait(false);
        await _runtime.DeleteAsync(Id, CancellationToken.None).ConfigureAwait(false);

        // Deleting the container ends the runtime's process. One that still runs (the backend lost track of the
        // container's process) is killed with everything under it, so no process of the container outlives it.
        if (!_process.HasExited && await Task.WhenAny(_process.Exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != _process.Exited)
        {
            _process.Kill();
        }

        await _process.EndedAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
        await _resources.DisposeAsync().ConfigureAwait(false);
        _directory.Remove();
    }

    /// <summary>
    /// Runs <paramref name="command"/> inside the running container — its namespaces, root filesystem and environment
    /// (plus <paramref name="environment"/>), as <paramref name="user"/> (<c>name</c>, <c>uid</c>, <c>name:group</c>,
    /// <c>uid:gid</c>; null: the image's user) — and returns its exit code and output. Cancelling kills it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The container is not running.</exception>
    public Task<ContainerExecResult> ExecAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null, string? user = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0)
        {
            throw new ArgumentException("Name the command to run, e.g. [\"pg_isready\"].", nameof(command));
        }

        if (Exited.IsCompleted)
        {
            throw new InvalidOperationException($"Container {Id} exited with code {Exited.Result}; exec needs a running container.");
        }

        return _runtime.ExecAsync(this, command, environment ?? new Dictionary<string, string>(), user, cancellationToken);
    }

    /// <summary>The content of the file at <paramref name="path"/> (absolute, inside the container) in the running or stopped container, with what its mounts show while it runs.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"'{path}' is not an absolute path inside the container; write it like /etc/hosts.", nameof(path));
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _runtime.ReadFileAsync(this, path, cancellationToken);
    }

    /// <summary>The container's directory (bundle, root filesystem, pid file).</summary>
    internal ContainerDirectory Directory => _directory;

    /// <summary>True when a TCP connection to <paramref name="port"/> inside the container's network succeeds.</summary>
    internal Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken) => _ports.CanConnectInsideAsync(port, cancellationToken);

    /// <summary>Runs the prepared container; returns null when the runtime itself failed before the container's process existed.</summary>
    internal static async Task<RunningContainer?> LaunchAsync(ContainerLaunch launch, IContainerRuntime runtime, ContainerLogs logs, CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(launch.Directory.Path, "pid");
        File.Delete(pidFile);
        var started = runtime.StartRun(launch, pidFile);
        ContainerProcess process = launch.Options.Supervisor is null
            ? new ChildContainerProcess(started, logs)
            : new DetachedContainerProcess(launch.Directory.Path, logs, started);

        // The runtime writes the pid file once the container exists; exiting before that is the runtime's failure.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return new RunningContainer(launch, runtime, process, pid, logs);
            }

            if (process.HasExited)
            {
                await process.Exited.ConfigureAwait(false);
                if (File.Exists(pidFile + ".started"))
                {
                    // The app started and already finished (a quick job): not a backend failure.
                    return new RunningContainer(launch, runtime, process, 0, logs);
                }

                process.Dispose();
                return null;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                process.Kill();
                process.Dispose();
                throw new ContainerStartException($"{runtime.Name} did not create the container within 30 s.", logs);
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A container a reused graph's supervisor runs, as another process sees it: output and exit from the files of its
    /// directory, ports as the supervisor publishes them. Disposing it lets go of it; it goes on running.
    /// </summary>
    internal static RunningContainer Attach(string id, ContainerDirectory directory, IContainerRuntime runtime, int pid, Func<ImageConfig> imageConfig, IPublishedPorts ports, TimeSpan stopGracePeriod, string stopSignal, Action<RunningContainer>? onDisposing)
    {
        var logs = new ContainerLogs();
        var process = new DetachedContainerProcess(directory.Path, logs);
        return new RunningContainer(id, directory, new LaunchResources(), runtime, process, pid, new Lazy<ImageConfig>(imageConfig), logs, stopGracePeriod, stopSignal, onDisposing)
        {
            _ports = ports,
            _supervised = true,
        };
    }

    /// <summary>The first signal a stop sends (the options', else the image's StopSignal, else SIGTERM).</summary>
    internal string StopSignal => _stopSignal;

    /// <summary>From now on the reused graph's supervisor owns the container: disposing lets go of it instead of stopping it.</summary>
    internal void HandOver() => _supervised = true;

    /// <summary>Publishes the launch's ports through the runtime that runs the container.</summary>
    internal async Task PublishPortsAsync(ContainerLaunch launch, CancellationToken cancellationToken)
    {
        _ports = await _runtime.PublishPortsAsync(this, launch, cancellationToken).ConfigureAwait(false);
        if (launch.Options.Supervisor is { } supervisor)
        {
            // Ports that this process forwards would close with it: the reused graph's supervisor publishes them instead.
            _ports = await supervisor.TakeOverPortsAsync(this, _ports, launch.Log, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The published ports, as recorded for a reused graph.</summary>
    internal IPublishedPorts Ports => _ports;

    private int FirstPublishedPort() =>
        _ports.ContainerPorts.Count > 0 ? _ports.ContainerPorts[0] : throw new InvalidOperationException("The container publishes no port; set ContainerStartOptions.PublishedPorts or expose a port in the image.");
}
