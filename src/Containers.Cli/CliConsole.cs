using System.CommandLine;

namespace Containers.Cli;

/// <summary>
/// Where a command writes: results to stdout, diagnostics to stderr, and the libraries' progress lines (the host's
/// log) to stderr only with <c>--verbose</c>, so that stdout stays what scripts parse.
/// </summary>
public sealed class CliConsole
{
    /// <summary>The option every command has: show the libraries' log and the details of errors.</summary>
    public static Option<bool> VerboseOption { get; } = new("--verbose")
    {
        Description = "Show what the tool does (image loading, runtime choice, ports) and the details of errors.",
        Recursive = true,
    };

    private CliConsole(bool verbose)
    {
        IsVerbose = verbose;
    }

    /// <summary>Whether <c>--verbose</c> was given.</summary>
    public bool IsVerbose { get; }

    /// <summary>Results: what a script reads.</summary>
    public TextWriter Out { get; } = Console.Out;

    /// <summary>Diagnostics and errors.</summary>
    public TextWriter Error { get; } = Console.Error;

    /// <summary>The log callback for the libraries: stderr with <c>--verbose</c>, nothing otherwise.</summary>
    public Action<string> Log => IsVerbose ? line => Console.Error.WriteLine(line) : _ => { };

    /// <summary>The console of a parsed command line.</summary>
    public static CliConsole From(ParseResult parseResult) => new(parseResult.GetValue(VerboseOption));
}
