using System.CommandLine;
using System.Text.Json;
using Containers.Cli.Running;
using Containers.Cli.State;
using Containers.Host.Lifecycle;

namespace Containers.Cli.Commands;

/// <summary><c>run IMAGE [options] [-- ARGS]</c>: runs an image in the foreground, or detached with <c>-d</c>.</summary>
public static class RunCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = $"The image: {ImageArgument.Forms}." };
        var arguments = new Argument<string[]>("ARGS") { Description = "Replaces the image's Cmd (after --).", Arity = ArgumentArity.ZeroOrMore };
        var publish = new Option<string[]>("--publish", "-p") { Description = "Publishes a container TCP port on 127.0.0.1: -p CONTAINER (a free host port) or -p HOST:CONTAINER. Repeatable. None: the image's exposed ports on free ports.", HelpName = "[HOST:]CONTAINER" };
        var environment = new Option<string[]>("--env", "-e") { Description = "Sets an environment variable, NAME=VALUE (NAME alone: this shell's value). Repeatable.", HelpName = "NAME=VALUE" };
        var environmentFiles = new Option<string[]>("--env-file") { Description = "Reads NAME=VALUE lines (# comments) from a file. Repeatable; -e wins.", HelpName = "FILE" };
        var name = new Option<string?>("--name") { Description = "The container's unique name (default: the image's name and the id's start)." };
        var detach = new Option<bool>("--detach", "-d") { Description = "Runs it in the background: prints its id and returns; a supervisor keeps it and its ports." };
        var remove = new Option<bool>("--rm") { Description = "Removes the container's state when it exits." };
        var user = new Option<string?>("--user", "-u") { Description = "Runs as this user (name, uid, name:group, uid:gid) instead of the image's." };
        var entrypoint = new Option<string?>("--entrypoint") { Description = "Replaces the image's Entrypoint (and drops its Cmd; ARGS follow it). Empty: none." };
        var workingDirectory = new Option<string?>("--workdir", "-w") { Description = "Replaces the image's working directory (absolute)." };
        var command = new Command("run", "Runs an image: in the foreground (its output streamed, Ctrl+C stops it, its exit code returned) or detached with -d.")
        {
            image, arguments, publish, environment, environmentFiles, name, detach, remove, user, entrypoint, workingDirectory,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var imageText = parseResult.GetValue(image)!;
            // Bad options are found before a project is published (which takes a while).
            var givenName = parseResult.GetValue(name) is { } given ? RunArguments.CheckName(given) : null;
            RunArguments.ParsePorts(parseResult.GetValue(publish) ?? []);
            RunArguments.ParseEnvironment(parseResult.GetValue(environment) ?? [], parseResult.GetValue(environmentFiles) ?? []);
            // A project is published first and its image run from the archive that wrote (named as given in ps).
            var imageToRun = ProjectImage.FindProject(imageText) is { } project
                ? await ProjectImage.PublishAsync(project, console.Error, cancellationToken).ConfigureAwait(false)
                : imageText;
            var (ports, hostPorts) = RunArguments.ParsePorts(parseResult.GetValue(publish) ?? []);

            // A wrong image form is a usage error before anything is made.
            ImageArgument.Resolve(imageToRun);
            var request = new RunRequest
            {
                Image = ImageArgument.WithAbsolutePath(imageToRun),
                Arguments = parseResult.GetValue(arguments) ?? [],
                Environment = RunArguments.ParseEnvironment(parseResult.GetValue(environment) ?? [], parseResult.GetValue(environmentFiles) ?? []),
                Ports = ports,
                HostPorts = hostPorts,
                User = parseResult.GetValue(user),
                Entrypoint = parseResult.GetValue(entrypoint),
                WorkingDirectory = parseResult.GetValue(workingDirectory),
                Verbose = console.IsVerbose,
            };

            var id = StateStore.NewId();
            var record = new ContainerRecord
            {
                Id = id,
                Name = givenName ?? RunArguments.DefaultName(imageText, id),
                Image = imageText,
                Created = DateTimeOffset.UtcNow,
                AutoRemove = parseResult.GetValue(remove),
                Detached = parseResult.GetValue(detach),
            };
            var store = StateStore.Open();
            var entry = store.Create(record);
            return record.Detached
                ? await StartDetachedAsync(entry, request, console, cancellationToken).ConfigureAwait(false)
                : await RunInForegroundAsync(entry, request, console, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunInForegroundAsync(ContainerEntry entry, RunRequest request, CliConsole console, CancellationToken cancellationToken)
    {
        var output = new object();
        var session = new ContainerSession(entry, request, console.Log)
        {
            OnOutput = (line, isError) =>
            {
                lock (output)
                {
                    (isError ? console.Error : console.Out).WriteLine(line);
                }
            },
            OnStarted = record => console.Log($"Container {record.Name} ({record.Id}) runs{(record.Ports.Count == 0 ? "" : ": " + string.Join(", ", record.Ports))}."),
        };
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
    }

    // The tool starts itself again, detached (`supervise <state directory>`), and waits until that supervisor says the
    // container runs or why it could not start.
    private static async Task<int> StartDetachedAsync(ContainerEntry entry, RunRequest request, CliConsole console, CancellationToken cancellationToken)
    {
        await File.WriteAllBytesAsync(entry.RequestFile, JsonSerializer.SerializeToUtf8Bytes(request, CliJsonContext.Default.RunRequest), cancellationToken).ConfigureAwait(false);
        try
        {
            DetachedProcess.Start([.. SuperviseCommand.SelfCommandLine(), SuperviseCommand.Name, entry.Directory], entry.SupervisorLogFile, entry.SupervisorStampFile);
        }
        catch (IOException ex)
        {
            entry.Delete();
            throw new CliException(CliErrorCodes.OperationFailed, $"Could not start the supervisor of a detached container: {ex.Message}", CliExitCodes.Failed, ex);
        }

        while (true)
        {
            var record = entry.TryRead();
            switch (record?.Status)
            {
                case ContainerStatus.Running:
                    console.Out.WriteLine(record.Id);
                    console.Log($"Container {record.Name} runs{(record.Ports.Count == 0 ? "" : ": " + string.Join(", ", record.Ports))}.");
                    return CliExitCodes.Success;
                case ContainerStatus.Failed:
                    // The whole failure (the host's log, the container's output) is in the supervisor's log, which goes with the directory.
                    if (console.IsVerbose && File.Exists(entry.SupervisorLogFile))
                    {
                        await console.Error.WriteAsync(await File.ReadAllTextAsync(entry.SupervisorLogFile, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                    }

                    entry.Delete();
                    throw new CliException(CliErrorCodes.OperationFailed, $"Container {record.Name} could not start: {record.Error}", CliExitCodes.Failed);
                case ContainerStatus.Exited:
                    // A quick job: it ran and is over before this looked.
                    console.Out.WriteLine(record.Id);
                    return CliExitCodes.Success;
                case null when !Directory.Exists(entry.Directory):
                    // --rm and already over.
                    return CliExitCodes.Success;
            }

            if (!DetachedProcess.IsRunning(entry.SupervisorStampFile) && entry.TryRead()?.Status == ContainerStatus.Starting)
            {
                var log = File.Exists(entry.SupervisorLogFile) ? (await File.ReadAllTextAsync(entry.SupervisorLogFile, cancellationToken).ConfigureAwait(false)).Trim() : "";
                entry.Delete();
                throw new CliException(CliErrorCodes.OperationFailed, $"The supervisor of the detached container ended before it started it: {log.ReplaceLineEndings(" ")}", CliExitCodes.Failed);
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
