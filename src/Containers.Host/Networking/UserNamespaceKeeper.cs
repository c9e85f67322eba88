using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Containers.Host.Lifecycle;
using Containers.Host.Runtimes;

namespace Containers.Host.Networking;

/// <summary>
/// The user namespace that a rootless host process's containers, their network namespaces and its container networks
/// live in, so that veth pairs can join them (creating one needs privilege over both ends' namespaces) and runc and
/// nsenter can enter them. It is kept by one process, the <see cref="RootlessForwarder"/>
/// (<c>unshare --user --map-root-user [--map-users …] -- dotnet exec Containers.Host.dll --port-forwarder …</c>), which
/// also makes the connections into containers that published ports need. Started with the first rootless container or
/// network of the process, stopped when the last is gone; it also exits when this process does (its stdin closes).
/// </summary>
internal sealed class UserNamespaceKeeper
{
    /// <summary>The directory under a cache that records the keepers of the processes using it (for reaping).</summary>
    public const string RecordsDirectoryName = "rootless";

    private const string RecordPrefix = "keeper-";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static UserNamespaceKeeper? s_current;
    private static string? s_unavailable;
    private static bool s_namespaceMade;

    private readonly Process _process;
    private readonly string _id;
    private readonly HashSet<string> _records = new(StringComparer.Ordinal);
    private int _leases;

    private UserNamespaceKeeper(Process process, string id, RootlessIdMapping mapping)
    {
        _process = process;
        _id = id;
        Mapping = mapping;
    }

    /// <summary>The keeper's pid.</summary>
    public int Pid => _process.Id;

    /// <summary>The user namespace file, which runc and nsenter join.</summary>
    public string UserNamespacePath => $"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/ns/user";

    /// <summary>The ids the namespace maps.</summary>
    public RootlessIdMapping Mapping { get; }

    /// <summary>The forwarder's abstract socket name.</summary>
    public string SocketName => ContainerHost.IdPrefix + _id;

    /// <summary>
    /// Makes a network namespace in the keeper's user namespace, held by a small process whose stamp is written into
    /// <paramref name="recordDirectory"/>, and runs <paramref name="setup"/> (ip commands) in it. Returns null and why
    /// when rootless private networks cannot be made here (found once per process, then not tried again).
    /// </summary>
    public static async Task<(HeldNetworkNamespace? Namespace, string? Unavailable)> CreateNetworkNamespaceAsync(string cacheDirectory, string recordDirectory, IReadOnlyList<string> setup, Action<string> log, CancellationToken cancellationToken)
    {
        var (keeper, unavailable) = await AcquireAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
        if (keeper is null)
        {
            return (null, unavailable);
        }

        try
        {
            var made = await HeldNetworkNamespace.StartAsync(keeper, recordDirectory, setup, cancellationToken).ConfigureAwait(false);
            s_namespaceMade = true;
            return (made, null);
        }
        catch (Exception ex) when (ex is Oci.OciException or IOException && !s_namespaceMade)
        {
            // The very first namespace failed: this machine does not allow it (not a passing hiccup); say so once and stop trying.
            await keeper.ReleaseAsync().ConfigureAwait(false);
            s_unavailable ??= "a network namespace could not be made in the rootless user namespace: " + ex.Message;
            return (null, s_unavailable);
        }
        catch
        {
            await keeper.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Asks the forwarder for a connection to 127.0.0.1:<paramref name="port"/> in the network namespace of process <paramref name="pid"/>.</summary>
    public Task<Socket> ConnectAsync(int pid, int port, TimeSpan timeout, CancellationToken cancellationToken) =>
        RootlessForwarder.ConnectAsync(SocketName, pid, port, timeout, cancellationToken);

    /// <summary>Drops one use; the last stops the keeper.</summary>
    public async ValueTask ReleaseAsync()
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (--_leases > 0)
            {
                return;
            }

            if (ReferenceEquals(s_current, this))
            {
                s_current = null;
            }

            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Kills the keepers recorded in <paramref name="cacheDirectory"/> whose owner is gone and removes their records; returns how many.</summary>
    public static int Reap(string cacheDirectory, Action<string>? log)
    {
        var records = Path.Combine(cacheDirectory, RecordsDirectoryName);
        var reaped = 0;
        foreach (var directory in Directory.Exists(records) ? Directory.GetDirectories(records, RecordPrefix + "*") : [])
        {
            if (OwnerStamp.IsFileOwnerAlive(Path.Combine(directory, "owner")))
            {
                continue;
            }

            KillStamped(Path.Combine(directory, "pid"));
            ContainerDirectory.DeleteDirectory(directory);
            reaped++;
            log?.Invoke($"Removed the rootless user namespace keeper {Path.GetFileName(directory)}, left by a test process that is gone.");
        }

        return reaped;
    }

    /// <summary>Kills the process named by the stamp ("pid starttime") in <paramref name="stampFile"/> if it still runs.</summary>
    public static void KillStamped(string stampFile)
    {
        try
        {
            var stamp = File.ReadAllText(stampFile);
            if (OwnerStamp.IsAlive(stamp))
            {
                NativeMethods.Kill(int.Parse(stamp.Split(' ')[0], CultureInfo.InvariantCulture), 9);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // No stamp: nothing was started, or it was removed already.
        }
    }

    private static async Task<(UserNamespaceKeeper? Keeper, string? Unavailable)> AcquireAsync(string cacheDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (s_unavailable is not null)
            {
                return (null, s_unavailable);
            }

            if (s_current is { } running && running._process.HasExited)
            {
                // Killed from outside: what it kept is gone; a new one serves from now on.
                log($"The rootless user namespace keeper (pid {running.Pid.ToString(CultureInfo.InvariantCulture)}) exited; starting another.");
                s_current = null;
            }

            if (s_current is null)
            {
                var (started, unavailable) = await StartAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
                if (started is null)
                {
                    s_unavailable = unavailable;
                    return (null, unavailable);
                }

                s_current = started;
            }

            s_current.Record(cacheDirectory);
            s_current._leases++;
            return (s_current, null);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<(UserNamespaceKeeper? Keeper, string? Unavailable)> StartAsync(string cacheDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        if (Missing() is { } missing)
        {
            return (null, missing);
        }

        var mapping = RootlessIdMapping.Current;
        var id = RecordPrefix + Guid.NewGuid().ToString("N")[..12];
        // An app with Containers.Host compiled in (the dotnet container tool) runs the forwarder as itself.
        string[] forwarder = HostHelperProcesses.OwnExecutable is { } own
            ? [own]
            : [DotnetHost()!, "exec", "--runtimeconfig", WriteRuntimeConfig(cacheDirectory), HostHelperProcesses.HostAssemblyFile!];
        var start = HostTools.StartInfo(HostTools.FindOnPath("unshare")!, [
            .. mapping.UnshareArguments(), "--", .. forwarder,
            RootlessForwarder.Argument, ContainerHost.IdPrefix + id, Path.Combine(cacheDirectory, RecordsDirectoryName, id)]);
        start.WorkingDirectory = "/";
        var process = Process.Start(start) ?? throw new IOException("Could not start unshare.");
        process.StandardInput.AutoFlush = true;
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var keeper = new UserNamespaceKeeper(process, id, mapping);
        string? ready;
        try
        {
            ready = await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ready = null;
        }
        catch (OperationCanceledException)
        {
            await keeper.StopAsync().ConfigureAwait(false);
            throw;
        }

        if (ready != RootlessForwarder.ReadyLine)
        {
            await keeper.StopAsync().ConfigureAwait(false);
            var output = await errors.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            return (null, $"the user namespace keeper (the .NET port forwarder in an unshare'd user namespace) did not start: {(ready ?? output).Trim().ReplaceLineEndings(" ")}");
        }

        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        log($"Rootless: started the user namespace keeper and port forwarder (pid {keeper.Pid.ToString(CultureInfo.InvariantCulture)}); {mapping.Describe()}.");
        return (keeper, null);
    }

    // What the private network needs besides user namespaces (which rootless needs anyway).
    private static string? Missing()
    {
        foreach (var (tool, package) in new[] { ("unshare", "util-linux"), ("nsenter", "util-linux") })
        {
            if (HostTools.FindOnPath(tool) is null)
            {
                return $"{tool} ({package}) is not on PATH";
            }
        }

        if (IpRoute.Executable is null)
        {
            return "ip (iproute2) is not on PATH";
        }

        if (HostHelperProcesses.OwnExecutable is not null)
        {
            return null;
        }

        if (HostHelperProcesses.HostAssemblyFile is null)
        {
            return "Containers.Host.dll has no file of its own (a single-file or Native AOT app that did not call HostHelperProcesses.RunIfHelperAsync), so it cannot run as the port forwarder";
        }

        return DotnetHost() is null ? "no dotnet host was found to run the port forwarder (set DOTNET_HOST_PATH)" : null;
    }

    // The host that runs this process when it is `dotnet`, else the one the running runtime belongs to, else PATH's.
    private static string? DotnetHost()
    {
        if (System.Environment.ProcessPath is { } process && Path.GetFileName(process) == "dotnet")
        {
            return process;
        }

        if (System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        var runtimeDirectory = HostHelperProcesses.RuntimeAssemblyDirectory;
        var besideRuntime = runtimeDirectory is null ? null : Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", "dotnet"));
        return besideRuntime is not null && File.Exists(besideRuntime) ? besideRuntime : HostTools.FindOnPath("dotnet");
    }

    // Containers.Host.dll ships without a runtimeconfig.json (it is a library in packages): one naming the runtime that
    // runs this process, which is there for sure.
    private static string WriteRuntimeConfig(string cacheDirectory)
    {
        var directory = Directory.CreateDirectory(Path.Combine(cacheDirectory, RecordsDirectoryName)).FullName;
        var version = System.Environment.Version;
        var path = Path.Combine(directory, $"Containers.Host.{version.Major.ToString(CultureInfo.InvariantCulture)}.{version.Minor.ToString(CultureInfo.InvariantCulture)}.runtimeconfig.json");
        if (!File.Exists(path))
        {
            var staging = path + "." + Guid.NewGuid().ToString("N")[..8];
            var majorMinor = version.Major.ToString(CultureInfo.InvariantCulture) + "." + version.Minor.ToString(CultureInfo.InvariantCulture);
            var config = new System.Text.Json.Nodes.JsonObject
            {
                ["runtimeOptions"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["tfm"] = "net" + majorMinor,
                    ["rollForward"] = "Major",
                    ["framework"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "Microsoft.NETCore.App", ["version"] = majorMinor + ".0" },
                },
            };
            File.WriteAllText(staging, config.ToJsonString());
            File.Move(staging, path, overwrite: true);
        }

        return path;
    }

    // The keeper's record in a cache: its owner (this process) and its own stamp, so a later start reaps it after a crash.
    private void Record(string cacheDirectory)
    {
        var directory = Path.Combine(cacheDirectory, RecordsDirectoryName, _id);
        if (!_records.Add(directory))
        {
            return;
        }

        var staging = Path.Combine(cacheDirectory, RecordsDirectoryName, ".new-" + _id);
        Directory.CreateDirectory(staging);
        File.WriteAllText(Path.Combine(staging, "owner"), OwnerStamp.Current);
        File.WriteAllText(Path.Combine(staging, "pid"), OwnerStamp.For(Pid));
        Directory.Move(staging, directory);
    }

    private async Task StopAsync()
    {
        try
        {
            // Nothing in it needs a graceful end: the namespaces it kept live on in their holders while they have any.
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }

        _process.Dispose();
        foreach (var record in _records)
        {
            ContainerDirectory.DeleteDirectory(record);
        }
    }
}

/// <summary>
/// A network namespace in the rootless user namespace (<see cref="UserNamespaceKeeper"/>), held by a shell that waits
/// on its stdin (<c>nsenter --user … -- unshare --net -- sh -c '…; read _'</c>): it goes when that process is killed
/// (dispose), or ends by itself when this process does. Its stamp in the container's or network's directory lets a
/// later start kill it after a crash.
/// </summary>
internal sealed class HeldNetworkNamespace : NetworkNamespaceHandle
{
    /// <summary>The file in the owning directory that records the holder ("pid starttime").</summary>
    public const string StampFile = "netns-holder";

    private readonly Process _holder;
    private readonly string _stampFile;
    private int _disposed;

    private HeldNetworkNamespace(UserNamespaceKeeper keeper, Process holder, string stampFile)
    {
        Keeper = keeper;
        _holder = holder;
        _stampFile = stampFile;
    }

    /// <summary>The keeper of the user namespace it lives in.</summary>
    public UserNamespaceKeeper Keeper { get; }

    /// <summary>The holder's pid.</summary>
    public int Pid => _holder.Id;

    public override string Path => $"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/ns/net";

    /// <summary>Starts a holder in a new network namespace of <paramref name="keeper"/>'s user namespace, loopback up and <paramref name="setup"/> run.</summary>
    public static async Task<HeldNetworkNamespace> StartAsync(UserNamespaceKeeper keeper, string recordDirectory, IReadOnlyList<string> setup, CancellationToken cancellationToken)
    {
        // The commands go to `ip -batch -` through printf: one ip process, and the holder prints ready only when they all worked.
        var commands = string.Join(' ', setup.Prepend("link set lo up").Select(Quote));
        var script = $"printf '%s\\n' {commands} | {Quote(IpRoute.Executable!)} -batch - && echo ready && read _";
        var start = HostTools.StartInfo(HostTools.FindOnPath("nsenter")!, [
            "--target", keeper.Pid.ToString(CultureInfo.InvariantCulture), "--user", "--preserve-credentials", "--",
            HostTools.FindOnPath("unshare")!, "--net", "--", "/bin/sh", "-c", script, "containers-sdk-netns", recordDirectory]);
        start.WorkingDirectory = "/";
        var holder = Process.Start(start) ?? throw new IOException("Could not start nsenter.");
        var errors = holder.StandardError.ReadToEndAsync(CancellationToken.None);
        var held = new HeldNetworkNamespace(keeper, holder, System.IO.Path.Combine(recordDirectory, StampFile));
        try
        {
            string? ready;
            try
            {
                ready = await holder.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new Oci.OciException("The network namespace holder did not get ready within 20 s.");
            }

            if (ready != "ready")
            {
                var output = await errors.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                throw new Oci.OciException($"The network namespace holder exited ({output.Trim().ReplaceLineEndings(" ")}); commands: link set lo up; {string.Join("; ", setup)}.");
            }

            await File.WriteAllTextAsync(held._stampFile, OwnerStamp.For(holder.Id), cancellationToken).ConfigureAwait(false);
            return held;
        }
        catch
        {
            // Only the holder: the caller releases the keeper.
            held.KillHolder();
            holder.Dispose();
            throw;
        }
    }

    public override async Task RunIpAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken)
    {
        var (code, output) = await HostTools.RunAsync(
            HostTools.FindOnPath("nsenter")!,
            ["--target", Pid.ToString(CultureInfo.InvariantCulture), "--user", "--net", "--preserve-credentials", "--", IpRoute.Executable!, "-batch", "-"],
            string.Join('\n', commands) + "\n",
            cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw new Oci.OciException($"ip could not set up the rootless container network ({output.Trim()}); commands: {string.Join("; ", commands)}.");
        }
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> inside the namespace, through the keeper's forwarder.</summary>
    public Task<Socket> ConnectAsync(int port, TimeSpan timeout, CancellationToken cancellationToken) =>
        Keeper.ConnectAsync(Pid, port, timeout, cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        KillHolder();
        await _holder.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        _holder.Dispose();
        File.Delete(_stampFile);
        await Keeper.ReleaseAsync().ConfigureAwait(false);
    }

    private void KillHolder()
    {
        try
        {
            _holder.Kill();
        }
        catch (InvalidOperationException)
        {
            // Exited already.
        }
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
