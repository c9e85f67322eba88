using Containers.Build.Layering;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Models;
using Containers.Oci.References;

namespace Containers.Build.Publishing;

/// <summary>One runtime identifier's publish output, to become one image (one entry of an index when several).</summary>
/// <param name="RuntimeIdentifier">The RID the app was published for, e.g. <c>linux-x64</c>.</param>
/// <param name="PublishDirectory">That publish's output directory.</param>
public sealed record ContainerPublishTarget(string RuntimeIdentifier, string PublishDirectory);

/// <summary>Everything the publisher needs to build an image from publish output and write it.</summary>
public sealed record ContainerPublishRequest
{
    /// <summary>One publish output per runtime identifier; several make an image index.</summary>
    public required IReadOnlyList<ContainerPublishTarget> Targets { get; init; }

    /// <summary>The app's assembly name; its <c>.deps.json</c> drives the layering.</summary>
    public required string ApplicationName { get; init; }

    /// <summary>The project directory, asked for its last git commit time.</summary>
    public required string ProjectDirectory { get; init; }

    /// <summary>Where the app goes in the image, e.g. <c>/app/</c>.</summary>
    public string WorkingDirectory { get; init; } = "/app/";

    /// <summary>User-declared layers.</summary>
    public IReadOnlyList<CustomLayerRule> CustomLayers { get; init; } = [];

    /// <summary>
    /// NuGet package folders (NuGetPackageRoot, NuGetPackageFolders) holding the app's packages and runtime packs; a
    /// gzip layer copies their deflated files rather than compressing the same bytes again (docs/layers.md). None
    /// compresses everything.
    /// </summary>
    public IReadOnlyList<string> PackageFolders { get; init; } = [];

    /// <summary>The base image. With <see cref="BaseImageLayoutPath"/>, its tag names the layout's ref.</summary>
    public required ImageReference BaseImage { get; init; }

    /// <summary>True when <see cref="BaseImage"/> was inferred from the project (no ContainerBaseImage): errors then name the settings that redirect it.</summary>
    public bool BaseImageIsInferred { get; init; }

    /// <summary>Read the base image from this OCI layout directory instead of a registry.</summary>
    public string? BaseImageLayoutPath { get; init; }

    /// <summary>
    /// Turns the base image's config into the app's (env, ports, labels, user, entrypoint...), given the
    /// runtime identifier and the digest of the base manifest used for it (for the base.digest label).
    /// The publisher sets rootfs and history itself afterwards.
    /// </summary>
    public required Func<ImageConfig, string, Digest, ImageConfig> ComposeConfig { get; init; }

    /// <summary>Where the image goes.</summary>
    public required ContainerDestination Destination { get; init; }

    /// <summary>The manifest media types to write; null follows the base image's.</summary>
    public ManifestFormat? Format { get; init; }

    /// <summary>Layer compression; gzip by default (the only one every registry and engine reads).</summary>
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>The local cache of built layers and downloaded base blobs; null disables caching.</summary>
    public string? LayerCacheDirectory { get; init; }

    /// <summary>The cache's size bound; least recently used entries beyond it are pruned after a publish.</summary>
    public long LayerCacheMaxBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>The value of SOURCE_DATE_EPOCH, when set.</summary>
    public string? SourceDateEpoch { get; init; }

    /// <summary>
    /// The image timestamp when the caller already resolved it (the same value its <see cref="ComposeConfig"/>
    /// uses); null resolves it from <see cref="SourceDateEpoch"/> and the project's git history.
    /// </summary>
    public BuildTimestamp? Timestamp { get; init; }

    /// <summary>
    /// Annotations for each manifest and, for several runtime identifiers, the index, besides the generated
    /// <c>org.opencontainers.image.base.name</c>, <c>base.digest</c> (manifests only) and <c>created</c>; a key given
    /// here replaces a generated one.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>Debian packages to add as the os-packages layer between the base's layers and the app's; null adds none.</summary>
    public OsPackages.OsPackageOptions? OsPackages { get; init; }

    /// <summary>Generate an SBOM per image and attach it (registry referrer, layout referrer, file beside a tarball); null generates none.</summary>
    public ContainerSbomOptions? Sbom { get; init; }

    /// <summary>Sign each image and attach a signed SLSA provenance (registry and layout referrers, files beside a tarball); null signs nothing.</summary>
    public ContainerSigningOptions? Signing { get; init; }

    /// <summary>
    /// Rules the base image must meet, checked before anything is built (<see cref="SupplyChain.Signing.BaseImagePolicy"/>);
    /// null checks none.
    /// </summary>
    public SupplyChain.Signing.BaseImagePolicy? BaseImagePolicy { get; init; }
}

/// <summary>How the publisher describes each image it builds in an SBOM.</summary>
public sealed record ContainerSbomOptions
{
    /// <summary>SPDX 2.3 (the default) or CycloneDX 1.6.</summary>
    public SbomFormat Format { get; init; } = SbomFormat.Spdx;

    /// <summary>The project's <c>project.assets.json</c>, whose package folders are searched for nuspecs.</summary>
    public string? ProjectAssetsFilePath { get; init; }

    /// <summary>NuGet package folders searched for each package's nuspec and <c>.nupkg.sha512</c>.</summary>
    public IReadOnlyList<string> PackageFolders { get; init; } = [];

    /// <summary>A directory to write every SBOM into as well (e.g. under obj/), whatever the destination; null writes none there.</summary>
    public string? OutputDirectory { get; init; }
}

/// <summary>How the publisher signs each image and what its provenance states.</summary>
public sealed record ContainerSigningOptions
{
    /// <summary>
    /// ContainerSigningKey: the path of a PEM ECDSA P-256 private key (relative to the project directory) or the name
    /// of an environment variable holding one. Only the location travels; the key is read where it signs.
    /// </summary>
    public required string KeyLocation { get; init; }

    /// <summary>The project file's name, an external parameter of the provenance.</summary>
    public required string Project { get; init; }

    /// <summary>The build configuration, an external parameter of the provenance.</summary>
    public string? Configuration { get; init; }

    /// <summary>The container settings that shaped the config, external parameters of the provenance (no secret values).</summary>
    public IReadOnlyDictionary<string, string> ContainerProperties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A directory (under obj/) that receives every bundle and remembers signatures: an unchanged image keeps its
    /// signature bytes, so a second publish attaches nothing new. Null keeps neither.
    /// </summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Reads environment variables (the key's, the CI's); null reads the process's.</summary>
    public Func<string, string?>? Environment { get; init; }
}
