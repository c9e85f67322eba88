using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.Infrastructure;

/// <summary>
/// The environment for publishes that use the Containers.Sdk build server, with a private data directory (its
/// socket lives there), a diagnostics log and an idle timeout; disposing stops the server the test started.
/// </summary>
public sealed class BuildServerScope : IDisposable
{
    /// <summary>Creates the scope; the server it starts exits after <paramref name="idleSeconds"/> without work.</summary>
    public BuildServerScope(int idleSeconds)
    {
        // Short: a Unix socket path holds about 100 bytes.
        DataHome = Directory.CreateTempSubdirectory("csb").FullName;
        LogFile = Path.Combine(DataHome, "server.log");
        Environment = new Dictionary<string, string>
        {
            ["ContainerUseBuildServer"] = "true",
            ["XDG_DATA_HOME"] = DataHome,
            ["CONTAINERS_SDK_BUILD_SERVER_LOG"] = LogFile,
            ["CONTAINERS_SDK_BUILD_SERVER_IDLE_SECONDS"] = idleSeconds.ToString(CultureInfo.InvariantCulture),
            // However slow the machine, the first publish waits for the server its build started.
            ["CONTAINERS_SDK_BUILD_SERVER_START_WAIT_SECONDS"] = "60",
        };
    }

    /// <summary>XDG_DATA_HOME of the publishes: LocalApplicationData, where the server's socket directory is.</summary>
    public string DataHome { get; }

    /// <summary>The server's diagnostics log (CONTAINERS_SDK_BUILD_SERVER_LOG).</summary>
    public string LogFile { get; }

    /// <summary>The variables to publish with.</summary>
    public Dictionary<string, string> Environment { get; }

    /// <summary>The pid of the server the first publish started.</summary>
    public int? ServerProcessId { get; private set; }

    /// <summary>The server's diagnostics so far.</summary>
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    /// <summary>How many publishes the server has run.</summary>
    public int Served => Regex.Matches(Log, "PublishContainerImage for .*: (succeeded|failed)").Count;

    /// <summary>How many settings resolutions (ComputeContainerConfig) the server has run.</summary>
    public int ResolvedInServer => Regex.Matches(Log, "ComputeContainerConfig for .*: (succeeded|failed)").Count;

    /// <summary>The socket files in the server's directory.</summary>
    public string[] Sockets =>
        Directory.Exists(Path.Combine(DataHome, "containers-sdk", "build-server"))
            ? Directory.GetFiles(Path.Combine(DataHome, "containers-sdk", "build-server"), "*.sock")
            : [];

    /// <summary>Reads the server's pid from the log of the publish that started it; fails the test if none did.</summary>
    public void RecordStartedServer(ToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var started = Regex.Matches(result.StandardOutput, @"Started the Containers\.Sdk build server \(pid (\d+)\)");
        Assert.IsNotEmpty(started, "the first publish starts a build server:\n" + result.StandardOutput + result.StandardError);
        ServerProcessId = int.Parse(started[^1].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the server has warmed up, and checks that its warm-up publish worked.</summary>
    public async Task WaitForWarmupAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (!Log.Contains("warmed up", StringComparison.Ordinal))
        {
            Assert.IsLessThan(60, waited.Elapsed.TotalSeconds, "the server warms up within a minute:\n" + Log);
            await Task.Delay(200, cancellationToken);
        }

        Assert.DoesNotContain("its publish failed", Log, "the warm-up's own publish works");
    }

    /// <summary>True when no server of this scope runs any more (within <paramref name="timeout"/>).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            if (ServerProcesses().Count == 0)
            {
                return true;
            }

            await Task.Delay(250, cancellationToken);
        }

        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var pid in ServerProcesses())
        {
            try
            {
                using var server = Process.GetProcessById(pid);
                server.Kill();
                server.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // Exited meanwhile.
            }
        }

        Directory.Delete(DataHome, recursive: true);
    }

    // The servers whose socket is in this scope's data directory (any a build of the test started, however many).
    private List<int> ServerProcesses()
    {
        var servers = new List<int>();
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && IsServerOfThisScope(pid))
            {
                servers.Add(pid);
            }
        }

        return servers;
    }

    // A pid may be reused, and an exited process has an empty command line: the command line says whether it is a server of ours.
    private bool IsServerOfThisScope(int pid)
    {
        try
        {
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
            return commandLine.Contains("--build-server", StringComparison.Ordinal) && commandLine.Contains(DataHome, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
