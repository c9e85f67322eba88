namespace Containers.Cli;

/// <summary>
/// The exit codes of <c>dotnet container</c> that scripts can rely on (docs/cli.md). <c>run</c> and <c>exec</c> exit
/// with the container's or the command's own code; the codes here are the tool's, chosen (as docker's 125) so that they
/// rarely collide with an app's.
/// </summary>
public static class CliExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The command line is wrong: an unknown command or option, a missing argument, a value of the wrong form.</summary>
    public const int UsageError = 2;

    /// <summary>No container has the name or id given.</summary>
    public const int NoSuchContainer = 3;

    /// <summary>The tool could not do it: the image could not be loaded, no runtime could start it, a registry refused.</summary>
    public const int Failed = 125;

    /// <summary>Interrupted (Ctrl+C) before a container ran; a running container's own exit code is returned instead.</summary>
    public const int Interrupted = 130;
}
