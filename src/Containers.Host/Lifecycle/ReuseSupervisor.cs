using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Containers.Host.Networking;
using Containers.Host.Runtimes;
using Containers.Host.Storage;
using Containers.Oci;

namespace Containers.Host.Lifecycle;

/// <summary>
/// The process that owns a reused graph between test runs (<c>Containers.Host.dll --supervise &lt;graph directory&gt;</c>).
/// The graph's containers, networks and volumes carry its owner stamp, so reapers leave them while it lives and remove
/// them once it is gone. It forwards the ports that test processes would otherwise forward, counts leases (one connection
/// per test process using the graph), and after the idle time with none it stops the members in reverse dependency order,
/// removes everything and exits. A stop request, SIGTERM, or its starter going away before the graph was ready do the same.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ReuseSupervisor
{
    private const int SolSocket = 1, SoPeerCredentials = 17;

    private readonly ReusePaths _paths;
    private readonly SupervisorSettings _settings;
    private readonly object _gate = new();
    private readonly Dictionary<string, (NetworkNamespace Namespace, List<PortForwarder> Forwarders)> _published = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<Stop> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _idle = new();
    private readonly Dictionary<string, IContainerRuntime> _runtimes = new(StringComparer.Ordinal);
    private ReuseState? _state;
    private bool _startClaimed;
    private bool _ready;
    private bool _stopping;
    private int _leases;

    private ReuseSupervisor(ReusePaths paths, SupervisorSettings settings)
    {
        _paths = paths;
        _settings = settings;
    }

    private enum StopReason
    {
        Idle,
        Requested,
        Signal,
        Abandoned,
        Removed,
    }

    private TimeSpan IdleTimeout => TimeSpan.FromSeconds(_settings.IdleTimeoutSeconds);

    /// <summary>Supervises the reused graph whose directory is <paramref name="directory"/> until it is stopped; the process's exit code.</summary>
    public static async Task<int> RunAsync(string directory)
    {
        SupervisorSettings settings;
        try
        {
            settings = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(directory, "supervisor.json")).ConfigureAwait(false), ReuseJsonContext.Default.SupervisorSettings)
                ?? throw new JsonException("empty");
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            await Console.Error.WriteLineAsync($"{DateTimeOffset.Now:O} cannot read the settings in {directory}: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        return await new ReuseSupervisor(new ReusePaths(settings.CacheDirectory, settings.Graph), settings).RunAsync().ConfigureAwait(false);
    }

    private async Task<int> RunAsync()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(_paths.SocketName));
        }
        catch (SocketException ex)
        {
            Log($"Cannot listen ({ex.Message}): another supervisor of graph {_settings.Graph} runs; exiting.");
            return 3;
        }

        listener.Listen(64);
        File.WriteAllText(_paths.SupervisorStamp + ".tmp", OwnerStamp.Process);
        File.Move(_paths.SupervisorStamp + ".tmp", _paths.SupervisorStamp, overwrite: true);
        Log($"Supervising graph {_settings.Graph} for {_settings.StartedBy}; it stops after {Describe(IdleTimeout)} without a user.");

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (context.Signal != PosixSignal.SIGHUP)
            {
                _stop.TrySetResult(new Stop(StopReason.Signal, null, context.Signal.ToString()));
            }
        }

        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
        _ = AcceptAsync(listener);
        _ = WatchIdleAsync();

        var stop = await _stop.Task.ConfigureAwait(false);
        lock (_gate)
        {
            _stopping = true;
        }

        listener.Dispose();
        try
        {
            await TeardownAsync(stop).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log($"Stopping graph {_settings.Graph} failed: {ex}");
        }
        finally
        {
            _stopped.TrySetResult();
        }

        // The one who asked gets its answer before the process ends.
        await Task.Delay(100).ConfigureAwait(false);
        return 0;
    }

    private async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    // One connection: its requests in order; its end releases its lease (or abandons a start not yet ready).
    private async Task ServeAsync(Socket client)
    {
        var (peerPid, peerUid) = PeerOf(client);
        var peer = $"pid {peerPid.ToString(CultureInfo.InvariantCulture)}";
        var role = "";
        try
        {
            using var owned = client;
            if (peerUid != NativeMethods.GetEffectiveUserId())
            {
                Log($"Refused a connection from {peer} of uid {peerUid.ToString(CultureInfo.InvariantCulture)}: only uid {NativeMethods.GetEffectiveUserId().ToString(CultureInfo.InvariantCulture)} may use this graph.");
                return;
            }

            var stream = new NetworkStream(client, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };
            try
            {
                while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    string reply;
                    switch (words.FirstOrDefault())
                    {
                        case "start" when role == "":
                            (reply, role) = ClaimStart(peer);
                            break;
                        case "publish" when role == "start":
                            reply = await PublishAsync(words).ConfigureAwait(false);
                            break;
                        case "ready" when role == "start":
                            (reply, role) = Ready(peer);
                            break;
                        case "attach" when role == "":
                            (reply, role) = Attach(peer);
                            break;
                        case "stop":
                            reply = await RequestStopAsync(peer).ConfigureAwait(false);
                            break;
                        case "release":
                            return;
                        default:
                            reply = "error unexpected request: " + line;
                            break;
                    }

                    await writer.WriteLineAsync(reply).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The peer went away (a killed test process): the same as a release.
            }
        }
        finally
        {
            Ended(role, peer);
        }
    }

    private void Ended(string role, string peer)
    {
        lock (_gate)
        {
            if (role == "lease")
            {
                if (--_leases == 0)
                {
                    _idle.Restart();
                }

                Log($"Released by {peer}; {(_leases == 0 ? $"idle now, stops in {Describe(IdleTimeout)} unless used" : $"{_leases.ToString(CultureInfo.InvariantCulture)} user(s) left")}.");
            }
            else if (role == "start")
            {
                Log($"Its start by {peer} ended before the graph was ready.");
                _stop.TrySetResult(new Stop(StopReason.Abandoned, null, peer));
            }
        }
    }

    private (string Reply, string Role) ClaimStart(string peer)
    {
        lock (_gate)
        {
            if (_startClaimed)
            {
                return ("error this graph's start was claimed already", "");
            }

            _startClaimed = true;
        }

        Log($"Started by {peer}.");
        return ("ok", "start");
    }

    private (string Reply, string Role) Ready(string peer)
    {
        var state = ReuseState.TryRead(_paths.State);
        if (state is null)
        {
            return ("error no state in " + _paths.State, "start");
        }

        lock (_gate)
        {
            _state = state;
            _ready = true;
            _leases++;
        }

        Log($"Graph {state.Graph} ready (key {ReuseKey.Short(state.Key)}): {string.Join(", ", state.Members.Select(m => m.Name + " " + m.Id))}; used by {peer}.");
        return ("ok", "lease");
    }

    private (string Reply, string Role) Attach(string peer)
    {
        lock (_gate)
        {
            if (_stopping || !_ready)
            {
                return ("stopping", "");
            }

            _leases++;
            Log($"Attached by {peer} ({_leases.ToString(CultureInfo.InvariantCulture)} user(s)).");
            return ("ok " + _leases.ToString(CultureInfo.InvariantCulture), "lease");
        }
    }

    private async Task<string> RequestStopAsync(string peer)
    {
        _stop.TrySetResult(new Stop(StopReason.Requested, null, peer));
        await _stopped.Task.ConfigureAwait(false);
        return "stopped";
    }

    // publish <container id> <pid> <port>...: forwarders of this process into the container's network namespace.
    private async Task<string> PublishAsync(string[] words)
    {
        try
        {
            var id = words[1];
            var pid = int.Parse(words[2], CultureInfo.InvariantCulture);
            var network = await NetworkNamespace.EnterAsync(pid, CancellationToken.None).ConfigureAwait(false);
            var forwarders = words[3..].Select(port => new PortForwarder(network, int.Parse(port, CultureInfo.InvariantCulture))).ToList();
            lock (_gate)
            {
                _published[id] = (network, forwarders);
            }

            Log($"Container {id}: {string.Join(", ", forwarders.Select(f => $"{f.ContainerPort.ToString(CultureInfo.InvariantCulture)}/tcp on 127.0.0.1:{f.HostPort.ToString(CultureInfo.InvariantCulture)}"))}.");
            return "published " + string.Join(' ', forwarders.Select(f => f.ContainerPort.ToString(CultureInfo.InvariantCulture) + "=" + f.HostPort.ToString(CultureInfo.InvariantCulture)));
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or SocketException)
        {
            return "error " + ex.Message.ReplaceLineEndings(" ");
        }
    }

    private async Task WatchIdleAsync()
    {
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(IdleTimeout.TotalMilliseconds / 4, 50, 1000));
        while (!_stop.Task.IsCompleted)
        {
            await Task.Delay(poll).ConfigureAwait(false);

            // Its directory removed by hand (the cache deleted, say): the graph cannot be found or locked any more.
            if (!Directory.Exists(_paths.Directory))
            {
                _stop.TrySetResult(new Stop(StopReason.Removed, null, null));
                return;
            }

            bool idle;
            lock (_gate)
            {
                idle = _ready && !_stopping && _leases == 0 && _idle.Elapsed >= IdleTimeout;
            }

            if (!idle)
            {
                continue;
            }

            // Under the graph's lock no start can be attaching meanwhile; one that holds it now gets a lease or finds it gone.
            var held = FileLock.TryExclusiveCurrent(_paths.Lock);
            if (held is null)
            {
                continue;
            }

            lock (_gate)
            {
                if (_leases == 0)
                {
                    _stopping = true;
                    _stop.TrySetResult(new Stop(StopReason.Idle, held, null));
                    return;
                }
            }

            held.Dispose();
        }
    }

    // Stops the members (dependents first), then removes everything this process owns, and the graph's directory.
    private async Task TeardownAsync(Stop stop)
    {
        var clock = Stopwatch.StartNew();
        List<(NetworkNamespace Namespace, List<PortForwarder> Forwarders)> published;
        lock (_gate)
        {
            published = [.. _published.Values];
            _published.Clear();
        }

        foreach (var (network, forwarders) in published)
        {
            foreach (var forwarder in forwarders)
            {
                await forwarder.DisposeAsync().ConfigureAwait(false);
            }

            await network.DisposeAsync().ConfigureAwait(false);
        }

        var state = _state ?? ReuseState.TryRead(_paths.State);
        foreach (var member in Enumerable.Reverse(state?.Members ?? []))
        {
            await StopMemberAsync(state!.Runtime, member).ConfigureAwait(false);
        }

        var removed = await ContainerReaper.ReapAsync(_settings.CacheDirectory, Log, CancellationToken.None, reclaimOwner: OwnerStamp.Process).ConfigureAwait(false);
        removed += await RemoveCliResourcesAsync().ConfigureAwait(false);

        // The lock is removed with the graph by whoever holds it: this process when it can take it, else the start or
        // stop that holds it now (it removes the lock file when it finds no graph directory).
        var held = stop.Lock ?? FileLock.TryExclusiveCurrent(_paths.Lock);
        ContainerDirectory.DeleteDirectory(_paths.Directory);
        if (held is not null)
        {
            held.DeleteFile();
            held.Dispose();
        }

        var what = stop.Reason switch
        {
            StopReason.Idle => $"idle for {Describe(IdleTimeout)}: stopped",
            StopReason.Requested => $"stopped as {stop.By} asked",
            StopReason.Signal => $"stopped on {stop.By}",
            StopReason.Removed => $"stopped: its directory {_paths.Directory} was removed",
            _ => $"removed: its start by {stop.By} did not finish",
        };
        Log($"Graph {_settings.Graph} {what} ({(state?.Members.Count ?? 0).ToString(CultureInfo.InvariantCulture)} member(s), {removed.ToString(CultureInfo.InvariantCulture)} thing(s) removed in {clock.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture)} ms).");
    }

    // As RunningContainer.StopAsync does: the stop signal, the grace period, SIGKILL; then the runtime's state goes.
    private async Task StopMemberAsync(string runtimeName, ReusedMember member)
    {
        var directory = Path.Combine(ContainerDirectory.ContainersDirectory(_settings.CacheDirectory), member.Id);
        try
        {
            var runtime = Runtime(runtimeName);
            if (Directory.Exists(directory) && DetachedRun.ExitCode(directory) is null)
            {
                await runtime.KillAsync(member.Id, member.StopSignal, CancellationToken.None).ConfigureAwait(false);
                if (!await ExitsWithinAsync(directory, TimeSpan.FromSeconds(member.StopGraceSeconds)).ConfigureAwait(false))
                {
                    await runtime.KillAsync(member.Id, "SIGKILL", CancellationToken.None).ConfigureAwait(false);
                    await ExitsWithinAsync(directory, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
            }

            await runtime.DeleteAsync(member.Id, CancellationToken.None).ConfigureAwait(false);
            await DetachedRun.WaitForWaiterAsync(directory, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OciException or IOException or PlatformNotSupportedException)
        {
            Log($"Stopping member {member.Name} ({member.Id}) failed ({ex.Message}); it is removed all the same.");
        }
    }

    private static async Task<bool> ExitsWithinAsync(string directory, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (DetachedRun.ExitCode(directory) is null && DetachedRun.WaiterPid(directory) is not null)
        {
            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        return true;
    }

    // The CLI's networks and volumes are labelled with their owner, not kept in directories: those labelled with this process.
    private static async Task<int> RemoveCliResourcesAsync()
    {
        if (CliRuntime.Find() is not { } cli)
        {
            return 0;
        }

        var removed = 0;
        foreach (var (name, owner) in await CliNetworkDriver.ListOwnedAsync(cli.Path, CancellationToken.None).ConfigureAwait(false))
        {
            if (owner == OwnerStamp.Process)
            {
                await HostTools.RunAsync(cli.Path, ["network", "rm", "--force", name], CancellationToken.None).ConfigureAwait(false);
                removed++;
            }
        }

        var (code, output) = await HostTools.RunAsync(cli.Path, ["volume", "ls", "--filter", "label=" + CliNetworkDriver.OwnerLabel, "--format", "{{.Name}}\t{{index .Labels \"" + CliNetworkDriver.OwnerLabel + "\"}}"], CancellationToken.None).ConfigureAwait(false);
        foreach (var line in code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [])
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && parts[1] == OwnerStamp.Process && parts[0].StartsWith(ContainerVolume.CliNamePrefix, StringComparison.Ordinal))
            {
                await HostTools.RunAsync(cli.Path, ["volume", "rm", "--force", parts[0]], CancellationToken.None).ConfigureAwait(false);
                removed++;
            }
        }

        return removed;
    }

    private IContainerRuntime Runtime(string name)
    {
        if (!_runtimes.TryGetValue(name, out var runtime))
        {
            runtime = _runtimes[name] = RuntimeSelector.Named(name, _settings.CacheDirectory);
        }

        return runtime;
    }

    private void Log(string message) =>
        Console.Out.WriteLine($"{DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} [{_settings.Graph} {System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}] {message}");

    internal static string Describe(TimeSpan span) =>
        span.TotalMinutes >= 1 && span.Seconds == 0 ? $"{span.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min" : $"{span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";

    // SO_PEERCRED: struct ucred { pid_t pid; uid_t uid; gid_t gid; }.
    private static (int Pid, uint Uid) PeerOf(Socket socket)
    {
        var credentials = new byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCredentials, credentials) == 12
            ? (BitConverter.ToInt32(credentials, 0), BitConverter.ToUInt32(credentials, 4))
            : (0, uint.MaxValue);
    }

    private sealed record Stop(StopReason Reason, FileLock? Lock, string? By);
}
