namespace Containers.Testing.Tasks;

/// <summary>The codes Containers.Testing's build puts on errors and warnings: CONTAINER9xxx (docs/containers-testing.md lists them).</summary>
public static class TestingErrorCodes
{
    /// <summary>A container's name cannot be a member name and default alias.</summary>
    public const string InvalidName = "CONTAINER9001";

    /// <summary>Two containers of the project have one name.</summary>
    public const string DuplicateName = "CONTAINER9002";

    /// <summary>A ContainerDependency without Image.</summary>
    public const string MissingImage = "CONTAINER9003";

    /// <summary>An Image that is no registry reference, layout or archive.</summary>
    public const string InvalidImage = "CONTAINER9004";

    /// <summary>An Environment line that is not NAME=VALUE.</summary>
    public const string InvalidEnvironment = "CONTAINER9005";

    /// <summary>A Ports value that is not a TCP port.</summary>
    public const string InvalidPort = "CONTAINER9006";

    /// <summary>A Wait that is none of the wait forms.</summary>
    public const string InvalidWait = "CONTAINER9007";

    /// <summary>A DependsOn naming no container, in an unknown condition, or closing a circle.</summary>
    public const string InvalidDependsOn = "CONTAINER9008";

    /// <summary>An alias or network name that cannot be a host name.</summary>
    public const string InvalidNetworkName = "CONTAINER9009";

    /// <summary>A StartupTimeout that is no positive duration.</summary>
    public const string InvalidTimeout = "CONTAINER9010";

    /// <summary>A compose file that cannot be read or describes no graph.</summary>
    public const string InvalidCompose = "CONTAINER9020";

    /// <summary>A compose key this version does not support (a warning: it is ignored).</summary>
    public const string UnsupportedComposeKey = "CONTAINER9021";

    /// <summary>MSTest.TestAdapter and MSTest.TestFramework resolved in different versions (raised by build/Containers.Testing.targets, not a task).</summary>
    public const string MSTestVersionMismatch = "CONTAINER9030";
}
