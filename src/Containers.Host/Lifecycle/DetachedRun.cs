using System.Diagnostics;
using System.Globalization;
using Containers.Host.Runtimes;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Starts processes that outlive this one: in a session of their own (<c>setsid</c>), not children of this process (a
/// shell in between exits at once), stdin from <c>/dev/null</c> and stdout/stderr appended to files. So neither a killed
/// test process, nor a kill of its whole process tree, nor Ctrl+C in its terminal reaches them, and they hold no pipe of
/// the test run open. A reused graph's members and its supervisor run like this.
/// </summary>
internal static class DetachedRun
{
    /// <summary>In a detached container's directory: the exit code of its runtime process, written when it ends.</summary>
    public const string ExitFile = "exit";

    /// <summary>In a detached container's directory: what the container wrote to stdout and stderr.</summary>
    public const string StandardOutputFile = "stdout", StandardErrorFile = "stderr";

    /// <summary>In a detached container's directory: the owner stamp of the shell that waits for the runtime process.</summary>
    public const string WaiterFile = "waiter";

    // The waiter: records its own stamp, runs the runtime process, records its exit code (written, then renamed: a reader
    // never sees half of it).
    private const string WaiterScript = """
        d=$1; shift
        "$@"
        code=$?
        echo "$code" > "$d/exit.tmp" && mv -f "$d/exit.tmp" "$d/exit"
        """;

    /// <summary>
    /// Starts <paramref name="start"/> (its file, arguments and environment) detached, under a shell that writes its exit
    /// code to <c>&lt;directory&gt;/exit</c>; its output goes to <c>stdout</c> and <c>stderr</c> there. Returns the waiting
    /// shell as a <see cref="Process"/> (not a child of this one: the exit file has its exit code), or an exited process
    /// when it is gone already.
    /// </summary>
    public static Process Start(ProcessStartInfo start, string directory)
    {
        File.Delete(Path.Combine(directory, ExitFile));
        var shell = Spawn(
            ["/bin/sh", "-c", WaiterScript, "containers-sdk-waiter", directory, start.FileName, .. start.ArgumentList],
            start.Environment,
            Path.Combine(directory, StandardOutputFile),
            Path.Combine(directory, StandardErrorFile),
            Path.Combine(directory, WaiterFile));
        if (WaiterPid(directory) is { } pid)
        {
            try
            {
                var waiter = Process.GetProcessById(pid);
                shell.Dispose();
                return waiter;
            }
            catch (ArgumentException)
            {
                // Gone meanwhile.
            }
        }

        // The runtime failed at once: the shell that started it (exited) stands for it; the exit file says how it ended.
        return shell;
    }

    /// <summary>
    /// Runs <paramref name="arguments"/> detached, with <paramref name="environment"/>, output appended to the two files,
    /// and waits until it wrote its owner stamp to <paramref name="stampFile"/>. Returns the (exited) shell that started it.
    /// </summary>
    public static Process Spawn(IReadOnlyList<string> arguments, IDictionary<string, string?> environment, string standardOutput, string standardError, string stampFile)
    {
        // The outer shell starts the process in the background (so this process is not its parent) and exits. setsid gives
        // it a session of its own without forking (a background job is no process group leader), so its pid stays the
        // one it writes. Without setsid (not Linux) it still is no child of this process.
        var setsid = HostTools.FindOnPath("setsid");
        var start = HostTools.StartInfo("/bin/sh", [
            "-c",
            "o=$1; e=$2; shift 2; \"$@\" </dev/null >>\"$o\" 2>>\"$e\" &",
            "containers-sdk-detach", standardOutput, standardError,
            .. setsid is null ? Array.Empty<string>() : [setsid],
            "/bin/sh", "-c", "echo \"$$\" > \"$0.tmp\" && mv -f \"$0.tmp\" \"$0\" && exec \"$@\"", stampFile, .. arguments,
        ]);
        start.WorkingDirectory = "/";
        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        File.Delete(stampFile);
        var shell = Process.Start(start) ?? throw new IOException("Could not start /bin/sh.");
        shell.StandardInput.Close();
        shell.WaitForExit();
        if (shell.ExitCode != 0)
        {
            throw new IOException($"Could not start {arguments[0]} detached: {shell.StandardError.ReadToEnd().Trim()}");
        }

        var deadline = Stopwatch.StartNew();
        while (!File.Exists(stampFile) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(1);
        }

        // The pid with its start time, so that liveness checks never take a reused pid for it.
        if (File.Exists(stampFile) && int.TryParse(File.ReadAllText(stampFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            OwnerStamp.Write(stampFile, pid);
        }

        return shell;
    }

    /// <summary>The pid of a detached container's waiting shell while it runs, else null.</summary>
    public static int? WaiterPid(string directory) =>
        OwnerStamp.Read(Path.Combine(directory, WaiterFile)) is { } stamp && OwnerStamp.IsAlive(stamp) ? OwnerStamp.Pid(stamp) : null;

    /// <summary>The exit code a detached container's waiter recorded, or null while it runs.</summary>
    public static int? ExitCode(string directory)
    {
        try
        {
            return int.Parse(File.ReadAllText(Path.Combine(directory, ExitFile)).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Waits until a detached container's waiter is gone (it writes the exit file as the container ends), at most <paramref name="timeout"/>.</summary>
    public static async Task WaitForWaiterAsync(string directory, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (WaiterPid(directory) is not null && deadline.Elapsed < timeout)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
