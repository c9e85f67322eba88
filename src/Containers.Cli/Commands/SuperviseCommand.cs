using System.CommandLine;
using System.Text.Json;
using Containers.Cli.Running;
using Containers.Cli.State;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>supervise DIR</c> (hidden; the tool starts it itself for <c>run -d</c>, detached): runs the container of a state
/// directory as <c>run</c> in the foreground would, with its output in the directory, until it exits or is stopped.
/// </summary>
public static class SuperviseCommand
{
    /// <summary>The command's name.</summary>
    public const string Name = "supervise";

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "The container's state directory." };
        var command = new Command(Name, "Runs a detached container (started by run -d, not by hand).") { directory };
        command.Hidden = true;
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var entry = new ContainerEntry(parseResult.GetValue(directory)!);
            var request = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(entry.RequestFile, cancellationToken).ConfigureAwait(false), CliJsonContext.Default.RunRequest)
                ?? throw new CliException(CliErrorCodes.Internal, $"{entry.RequestFile} is empty.", CliExitCodes.Failed);

            // stdout and stderr go to supervisor.log: the host's log with --verbose.
            Action<string> log = request.Verbose ? line => Console.Error.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}") : _ => { };
            log($"Supervisor {Environment.ProcessId} runs ({(DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime).TotalMilliseconds:0} ms after its process started).");
            var session = new ContainerSession(entry, request, log);
            var signals = session.StopOnSignals();
            try
            {
                return await session.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var signal in signals)
                {
                    signal.Dispose();
                }
            }
        });
        return command;
    }

    /// <summary>
    /// How to start this tool again: its apphost (the <c>dotnet-container</c> a tool install makes), or <c>dotnet</c> and
    /// this assembly when it runs as <c>dotnet dotnet-container.dll</c>.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000:Avoid accessing Assembly file path when publishing as a single file", Justification = "Read only under `dotnet`, which runs the tool from its dll; compiled ahead of time the tool is its own executable.")]
    public static IReadOnlyList<string> SelfCommandLine()
    {
        var process = Environment.ProcessPath ?? throw new CliException(CliErrorCodes.Internal, "This process's executable is unknown; cannot start the supervisor.", CliExitCodes.Failed);
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, typeof(SuperviseCommand).Assembly.Location] : [process];
    }
}
