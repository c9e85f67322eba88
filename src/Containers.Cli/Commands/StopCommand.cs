using System.CommandLine;
using Containers.Cli.Running;
using Containers.Cli.State;

namespace Containers.Cli.Commands;

/// <summary><c>stop [-t SECONDS] NAME|ID...</c>: the image's stop signal, then SIGKILL after the grace period.</summary>
public static class StopCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var containers = new Argument<string[]>("NAME|ID") { Description = "The containers: names, ids, or starts of ids.", Arity = ArgumentArity.OneOrMore };
        var time = new Option<int>("--time", "-t") { Description = "Seconds to wait after the stop signal before SIGKILL.", DefaultValueFactory = _ => (int)ContainerSession.DefaultGracePeriod.TotalSeconds, HelpName = "SECONDS" };
        var command = new Command("stop", "Stops running containers: their stop signal (the image's StopSignal, else SIGTERM), then SIGKILL after -t seconds. Prints each name.") { containers, time };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var grace = parseResult.GetValue(time);
            if (grace < 0)
            {
                throw CliException.Usage(CliErrorCodes.CommandLine, $"-t {grace} is negative: give the seconds to wait before SIGKILL (0: at once).");
            }

            return await ContainerArguments.ForEachAsync(parseResult.GetValue(containers)!, console, async (_, entry, nameOrId) =>
            {
                await StopAsync(entry, TimeSpan.FromSeconds(grace), cancellationToken).ConfigureAwait(false);
                console.Out.WriteLine(nameOrId);
            }).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Stops the container when it runs and waits until the process that ran it has recorded its end.</summary>
    public static async Task StopAsync(ContainerEntry entry, TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await ControlChannel.SendAsync(entry, new ControlRequest { Operation = ControlRequest.Stop, GraceSeconds = gracePeriod.TotalSeconds }, cancellationToken).ConfigureAwait(false);
        await LiveStatus.WaitUntilEndedAsync(entry, gracePeriod + TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
    }
}
