using System.Runtime.Versioning;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Starts a program that outlives the process that starts it, as the host starts a reused graph's supervisor: in a
/// session of its own (<c>setsid</c>), not a child of this process, stdin from <c>/dev/null</c> and both output streams
/// appended to a file; so neither this process's exit, nor a kill of its process tree, nor Ctrl+C in its terminal
/// reaches it. <c>dotnet container run -d</c> starts its supervisor (the tool itself) this way.
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

        using (DetachedRun.Spawn(arguments, environment, outputFile, outputFile, stampFile))
        {
        }
    }

    /// <summary>True while the process whose owner stamp <paramref name="stampFile"/> holds runs (a reused pid is told apart by its start time).</summary>
    public static bool IsRunning(string stampFile) =>
        OwnerStamp.Read(stampFile) is { } stamp && OwnerStamp.IsAlive(stamp);
}
