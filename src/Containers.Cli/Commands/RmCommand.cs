using System.CommandLine;
using Containers.Cli.State;
using Containers.Host.Lifecycle;

namespace Containers.Cli.Commands;

/// <summary><c>rm [-f] NAME|ID...</c>: removes stopped containers (running ones too with <c>-f</c>).</summary>
public static class RmCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var containers = new Argument<string[]>("NAME|ID") { Description = "The containers: names, ids, or starts of ids.", Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Kills a running container (SIGKILL) before removing it." };
        var command = new Command("rm", "Removes containers: their state, output and everything the runtime host made for them. Prints each name.") { containers, force };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var forced = parseResult.GetValue(force);
            return await ContainerArguments.ForEachAsync(parseResult.GetValue(containers)!, console, async (_, entry, nameOrId) =>
            {
                var record = entry.Read();
                var status = LiveStatus.Describe(entry, record);
                if (status is ContainerStatus.Running or ContainerStatus.Starting)
                {
                    if (!forced)
                    {
                        throw new CliException(CliErrorCodes.StillRunning, $"Container {record.Name} is running. Stop it first (dotnet container stop {record.Name}), or remove it with -f.", CliExitCodes.Failed);
                    }

                    await StopCommand.StopAsync(entry, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                }
                else if (status == "dead")
                {
                    // Its process was killed: the host's reaper removes what it left (it does so for any owner that is gone).
                    await ContainerHost.ReapAsync(ContainerHost.DefaultCacheDirectory, console.Log, cancellationToken).ConfigureAwait(false);
                }

                entry.Delete();
                console.Out.WriteLine(nameOrId);
            }).ConfigureAwait(false);
        });
        return command;
    }
}
