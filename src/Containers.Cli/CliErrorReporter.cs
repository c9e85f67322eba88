using Containers.Oci;

namespace Containers.Cli;

/// <summary>
/// Turns a failure into one line on stderr (<c>dotnet container: error CONTAINER6xxx: …</c>) and an exit code; never a
/// stack trace unless <c>--verbose</c> asks for the details.
/// </summary>
public static class CliErrorReporter
{
    /// <summary>The prefix of every error line.</summary>
    public const string Prefix = "dotnet container: error ";

    /// <summary>Writes <paramref name="exception"/> to <paramref name="error"/> and returns the exit code it stands for.</summary>
    public static int Report(Exception exception, TextWriter error, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(error);
        var (code, exitCode) = exception switch
        {
            CliException cli => (cli.Code, cli.ExitCode),
            OciException => (CliErrorCodes.OperationFailed, CliExitCodes.Failed),
            IOException or UnauthorizedAccessException => (CliErrorCodes.FileAccess, CliExitCodes.Failed),
            _ => (CliErrorCodes.Internal, CliExitCodes.Failed),
        };

        // Library messages may end with a container's output on further lines: the first line is the error.
        var lines = exception.Message.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var first = lines.Length == 0 ? exception.GetType().Name : lines[0].Trim();
        if (code == CliErrorCodes.Internal)
        {
            first = $"{exception.GetType().Name}: {first}";
        }

        var hasDetails = lines.Length > 1 || exception.InnerException is not null || code == CliErrorCodes.Internal;
        error.WriteLine($"{Prefix}{code}: {first}{(hasDetails && !verbose ? " (--verbose shows the details)" : "")}");
        if (verbose)
        {
            error.WriteLine(exception.ToString());
        }

        return exitCode;
    }
}
