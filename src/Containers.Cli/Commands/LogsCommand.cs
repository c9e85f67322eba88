using System.CommandLine;
using Containers.Cli.State;

namespace Containers.Cli.Commands;

/// <summary><c>logs [-f] NAME|ID</c>: what a container wrote, its stdout to stdout and its stderr to stderr.</summary>
public static class LogsCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var container = new Argument<string>("NAME|ID") { Description = "The container: its name, id, or the start of its id." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Goes on printing what it writes until it exits (Ctrl+C ends only this command)." };
        var command = new Command("logs", "Prints a container's output.") { container, follow };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var entry = StateStore.Open().Find(parseResult.GetValue(container)!);
            using var standardOutput = Open(entry.StandardOutputFile);
            using var standardError = Open(entry.StandardErrorFile);
            var following = parseResult.GetValue(follow);
            while (true)
            {
                // Whether it still runs is asked before the copy, so the last copy after its end misses nothing.
                var live = following && LiveStatus.IsLive(entry);
                await CopyNewAsync(standardOutput, console.Out, cancellationToken).ConfigureAwait(false);
                await CopyNewAsync(standardError, console.Error, cancellationToken).ConfigureAwait(false);
                if (!live)
                {
                    return CliExitCodes.Success;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        });
        return command;
    }

    // The files may not exist yet (the container is starting): an empty stream then.
    private static Stream Open(string path) =>
        File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete) : new MemoryStream();

    private static async Task CopyNewAsync(Stream source, TextWriter destination, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(source, leaveOpen: true);
        var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        if (text.Length > 0)
        {
            await destination.WriteAsync(text).ConfigureAwait(false);
            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
