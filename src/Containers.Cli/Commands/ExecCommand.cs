using System.CommandLine;
using Containers.Cli.Running;
using Containers.Cli.State;

namespace Containers.Cli.Commands;

/// <summary><c>exec [-e K=V] [--user U] NAME|ID -- CMD...</c>: runs a command in a running container; exits with its exit code.</summary>
public static class ExecCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var container = new Argument<string>("NAME|ID") { Description = "The container: its name, id, or the start of its id." };
        var commandLine = new Argument<string[]>("CMD") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        var environment = new Option<string[]>("--env", "-e") { Description = "Sets an environment variable for the command, NAME=VALUE. Repeatable.", HelpName = "NAME=VALUE" };
        var user = new Option<string?>("--user", "-u") { Description = "Runs the command as this user (name, uid, name:group, uid:gid)." };
        var command = new Command("exec", "Runs a command in a running container; prints its output and exits with its exit code.") { container, commandLine, environment, user };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var nameOrId = parseResult.GetValue(container)!;
            var entry = StateStore.Open().Find(nameOrId);
            var request = new ControlRequest
            {
                Operation = ControlRequest.Exec,
                Command = parseResult.GetValue(commandLine)!,
                Environment = RunArguments.ParseEnvironment(parseResult.GetValue(environment) ?? [], []),
                User = parseResult.GetValue(user),
            };
            var response = await ControlChannel.SendAsync(entry, request, cancellationToken).ConfigureAwait(false)
                ?? throw new CliException(CliErrorCodes.NotRunning, $"Container {nameOrId} is not running ({LiveStatus.Describe(entry, entry.Read())}). Start a new one with dotnet container run.", CliExitCodes.Failed);
            if (response.Error is { } error)
            {
                throw new CliException(CliErrorCodes.OperationFailed, $"Cannot run {string.Join(' ', request.Command)} in container {nameOrId}: {error}", CliExitCodes.Failed);
            }

            await console.Out.WriteAsync(response.StandardOutput).ConfigureAwait(false);
            await console.Error.WriteAsync(response.StandardError).ConfigureAwait(false);
            return response.ExitCode;
        });
        return command;
    }
}
