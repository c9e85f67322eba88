using System.Diagnostics;
using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using Containers.Oci;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Starts a reused graph's supervisor: this assembly run as a program (<c>dotnet exec … Containers.Host.dll --supervise
/// &lt;graph directory&gt;</c>) by the dotnet host that runs this process, detached from it.
/// </summary>
/// <remarks>
/// The supervisor runs from a copy of this assembly and the ones it needs under <c>&lt;cache&gt;/reuse/.host/&lt;build&gt;/</c>,
/// with a runtimeconfig written there: a test project's output has Containers.Host.dll without one, and rebuilding the
/// tests overwrites (or <c>dotnet clean</c> deletes) the files in place while a supervisor of the last run still uses them.
/// </remarks>
internal static class SupervisorProcess
{
    private const string Assembly = "Containers.Host.dll";

    /// <summary>The file, beside the settings, where the spawned process records its own stamp as it starts.</summary>
    private const string SpawnedFile = "supervisor.spawned";

    /// <summary>Starts the supervisor of <paramref name="paths"/>'s graph with <paramref name="settings"/>; returns its owner stamp once it listens.</summary>
    /// <exception cref="OciException">It could not start; the message has the end of its log.</exception>
    public static async Task<string> StartAsync(ReusePaths paths, SupervisorSettings settings, CancellationToken cancellationToken)
    {
        var command = Command(paths);
        await File.WriteAllBytesAsync(paths.Settings, JsonSerializer.SerializeToUtf8Bytes(settings, ReuseJsonContext.Default.SupervisorSettings), cancellationToken).ConfigureAwait(false);
        TrimLog(paths.Log);

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry variable in System.Environment.GetEnvironmentVariables())
        {
            var name = (string)variable.Key;

            // Profilers and startup hooks of the test run (code coverage, debuggers) are not the supervisor's.
            if (!name.StartsWith("CORECLR_", StringComparison.Ordinal) && !name.StartsWith("COR_", StringComparison.Ordinal) && name is not ("DOTNET_STARTUP_HOOKS" or "DOTNET_DiagnosticPorts"))
            {
                environment[name] = (string?)variable.Value;
            }
        }

        File.Delete(paths.SupervisorStamp);
        var spawnedFile = Path.Combine(paths.Directory, SpawnedFile);
        using (DetachedRun.Spawn(command, environment, paths.Log, paths.Log, spawnedFile))
        {
        }

        var spawned = OwnerStamp.Read(spawnedFile) ?? "";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (OwnerStamp.Read(paths.SupervisorStamp) is { Length: > 0 } stamp && stamp == spawned)
            {
                return stamp;
            }

            if (!OwnerStamp.IsAlive(spawned) || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new OciException($"The supervisor of reused graph {settings.Graph} did not start ({(OwnerStamp.IsAlive(spawned) ? "no answer within 60 s" : "it exited")}). The end of its log, {paths.Log}:{System.Environment.NewLine}{Tail(paths.Log, 20)}");
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    // An app with Containers.Host compiled in (the dotnet container tool) runs the supervisor as itself; otherwise it is
    // a copy of Containers.Host.dll under `dotnet exec`.
    private static string[] Command(ReusePaths paths)
    {
        if (HostHelperProcesses.OwnExecutable is { } own)
        {
            return [own, HostHelperProcesses.SupervisorArgument, paths.Directory];
        }

        var host = PrepareHost(paths);
        return [DotnetHost(), "exec", "--runtimeconfig", host.RuntimeConfig, host.Assembly, HostHelperProcesses.SupervisorArgument, paths.Directory];
    }

    /// <summary>The dotnet host that runs this process (the SDK names it in DOTNET_HOST_PATH; else found from the runtime's directory).</summary>
    public static string DotnetHost()
    {
        if (System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } named && File.Exists(named))
        {
            return named;
        }

        if (System.Environment.ProcessPath is { } process && Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            return process;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var dotnet = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(dotnet) ? dotnet : throw new OciException($"Cannot find the dotnet host to start the reuse supervisor with (not in DOTNET_HOST_PATH, not {dotnet}); set DOTNET_HOST_PATH.");
    }

    // <cache>/reuse/.host/<build of this assembly>/: the assemblies and a runtimeconfig for this process's runtime, made once.
    private static (string Assembly, string RuntimeConfig) PrepareHost(ReusePaths paths)
    {
        var build = typeof(SupervisorProcess).Assembly.ManifestModule.ModuleVersionId.ToString("N");
        var hosts = Path.Combine(paths.Root, ".host");
        var directory = Path.Combine(hosts, build);
        var runtimeConfig = Path.Combine(directory, "Containers.Host.runtimeconfig.json");
        if (!File.Exists(runtimeConfig))
        {
            var staging = directory + ".new-" + Guid.NewGuid().ToString("N")[..8];
            Directory.CreateDirectory(staging);
            CopyWithDependencies(HostHelperProcesses.HostAssemblyFile ?? throw new OciException("Containers.Host.dll has no file of its own (a single-file or Native AOT app that did not call HostHelperProcesses.RunIfHelperAsync), so it cannot run as a reused graph's supervisor."), staging);

            // The runtime this process runs on is installed for sure; the supervisor (built for net8.0) runs on it.
            var version = System.Environment.Version;
            File.WriteAllText(Path.Combine(staging, "Containers.Host.runtimeconfig.json"), $$"""
                {
                  "runtimeOptions": {
                    "tfm": "net8.0",
                    "rollForward": "Major",
                    "framework": { "name": "Microsoft.NETCore.App", "version": "{{version.Major}}.{{version.Minor}}.{{Math.Max(0, version.Build)}}" }
                  }
                }
                """);
            try
            {
                Directory.Move(staging, directory);
            }
            catch (IOException) when (File.Exists(runtimeConfig))
            {
                // Another start made it meanwhile.
                Directory.Delete(staging, recursive: true);
            }
        }

        PruneOtherHosts(paths, hosts, build);
        return (Path.Combine(directory, Assembly), runtimeConfig);
    }

    // Copies an assembly and, recursively, every assembly it references that lies beside it (not the framework's).
    private static void CopyWithDependencies(string assembly, string destination)
    {
        var source = Path.GetDirectoryName(assembly)!;
        var pending = new Stack<string>([Path.GetFileNameWithoutExtension(assembly)]);
        var copied = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var name))
        {
            var path = Path.Combine(source, name + ".dll");
            if (!copied.Add(name) || !File.Exists(path))
            {
                continue;
            }

            File.Copy(path, Path.Combine(destination, name + ".dll"));
            using var stream = File.OpenRead(path);
            using var reader = new PEReader(stream);
            var metadata = reader.GetMetadataReader();
            foreach (var handle in metadata.AssemblyReferences)
            {
                pending.Push(metadata.GetString(metadata.GetAssemblyReference(handle).Name));
            }
        }
    }

    // Copies of other builds that no reused graph of this cache runs from any more.
    private static void PruneOtherHosts(ReusePaths paths, string hosts, string current)
    {
        foreach (var directory in Directory.GetDirectories(hosts))
        {
            var name = Path.GetFileName(directory);
            if (name == current || name.Contains(".new-", StringComparison.Ordinal) && Directory.GetLastWriteTimeUtc(directory) > DateTime.UtcNow.AddMinutes(-1))
            {
                continue;
            }

            var inUse = Directory.GetDirectories(paths.Root)
                .Where(graph => !Path.GetFileName(graph).StartsWith('.'))
                .Any(graph => OwnerStamp.Read(Path.Combine(graph, "supervisor")) is { } stamp && OwnerStamp.IsAlive(stamp) && (OwnerStamp.Pid(stamp) is { } pid && RunsFrom(pid, directory)));
            if (!inUse)
            {
                ContainerDirectory.DeleteDirectory(directory);
            }
        }
    }

    private static bool RunsFrom(int pid, string directory)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Contains(directory, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    // The supervisors of a cache share one log; it is started afresh once it passes a megabyte.
    private static void TrimLog(string log)
    {
        try
        {
            if (new FileInfo(log) is { Exists: true, Length: > 1024 * 1024 })
            {
                File.Move(log, log + ".1", overwrite: true);
            }
        }
        catch (IOException)
        {
            // Trimmed by another start meanwhile.
        }
    }

    internal static string Tail(string file, int lines)
    {
        try
        {
            return string.Join(System.Environment.NewLine, File.ReadLines(file).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
