using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Containers.Oci;

namespace Containers.Host;

/// <summary>A started container: its published ports, logs and lifetime. Dispose it to stop it and remove everything it used.</summary>
public sealed class RunningContainer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly IContainerRuntime _runtime;
    private readonly Process _process;
    private readonly TimeSpan _stopGracePeriod;
    private readonly Action<RunningContainer>? _onDisposing;
    private readonly Dictionary<int, PortForwarder> _forwarders = [];

    // Container port -> 127.0.0.1 port reachable directly, without our forwarders: published by a docker/podman
    // CLI, or the container's own port when it shares the host's network (rootless).
    private readonly Dictionary<int, int> _cliPorts = [];
    private NetworkNamespace? _network;
    private int _disposed;

    private RunningContainer(string id, string directory, IContainerRuntime runtime, Process process, int pid, ImageConfig config, ContainerLogs logs, TimeSpan stopGracePeriod, Action<RunningContainer>? onDisposing)
    {
        _onDisposing = onDisposing;
        Id = id;
        _directory = directory;
        _runtime = runtime;
        _process = process;
        Pid = pid;
        ImageConfig = config;
        Logs = logs;
        _stopGracePeriod = stopGracePeriod;
        Exited = WaitForProcessAsync();
    }

    /// <summary>The container id, <c>containers-sdk-</c> and 12 hex digits.</summary>
    public string Id { get; }

    /// <summary>The backend that runs it, e.g. <c>runc</c>.</summary>
    public string BackendName => _runtime.Name;

    /// <summary>The host pid of the container's first process.</summary>
    public int Pid { get; }

    /// <summary>The image config the container was started from.</summary>
    public ImageConfig ImageConfig { get; }

    /// <summary>What the container wrote so far.</summary>
    public ContainerLogs Logs { get; }

    /// <summary>Completes with the exit code when the container's process exits.</summary>
    public Task<int> Exited { get; }

    /// <summary>The container ports published on 127.0.0.1.</summary>
    public IReadOnlyCollection<int> PublishedContainerPorts => [.. _forwarders.Keys, .. _cliPorts.Keys];

    /// <summary>The 127.0.0.1 port that forwards to <paramref name="containerPort"/>.</summary>
    public int GetPublishedPort(int containerPort) =>
        _forwarders.TryGetValue(containerPort, out var forwarder) ? forwarder.HostPort
        : _cliPorts.TryGetValue(containerPort, out var hostPort) ? hostPort
        : throw new InvalidOperationException($"Container port {containerPort} is not published; published: {(PublishedContainerPorts.Count == 0 ? "none" : string.Join(", ", PublishedContainerPorts))}. Add it to ContainerStartOptions.PublishedPorts or expose it in the image.");

    /// <summary><c>http://127.0.0.1:&lt;published port&gt;/</c> of <paramref name="containerPort"/> (null: the first published port).</summary>
    public Uri GetBaseAddress(int? containerPort = null) =>
        new($"http://127.0.0.1:{GetPublishedPort(containerPort ?? FirstPublishedPort())}/");

    /// <summary>An HttpClient whose base address is the published <paramref name="containerPort"/> (null: the first published port).</summary>
    public HttpClient CreateHttpClient(int? containerPort = null) => new() { BaseAddress = GetBaseAddress(containerPort) };

    /// <summary>Waits until the container exits and returns its exit code.</summary>
    public Task<int> WaitForExitAsync(CancellationToken cancellationToken = default) => Exited.WaitAsync(cancellationToken);

    /// <summary>Stops the container: SIGTERM (or the image's StopSignal), then SIGKILL after the grace period.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Exited.IsCompleted)
        {
            return;
        }

        var signal = string.IsNullOrEmpty(ImageConfig.Config?.StopSignal) ? "SIGTERM" : ImageConfig.Config!.StopSignal!;
        await _runtime.KillAsync(Id, signal, cancellationToken).ConfigureAwait(false);
        if (await Task.WhenAny(Exited, Task.Delay(_stopGracePeriod, cancellationToken)).ConfigureAwait(false) != Exited)
        {
            await _runtime.KillAsync(Id, "SIGKILL", cancellationToken).ConfigureAwait(false);
            await Exited.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the container and removes its runtime state, forwarders, bundle and root filesystem.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
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
        foreach (var forwarder in _forwarders.Values)
        {
            await forwarder.DisposeAsync().ConfigureAwait(false);
        }

        _network?.Dispose();
        await _runtime.DeleteAsync(Id, CancellationToken.None).ConfigureAwait(false);
        _process.Dispose();
        ContainerRoot.Remove(_directory);
        ContainerHost.DeleteDirectory(_directory);
    }

    /// <summary>True when a TCP connection to <paramref name="port"/> inside the container's network succeeds.</summary>
    internal async Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken)
    {
        if (_network is null && _cliPorts.TryGetValue(port, out var hostPort))
        {
            // The CLI's port publishing (netavark/docker-proxy) passes the connection on only when the app accepts it.
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, hostPort, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException)
            {
                return false;
            }
        }

        if (_network is null)
        {
            throw new InvalidOperationException("The container has no network namespace to connect into.");
        }

        try
        {
            using var socket = await _network.ConnectAsync(port, TimeSpan.FromSeconds(2)).WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Runs the bundle; returns null when the runtime itself failed before the container's process existed.</summary>
    internal static async Task<RunningContainer?> LaunchAsync(string id, string directory, IContainerRuntime runtime, ImageConfig config, ContainerLogs logs, ContainerStartOptions options, CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(directory, "pid");
        File.Delete(pidFile);
        var process = runtime.StartRun(directory, id, pidFile);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                logs.Add(isError: false, e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                logs.Add(isError: true, e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();

        // The runtime writes the pid file once the container exists; exiting before that is the runtime's failure.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return new RunningContainer(id, directory, runtime, process, pid, config, logs, options.StopGracePeriod, options.OnDisposing);
            }

            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                if (File.Exists(pidFile + ".started"))
                {
                    // The namespaces backend's app started and already finished (a quick job): not a backend failure.
                    return new RunningContainer(id, directory, runtime, process, 0, config, logs, options.StopGracePeriod, options.OnDisposing);
                }

                process.Dispose();
                return null;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                process.Kill(entireProcessTree: true);
                process.Dispose();
                throw new ContainerStartException($"{runtime.Name} did not create the container within 30 s.", logs);
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Enters the container's network namespace and publishes <paramref name="ports"/>.</summary>
    internal async Task PublishAsync(IReadOnlyList<int> ports, bool hostNetwork, Action<string> log, CancellationToken cancellationToken)
    {
        if (hostNetwork)
        {
            log($"Rootless: container {Id} shares the host's network (this process cannot enter a network namespace its user namespace owns); its ports are the host's{(ports.Count == 0 ? "" : ": " + string.Join(", ", ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture))))}.");
            foreach (var port in ports)
            {
                _cliPorts[port] = port;
            }

            return;
        }

        try
        {
            _network = await NetworkNamespace.EnterAsync(Pid, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // The process is gone already (a quick job, or a crash): its namespace went with it.
            if (await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false) != Exited)
            {
                throw new ContainerStartException($"Cannot enter the container's network namespace: {ex.Message}", Logs, ex);
            }

            // Nothing to publish on an exited container. Whether that is the end of a job (an exit-code wait) or a
            // crash (any other wait) is for the wait strategies to say, with the container's output.
            if (ports.Count > 0)
            {
                log($"Container {Id} exited (code {Exited.Result}) before its ports could be published.");
            }

            return;
        }

        foreach (var port in ports)
        {
            _forwarders[port] = new PortForwarder(_network, port);
            log($"Container {Id} port {port}/tcp published on 127.0.0.1:{_forwarders[port].HostPort}.");
        }
    }

    /// <summary>Reads the ports the CLI published (the container was started with them).</summary>
    internal async Task PublishCliPortsAsync(CliRuntime cli, IReadOnlyList<int> ports, Action<string> log, CancellationToken cancellationToken)
    {
        if (ports.Count == 0)
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lookup = cli.GetPublishedPortsAsync(Id, ports, stop.Token);
        if (await Task.WhenAny(lookup, Exited).ConfigureAwait(false) != lookup)
        {
            // Exited first: as with the other backends, the wait strategies tell a finished job from a crash.
            await stop.CancelAsync().ConfigureAwait(false);
            await ((Task)lookup).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            log($"Container {Id} exited (code {Exited.Result}) before its ports could be published.");
            return;
        }

        var published = await lookup.ConfigureAwait(false);
        foreach (var port in ports)
        {
            _cliPorts[port] = published[port];
            log($"Container {Id} port {port}/tcp published on 127.0.0.1:{published[port]} by {cli.Name}.");
        }
    }

    private int FirstPublishedPort() =>
        _forwarders.Count > 0 ? _forwarders.Keys.First() : _cliPorts.Count > 0 ? _cliPorts.Keys.First() : throw new InvalidOperationException("The container publishes no port; set ContainerStartOptions.PublishedPorts or expose a port in the image.");

    private async Task<int> WaitForProcessAsync()
    {
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return _process.ExitCode;
    }
}
