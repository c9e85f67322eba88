using System.Runtime.Versioning;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Starts a program that outlives the process that starts it: in a session of its own (<c>setsid</c>), stdin from
/// <c>/dev/null</c> and both output streams appended to a file; so neither this process's exit, nor Ctrl+C in its
/// terminal reaches it. <c>dotnet container run -d</c> starts its supervisor (the tool itself) this way. It is this
/// process's child until this process exits (a thread reaps it should it end first): meant for a short-lived caller.
/// </summary>
[SupportedOSPlatform("linux")]
public static class DetachedProcess
{
    /// <summary>
    /// Starts <paramref name="arguments"/> (the program, then its arguments) detached, with this process's environment,
    /// and returns once it runs; <paramref name="stampFile"/> then holds its owner stamp (pid and start time), which
    /// <see cref="IsRunning"/> reads.
    /// </summary>
    /// <param name="arguments">The program and its arguments.</param>
    /// <param name="outputFile">The file its stdout and stderr are appended to.</param>
    /// <param name="stampFile">The file its owner stamp is written to.</param>
    /// <exception cref="IOException">It could not be started.</exception>
    public static void Start(IReadOnlyList<string> arguments, string outputFile, string stampFile)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentOutOfRangeException.ThrowIfZero(arguments.Count);
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry variable in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)variable.Key] = (string?)variable.Value;
        }

        File.Delete(stampFile);
        int pid;
        try
        {
            // One posix_spawn into a session of its own; the calling process (a short one, such as `run -d`) reaps it
            // if it ends first, and init adopts it when the caller exits.
            pid = SessionSpawn.Start([ProgramPath(arguments[0]), .. arguments.Skip(1)], environment, outputFile);
        }
        catch (EntryPointNotFoundException)
        {
            // A C library without posix_spawn_file_actions_addchdir_np: the shell chain, which also writes the stamp.
            using (DetachedRun.Spawn(arguments, environment, outputFile, outputFile, stampFile))
            {
            }

            return;
        }

        OwnerStamp.Write(stampFile, pid);
    }

    // posix_spawn takes a path: a bare name is looked up on PATH, as a shell would.
    private static string ProgramPath(string program) =>
        program.Contains('/', StringComparison.Ordinal) ? program
        : Runtimes.HostTools.FindOnPath(program) ?? throw new IOException($"{program} is not on PATH.");

    /// <summary>True while the process whose owner stamp <paramref name="stampFile"/> holds runs (a reused pid is told apart by its start time).</summary>
    public static bool IsRunning(string stampFile) =>
        OwnerStamp.Read(stampFile) is { } stamp && OwnerStamp.IsAlive(stamp);
}
