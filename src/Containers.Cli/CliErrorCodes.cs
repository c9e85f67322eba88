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

    /// <summary>The image argument is none of the forms <c>run</c> takes.</summary>
    public const string BadImage = "CONTAINER6004";

    /// <summary>No container has the name or id given, or an id prefix fits several.</summary>
    public const string NoSuchContainer = "CONTAINER6005";

    /// <summary>The <c>--name</c> is taken by another container.</summary>
    public const string NameInUse = "CONTAINER6006";

    /// <summary>A <c>-p</c> value is not <c>[HOST:]CONTAINER</c> with ports 1–65535.</summary>
    public const string BadPort = "CONTAINER6007";

    /// <summary>A <c>-e</c> value or a line of an <c>--env-file</c> is not <c>NAME=VALUE</c>, or the file cannot be read.</summary>
    public const string BadEnvironment = "CONTAINER6008";

    /// <summary>The container is not running (for <c>exec</c>).</summary>
    public const string NotRunning = "CONTAINER6009";

    /// <summary>The container is running (for <c>rm</c> without <c>-f</c>).</summary>
    public const string StillRunning = "CONTAINER6010";

    /// <summary>A <c>--name</c> is not a container name.</summary>
    public const string BadName = "CONTAINER6011";

    /// <summary>An image destination cannot hold what is written: a docker archive without <c>NAME:TAG</c>, a tag in another medium.</summary>
    public const string BadDestination = "CONTAINER6020";

    /// <summary>A <c>--platform</c> is not <c>os/arch[/variant]</c>, or the image has no image for it.</summary>
    public const string BadPlatform = "CONTAINER6021";

    /// <summary>A registry refused the credentials (or their absence): 401/403.</summary>
    public const string RegistryDenied = "CONTAINER6022";

    /// <summary>The registry has no such repository or tag.</summary>
    public const string ImageNotFound = "CONTAINER6023";

    /// <summary>The image has no SBOM attached as a referrer (of the format asked for).</summary>
    public const string NoSbom = "CONTAINER6024";

    /// <summary>The rebase was refused (no recorded base, another base repository, a changed image, another platform or user); nothing was written.</summary>
    public const string RebaseRefused = "CONTAINER6025";

    /// <summary>IMAGE is a project and publishing its image failed or wrote none.</summary>
    public const string ProjectPublishFailed = "CONTAINER6030";

    /// <summary>An unexpected failure inside the tool; <c>--verbose</c> shows where.</summary>
    public const string Internal = "CONTAINER6099";
}
