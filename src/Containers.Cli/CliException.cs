namespace Containers.Cli;

/// <summary>
/// A failure the tool explains in one line: the input that was wrong, what was expected and how to fix it, with a
/// <c>CONTAINER6xxx</c> code and the exit code to end with.
/// </summary>
public sealed class CliException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The diagnostic code, e.g. <c>CONTAINER6002</c> (docs/cli.md lists them).</param>
    /// <param name="message">The one-line, user-facing message.</param>
    /// <param name="exitCode">The process exit code (<see cref="CliExitCodes"/>).</param>
    /// <param name="innerException">The low-level cause, shown with <c>--verbose</c>.</param>
    public CliException(string code, string message, int exitCode, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        ExitCode = exitCode;
    }

    /// <summary>The diagnostic code.</summary>
    public string Code { get; }

    /// <summary>The process exit code.</summary>
    public int ExitCode { get; }

    /// <summary>A command-line value of the wrong form (exit code <see cref="CliExitCodes.UsageError"/>).</summary>
    public static CliException Usage(string code, string message) => new(code, message, CliExitCodes.UsageError);
}
