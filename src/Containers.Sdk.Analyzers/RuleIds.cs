namespace Containers.Sdk.Analyzers;

/// <summary>The diagnostic IDs of the Containers.Sdk analyzers: one constant per rule, never reused.</summary>
public static class RuleIds
{
    /// <summary>A container port is outside 1 to 65535.</summary>
    public const string PortOutOfRange = "CSDK1001";

    /// <summary>A container port has a protocol other than tcp or udp.</summary>
    public const string UnknownPortProtocol = "CSDK1002";

    /// <summary>The same port and protocol is exposed twice.</summary>
    public const string DuplicatePort = "CSDK1003";

    /// <summary>A container environment variable name is not a portable name.</summary>
    public const string InvalidEnvironmentVariableName = "CSDK1004";

    /// <summary>The container runs as root.</summary>
    public const string ContainerUserIsRoot = "CSDK1005";

    /// <summary>The app listens on a port the image does not expose.</summary>
    public const string ListeningPortNotExposed = "CSDK1006";

    /// <summary>The health check path is not mapped by any endpoint.</summary>
    public const string HealthCheckPathNotMapped = "CSDK1007";

    /// <summary>The base image is not pinned by digest.</summary>
    public const string BaseImageNotPinned = "CSDK1008";

    /// <summary>ContainerRepository is not a valid repository name.</summary>
    public const string InvalidRepositoryName = "CSDK1009";

    /// <summary>ContainerImageTag or ContainerImageTags holds an invalid tag.</summary>
    public const string InvalidImageTag = "CSDK1010";

    /// <summary>ContainerRegistry is not a valid registry host.</summary>
    public const string InvalidRegistry = "CSDK1011";

    /// <summary>An exposed port that nothing in the app listens on.</summary>
    public const string ExposedPortNotListened = "CSDK1012";
}
