using Containers.Oci;

namespace Containers.Sdk.Tasks;

/// <summary>
/// The codes the Containers.Sdk tasks put on MSBuild errors: CONTAINER8xxx (settings findings keep
/// their own CONTAINER7xxx codes). docs/msbuild.md lists them.
/// </summary>
public static class ContainerErrorCodes
{
    /// <summary>A failure nobody anticipated; the message says what and the log at -v:diag has the detail.</summary>
    public const string Unexpected = "CONTAINER8000";

    /// <summary>Several target frameworks given to one container publish.</summary>
    public const string MultipleTargetFrameworks = "CONTAINER8001";

    /// <summary>The build was canceled.</summary>
    public const string Canceled = "CONTAINER8002";

    /// <summary>Any other OCI-level error (the message says what and how to fix it).</summary>
    public const string ImageError = "CONTAINER8010";

    /// <summary>A blob or manifest did not match its digest.</summary>
    public const string DigestMismatch = "CONTAINER8011";

    /// <summary>Picks the code for a failure.</summary>
    public static string For(Exception exception) => exception switch
    {
        DigestMismatchException => DigestMismatch,
        OciException => ImageError,
        _ => Unexpected,
    };
}
