using System.CommandLine;
using System.CommandLine.Parsing;
using Containers.Cli;
using Containers.Cli.Commands;
using Containers.Host;

// The tool is compiled ahead of time (Native AOT): it has no Containers.Host.dll to `dotnet exec`, so the host's helper
// processes (the rootless port forwarder, a reused graph's supervisor) are this executable started with their role.
if (await HostHelperProcesses.RunIfHelperAsync(args).ConfigureAwait(false) is { } helperExitCode)
{
    return helperExitCode;
}

// Every command, one file each under Commands/: add a command with its file and one line here.
Func<Command>[] commands =
[
    RunCommand.Create,
    PsCommand.Create,
    LogsCommand.Create,
    StopCommand.Create,
    RmCommand.Create,
    ExecCommand.Create,
    SuperviseCommand.Create,
    ImagesCommand.Create,
    InspectCommand.Create,
    PullCommand.Create,
    CopyCommand.Create,
    TagCommand.Create,
    SbomCommand.Create,
    PruneCommand.Create,
    RebaseCommand.Create,
];

var root = new RootCommand("Run OCI images with the Containers.Sdk runtime host: no Docker daemon, runc or Linux namespaces underneath.");
root.Options.Add(CliConsole.VerboseOption);
foreach (var create in commands)
{
    root.Subcommands.Add(create());
}

var parseResult = root.Parse(args);
var console = CliConsole.From(parseResult);
if (parseResult.Errors.Count > 0)
{
    // One line, however many errors the parser found ("Required command was not provided." comes with an unknown one).
    var messages = parseResult.Errors.Select(error => error.Message).Distinct().ToList();
    if (messages.Count > 1)
    {
        messages.Remove("Required command was not provided.");
    }

    console.Error.WriteLine($"{CliErrorReporter.Prefix}{CliErrorCodes.CommandLine}: {string.Join(" ", messages)} (see '{CommandPath(parseResult.CommandResult)} --help')");

    return CliExitCodes.UsageError;
}

try
{
    // Ctrl+C and SIGTERM keep their default meaning (end the process) except where a command takes them over: `run`
    // passes them on to its container as its stop signal.
    return await parseResult.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }).ConfigureAwait(false);
}
catch (OperationCanceledException)
{
    return CliExitCodes.Interrupted;
}
catch (Exception ex)
{
    return CliErrorReporter.Report(ex, console.Error, console.IsVerbose);
}

static string CommandPath(CommandResult command) =>
    command.Parent is CommandResult parent ? $"{CommandPath(parent)} {command.Command.Name}" : "dotnet container";
