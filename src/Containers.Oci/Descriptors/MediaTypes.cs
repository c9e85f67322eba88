namespace Containers.Oci.Descriptors;

/// <summary>The media types of the OCI image spec and of Docker's image manifest v2 schema 2.</summary>
public static class MediaTypes
{
    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    /// <summary>OCI image index.</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    /// <summary>OCI image config.</summary>
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    /// <summary>OCI layer, uncompressed tar.</summary>
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    /// <summary>OCI layer, gzip-compressed tar.</summary>
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// <summary>OCI layer, zstd-compressed tar.</summary>
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// <summary>OCI non-distributable layer, uncompressed (deprecated by the spec, still read).</summary>
    public const string OciLayerNonDistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    /// <summary>OCI non-distributable layer, gzip (deprecated by the spec, still read).</summary>
    public const string OciLayerNonDistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    /// <summary>OCI non-distributable layer, zstd (deprecated by the spec, still read).</summary>
    public const string OciLayerNonDistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    /// <summary>The empty JSON descriptor's media type (<c>{}</c>), used by artifacts.</summary>
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    /// <summary>Docker manifest v2 schema 2.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    /// <summary>Docker manifest list.</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// <summary>Docker container config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    /// <summary>Docker layer, gzip-compressed tar.</summary>
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// <summary>Docker foreign (non-distributable) layer.</summary>
    public const string DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /// <summary>Every manifest and index type, in the order sent in an Accept header.</summary>
    public static IReadOnlyList<string> AllManifestTypes { get; } =
        [OciIndex, OciManifest, DockerManifestList, DockerManifest];

    /// <summary>True for a single-platform image manifest (OCI or Docker).</summary>
    public static bool IsImageManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>True for an index or manifest list (OCI or Docker).</summary>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for any manifest or index.</summary>
    public static bool IsManifestOrIndex(string? mediaType) => IsImageManifest(mediaType) || IsIndex(mediaType);

    /// <summary>True for an image config (OCI or Docker).</summary>
    public static bool IsConfig(string? mediaType) => mediaType is OciConfig or DockerConfig;

    /// <summary>True for a layer media type this library can read.</summary>
    public static bool IsLayer(string? mediaType) => GetLayerCompression(mediaType) is not null;

    /// <summary>True for a layer that must not be pushed to another registry (its blob may be elsewhere).</summary>
    public static bool IsNonDistributable(string? mediaType) => mediaType is
        OciLayerNonDistributable or OciLayerNonDistributableGzip or OciLayerNonDistributableZstd or DockerForeignLayerGzip;

    /// <summary>The compression of a layer media type, or null when the media type is not a layer.</summary>
    public static LayerCompression? GetLayerCompression(string? mediaType) => mediaType switch
    {
        OciLayer or OciLayerNonDistributable => LayerCompression.None,
        OciLayerGzip or OciLayerNonDistributableGzip or DockerLayerGzip or DockerForeignLayerGzip => LayerCompression.Gzip,
        OciLayerZstd or OciLayerNonDistributableZstd => LayerCompression.Zstd,
        _ => null,
    };

    /// <summary>The layer media type for a compression, in the OCI or the Docker family.</summary>
    /// <exception cref="OciException">Docker's format has no zstd or uncompressed layer type.</exception>
    public static string LayerMediaType(LayerCompression compression, ManifestFormat format = ManifestFormat.Oci) => (format, compression) switch
    {
        (ManifestFormat.Oci, LayerCompression.None) => OciLayer,
        (ManifestFormat.Oci, LayerCompression.Gzip) => OciLayerGzip,
        (ManifestFormat.Oci, LayerCompression.Zstd) => OciLayerZstd,
        (ManifestFormat.Docker, LayerCompression.Gzip) => DockerLayerGzip,
        _ => throw new OciException($"The Docker image format has no layer type for {compression} compression; use gzip, or the OCI format."),
    };

    /// <summary>The manifest media type of a format.</summary>
    public static string ManifestMediaType(ManifestFormat format) => format == ManifestFormat.Docker ? DockerManifest : OciManifest;

    /// <summary>The index media type of a format.</summary>
    public static string IndexMediaType(ManifestFormat format) => format == ManifestFormat.Docker ? DockerManifestList : OciIndex;

    /// <summary>The config media type of a format.</summary>
    public static string ConfigMediaType(ManifestFormat format) => format == ManifestFormat.Docker ? DockerConfig : OciConfig;

    /// <summary>The format family a manifest, index or config media type belongs to.</summary>
    public static ManifestFormat FormatOf(string? mediaType) =>
        mediaType is DockerManifest or DockerManifestList or DockerConfig or DockerLayerGzip or DockerForeignLayerGzip
            ? ManifestFormat.Docker
            : ManifestFormat.Oci;
}

/// <summary>How a layer's tar stream is compressed.</summary>
public enum LayerCompression
{
    /// <summary>A plain tar stream.</summary>
    None,
    /// <summary>gzip (RFC 1952).</summary>
    Gzip,
    /// <summary>Zstandard (RFC 8878).</summary>
    Zstd,
}

/// <summary>Which family of media types an image is written with.</summary>
public enum ManifestFormat
{
    /// <summary>OCI image-spec media types.</summary>
    Oci,
    /// <summary>Docker image manifest v2 schema 2 media types.</summary>
    Docker,
}
