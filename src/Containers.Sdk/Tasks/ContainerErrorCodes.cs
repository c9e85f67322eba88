using Containers.Build.Configuration;
using Containers.Oci;
using Containers.Oci.Digests;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Stores;

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

    /// <summary>Any other image-level error (the message says what and how to fix it).</summary>
    public const string ImageError = "CONTAINER8010";

    /// <summary>A blob or manifest did not match its digest.</summary>
    public const string DigestMismatch = "CONTAINER8011";

    /// <summary>An image reference (base image, registry, repository, tag) could not be parsed.</summary>
    public const string InvalidReference = "CONTAINER8012";

    /// <summary>The base image offers no platform for a runtime identifier, or the RID has none.</summary>
    public const string PlatformNotAvailable = "CONTAINER8013";

    /// <summary>The registry refused the credentials, or none were found where they were needed.</summary>
    public const string RegistryAuthentication = "CONTAINER8020";

    /// <summary>The registry could not be reached (DNS, connection, TLS, timeout).</summary>
    public const string RegistryUnreachable = "CONTAINER8021";

    /// <summary>The registry has no such repository, manifest or blob (e.g. a missing base image).</summary>
    public const string RegistryNotFound = "CONTAINER8022";

    /// <summary>The registry answered with another error.</summary>
    public const string RegistryError = "CONTAINER8023";

    /// <summary>A credential helper or credential file failed.</summary>
    public const string CredentialError = "CONTAINER8024";

    /// <summary>An OCI layout, archive or local file could not be read or written.</summary>
    public const string StoreError = "CONTAINER8030";

    /// <summary>A publish output file cannot be put into a layer (path outside the image, bad name).</summary>
    public const string LayerPath = "CONTAINER8031";

    /// <summary>A file or directory could not be read or written.</summary>
    public const string FileSystem = "CONTAINER8032";

    /// <summary>Warning: ContainerArchiveOutputPath ends in .tar.gz/.tgz but a docker-archive is written uncompressed (podman and skopeo on Debian 12 cannot load a compressed one).</summary>
    public const string DockerArchiveNotCompressed = "CONTAINER8033";

    /// <summary>ContainerSbomFormat is neither spdx nor cyclonedx.</summary>
    public const string InvalidSbomFormat = "CONTAINER8040";

    /// <summary>RebaseContainer refused: the image does not sit on the base it names, or the new base changes platform, user or working directory.</summary>
    public const string RebaseRefused = "CONTAINER8050";

    /// <summary>LocalRegistry is not docker, podman, the absolute path of either CLI, or containerd.</summary>
    public const string InvalidLocalRegistry = "CONTAINER8060";

    /// <summary>ContainerContainerdAddress is not an absolute socket path, or ContainerContainerdNamespace is not a containerd namespace name.</summary>
    public const string InvalidContainerdSetting = "CONTAINER8061";

    /// <summary>containerd cannot be reached at its socket: none there, nobody listening, or permission denied.</summary>
    public const string ContainerdUnreachable = "CONTAINER8062";

    /// <summary>containerd answered an import with an error.</summary>
    public const string ContainerdError = "CONTAINER8063";

    /// <summary>ContainerSigningKey names no readable unencrypted ECDSA P-256 private key.</summary>
    public const string InvalidSigningKey = "CONTAINER8100";

    /// <summary>A public key (ContainerVerificationKey, a signed-by rule) cannot be read.</summary>
    public const string InvalidPublicKey = "CONTAINER8101";

    /// <summary>VerifyContainerImage: a signature or provenance is missing or does not verify with the key.</summary>
    public const string VerificationFailed = "CONTAINER8102";

    /// <summary>ContainerBaseImagePolicy has a rule that is not known.</summary>
    public const string InvalidBaseImagePolicy = "CONTAINER8103";

    /// <summary>The base image breaks a ContainerBaseImagePolicy rule; nothing was built or pushed.</summary>
    public const string BaseImagePolicyRefused = "CONTAINER8104";

    /// <summary>Picks the code for a failure.</summary>
    public static string For(Exception exception) => exception switch
    {
        Containers.Build.SupplyChain.ImageRebaseException => RebaseRefused,
        Containers.Build.SupplyChain.Signing.SigningException signing => signing.Failure switch
        {
            Containers.Build.SupplyChain.Signing.SigningFailure.InvalidKey => InvalidSigningKey,
            Containers.Build.SupplyChain.Signing.SigningFailure.InvalidPublicKey => InvalidPublicKey,
            Containers.Build.SupplyChain.Signing.SigningFailure.InvalidPolicy => InvalidBaseImagePolicy,
            Containers.Build.SupplyChain.Signing.SigningFailure.PolicyRefused => BaseImagePolicyRefused,
            _ => VerificationFailed,
        },
        Containers.Build.OsPackages.OsPackageException osPackage => osPackage.Code,
        ContainerSettingsException settings when settings.Diagnostics.FirstOrDefault(d => d.IsError) is { } first => first.Code,
        DigestMismatchException => DigestMismatch,
        ImageReferenceFormatException => InvalidReference,
        PlatformNotFoundException or PlatformFormatException or UnsupportedRuntimeIdentifierException => PlatformNotAvailable,
        RegistryAuthenticationException => RegistryAuthentication,
        RegistryUnreachableException => RegistryUnreachable,
        RegistryNotFoundException => RegistryNotFound,
        RegistryException => RegistryError,
        RegistryCredentialException => CredentialError,
        ContainerdException { Failure: ContainerdFailure.InvalidNamespace } => InvalidContainerdSetting,
        ContainerdException { IsUnreachable: true } => ContainerdUnreachable,
        ContainerdException => ContainerdError,
        ImageStoreException => StoreError,
        InvalidLayerPathException => LayerPath,
        OciException => ImageError,
        IOException or UnauthorizedAccessException => FileSystem,
        _ => Unexpected,
    };
}
