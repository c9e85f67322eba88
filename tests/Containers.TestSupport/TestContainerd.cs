using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Containers.TestSupport;

/// <summary>
/// A real containerd (Debian's package) per test: its own socket, root, state directory and config under a
/// temporary directory, without the CRI plugin. <see cref="DisposeAsync"/> stops it, kills the shims it started,
/// unmounts what it mounted and deletes the directory.
/// </summary>
public sealed class TestContainerd : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
    private static readonly ConcurrentDictionary<TestContainerd, byte> Running = new();

    // ctr and the runc shim put fifos, shim sockets and runc state under this fixed directory whatever the config says.
    private const string SharedRunDirectory = "/run/containerd";
    private static readonly object RunDirectoryLock = new();
    private static bool? s_runDirectoryWasOurs;

    private readonly StringBuilder _log = new();
    private Process? _process;
    private int _disposed;

    static TestContainerd()
    {
        // A test host that exits without disposing must not leave a containerd behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var containerd in Running.Keys)
            {
                containerd.StopAsync().GetAwaiter().GetResult();
            }
        };
    }

    private TestContainerd(string directory, string ctr)
    {
        Directory = directory;
        CtrPath = ctr;
    }

    /// <summary>The temporary directory holding config, root, state and socket.</summary>
    public string Directory { get; }

    /// <summary>The gRPC socket's path (what ContainerContainerdAddress takes).</summary>
    public string Address => Path.Combine(Directory, "containerd.sock");

    /// <summary>containerd's root (content store, snapshots, metadata).</summary>
    public string RootDirectory => Path.Combine(Directory, "root");

    /// <summary>The full path of <c>ctr</c>.</summary>
    public string CtrPath { get; }

    /// <summary>Starts containerd and waits until it answers <c>ctr version</c>; inconclusive when containerd or ctr is not installed.</summary>
    public static async Task<TestContainerd> StartAsync(CancellationToken cancellationToken = default)
    {
        var executable = TestTools.Require("containerd", "containerd");
        var ctr = TestTools.Require("ctr", "containerd");
        // Short: a unix socket path has at most 107 bytes.
        var directory = System.IO.Directory.CreateTempSubdirectory("ctrd-").FullName;
        var containerd = new TestContainerd(directory, ctr);
        try
        {
            await containerd.StartProcessAsync(executable, cancellationToken);
            return containerd;
        }
        catch
        {
            await containerd.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>ctr -a ADDRESS -n NAMESPACE ARGS</c> and returns what it printed; throws <see cref="ToolFailedException"/> when it fails.</summary>
    public async Task<string> CtrAsync(string @namespace, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var result = await TestTools.RunCheckedAsync(CtrPath, ["-a", Address, "-n", @namespace, .. arguments], cancellationToken: cancellationToken);
        return result.StandardOutput;
    }

    /// <summary>The digests of every blob in the namespace's content store (<c>ctr content ls -q</c>).</summary>
    public async Task<IReadOnlySet<string>> ContentDigestsAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        var output = await CtrAsync(@namespace, ["content", "ls", "-q"], cancellationToken);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The labels of a blob, from <c>ctr content ls</c> (the LABELS column, <c>k=v,k=v</c>).</summary>
    public async Task<IReadOnlyDictionary<string, string>> ContentLabelsAsync(string @namespace, string digest, CancellationToken cancellationToken = default)
    {
        var output = await CtrAsync(@namespace, ["content", "ls"], cancellationToken);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(digest, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{digest} is not in namespace {@namespace}:{Environment.NewLine}{output}");
        var column = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Last();
        return column == "-"
            ? new Dictionary<string, string>()
            : column.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }

    /// <summary>Asks containerd to collect garbage now and waits for it (<c>ctr content prune</c> does not exist in 1.6; a lease delete with --sync does).</summary>
    public async Task CollectGarbageAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        var lease = "gc-" + Guid.NewGuid().ToString("N");
        await CtrAsync(@namespace, ["leases", "create", "--id", lease], cancellationToken);
        await CtrAsync(@namespace, ["leases", "delete", "--sync", lease], cancellationToken);
    }

    /// <summary>Everything containerd printed so far.</summary>
    public string ReadLog()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    /// <summary>Stops containerd, kills its shims, unmounts and deletes the directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task StartProcessAsync(string executable, CancellationToken cancellationToken)
    {
        var config = Path.Combine(Directory, "config.toml");
        // CRI needs a CNI setup and is not what an import uses; the opt plugin would write to /opt.
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{RootDirectory}"
            state = "{Path.Combine(Directory, "state")}"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]

            [grpc]
              address = "{Address}"

            [ttrpc]
              address = "{Address}.ttrpc"

            [debug]
              address = "{Path.Combine(Directory, "debug.sock")}"

            [plugins."io.containerd.internal.v1.opt"]
              path = "{Path.Combine(Directory, "opt")}"
            """, cancellationToken);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(config);
        lock (RunDirectoryLock)
        {
            s_runDirectoryWasOurs ??= !System.IO.Directory.Exists(SharedRunDirectory);
            _process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} could not be started.");
            Running[this] = 0;
        }

        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartupTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"containerd --config {config} exited with code {_process.ExitCode}:{Environment.NewLine}{ReadLog()}");
            }

            if (File.Exists(Address) && await AcceptsAsync(Address))
            {
                var version = await TestTools.RunAsync(CtrPath, ["-a", Address, "version"], cancellationToken: cancellationToken);
                if (version.ExitCode == 0)
                {
                    return;
                }
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new InvalidOperationException($"containerd --config {config} did not answer within {StartupTimeout.TotalSeconds} s:{Environment.NewLine}{ReadLog()}");
    }

    private static async Task<bool> AcceptsAsync(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task StopAsync()
    {
        Running.TryRemove(this, out _);
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
        // Shims outlive containerd by design (they keep containers running across restarts): find ours by the
        // address on their command line and end them, then what they and the snapshotter mounted under our directory.
        foreach (var shim in ProcessesMentioning(Address))
        {
            try
            {
                using var process = Process.GetProcessById(shim);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        foreach (var mount in MountsUnder(Directory))
        {
            await TestTools.RunAsync("umount", ["-l", mount]);
        }

        // The shared directory goes too when our containerds made it and left nothing but empty directories in it.
        lock (RunDirectoryLock)
        {
            if (s_runDirectoryWasOurs == true && Running.IsEmpty && System.IO.Directory.Exists(SharedRunDirectory)
                && !System.IO.Directory.EnumerateFileSystemEntries(SharedRunDirectory, "*", SearchOption.AllDirectories).Any(File.Exists))
            {
                System.IO.Directory.Delete(SharedRunDirectory, recursive: true);
                s_runDirectoryWasOurs = null;
            }
        }
    }

    /// <summary>The ids of processes whose command line contains <paramref name="text"/>.</summary>
    public static IReadOnlyList<int> ProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var entry in System.IO.Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(text, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>The mount points at or below <paramref name="directory"/>, deepest first.</summary>
    public static IReadOnlyList<string> MountsUnder(string directory)
    {
        var prefix = Path.TrimEndingDirectorySeparator(directory);
        return File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(point => point == prefix || point.StartsWith(prefix + "/", StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(point => point.Length)
            .ToList();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
