using Containers.Build.Layering;
using Containers.Build.Reproducibility;
using Containers.Oci;

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

    /// <summary>The base image. With <see cref="BaseImageLayoutPath"/>, its tag names the layout's ref.</summary>
    public required ImageReference BaseImage { get; init; }

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

    /// <summary>Manifest annotations to add besides the generated base-image ones.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}
