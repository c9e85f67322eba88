namespace Containers.Cli;

/// <summary>The diagnostic codes of <c>dotnet container</c>'s errors; docs/cli.md explains each.</summary>
public static class CliErrorCodes
{
    /// <summary>The command line could not be parsed (unknown command or option, missing or extra argument).</summary>
    public const string CommandLine = "CONTAINER6001";

    /// <summary>A library reported a failure (image, registry, runtime); the message says which and why.</summary>
    public const string OperationFailed = "CONTAINER6002";

    /// <summary>A file or directory could not be read or written.</summary>
    public const string FileAccess = "CONTAINER6003";

    /// <summary>An unexpected failure inside the tool; <c>--verbose</c> shows where.</summary>
    public const string Internal = "CONTAINER6099";
}
