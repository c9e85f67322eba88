using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Referrers;

namespace Containers.Build.Publishing;

/// <summary>What a publish produced.</summary>
public sealed record ContainerPublishResult
{
    /// <summary>The digest of the manifest (one RID) or the index (several).</summary>
    public required Digest Digest { get; init; }

    /// <summary>The manifest's or index's media type.</summary>
    public required string MediaType { get; init; }

    /// <summary>The exact manifest or index JSON.</summary>
    public required string ManifestJson { get; init; }

    /// <summary>Each image built, one per runtime identifier.</summary>
    public required IReadOnlyList<PublishedImageInfo> Images { get; init; }

    /// <summary>Bytes of blobs actually uploaded to a registry.</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Bytes of blobs the registry already had or mounted.</summary>
    public long BytesReused { get; init; }

    /// <summary>The tarball written, for archive destinations.</summary>
    public string? ArchivePath { get; init; }

    /// <summary>The layout written, for layout destinations.</summary>
    public string? LayoutPath { get; init; }

    /// <summary>The tags written.</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>Where the image timestamp came from.</summary>
    public required string TimestampSource { get; init; }

    /// <summary>The SBOMs generated, one per image; empty when SBOM generation is off.</summary>
    public IReadOnlyList<PublishedSbom> Sboms { get; init; } = [];

    /// <summary>The signatures and provenance attached, one of each per image manifest and for the index; empty without signing.</summary>
    public IReadOnlyList<PublishedSignature> Signatures { get; init; } = [];
}

/// <summary>A sigstore bundle made for one manifest (or index) of a publish, and where it went.</summary>
/// <param name="Name">What it is about: a RID, or <c>index</c>.</param>
/// <param name="Subject">The manifest or index it refers to.</param>
/// <param name="PredicateType">The SLSA provenance predicate type, or cosign's signature predicate type.</param>
/// <param name="Bundle">The bundle bytes.</param>
public sealed record PublishedSignature(string Name, Descriptor Subject, string PredicateType, ReadOnlyMemory<byte> Bundle)
{
    /// <summary>True for the signed provenance, false for the manifest signature.</summary>
    public bool IsProvenance => PredicateType == Containers.Build.SupplyChain.Signing.ProvenanceStatement.PredicateType;

    /// <summary>True when the bundle was the one remembered from an earlier publish (not signed again).</summary>
    public bool Reused { get; init; }

    /// <summary>The referrer manifest's digest, when attached to a registry or layout.</summary>
    public Digest? ReferrerDigest { get; init; }

    /// <summary>The files the bundle was written to.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];
}

/// <summary>An SBOM generated for one image of a publish, and where it went.</summary>
/// <param name="RuntimeIdentifier">The image's RID.</param>
/// <param name="Subject">The descriptor of the image manifest the SBOM describes.</param>
/// <param name="MediaType">The SBOM's media type (also the referrer's artifactType).</param>
/// <param name="Content">The SBOM bytes.</param>
public sealed record PublishedSbom(string RuntimeIdentifier, Descriptor Subject, string MediaType, ReadOnlyMemory<byte> Content)
{
    /// <summary>The referrer manifest's digest, when attached to a registry or layout.</summary>
    public Digest? ReferrerDigest { get; init; }

    /// <summary>How a registry records the referrer, when pushed to one.</summary>
    public ReferrerRecording? Recording { get; init; }

    /// <summary>The files the SBOM was written to (beside a tarball, in the SBOM output directory).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];
}

/// <summary>One image of a publish.</summary>
/// <param name="RuntimeIdentifier">Its RID.</param>
/// <param name="ManifestDigest">Its manifest digest.</param>
/// <param name="ConfigDigest">Its config digest.</param>
/// <param name="ConfigJson">The exact config JSON.</param>
/// <param name="ManifestJson">The exact manifest JSON.</param>
/// <param name="Layers">Its layers, base first.</param>
public sealed record PublishedImageInfo(string RuntimeIdentifier, Digest ManifestDigest, Digest ConfigDigest, string ConfigJson, string ManifestJson, IReadOnlyList<PublishedLayerInfo> Layers)
{
    /// <summary>The Debian packages of the image's os-packages layer (ContainerOsPackage), sorted by name.</summary>
    public IReadOnlyList<OsPackages.InstalledOsPackage> OsPackages { get; init; } = [];

    /// <summary>Those of <see cref="OsPackages"/> that have maintainer scripts, which were not run.</summary>
    public IReadOnlyList<string> OsPackagesWithScripts { get; init; } = [];
}

/// <summary>One layer of a published image.</summary>
/// <param name="Name">The app layer's name (<c>packages</c>, <c>app</c>, ...), or <c>base</c>.</param>
/// <param name="Digest">The blob digest.</param>
/// <param name="Size">The compressed size.</param>
/// <param name="FromCache">True when the layer was not rebuilt because the local cache had it.</param>
public sealed record PublishedLayerInfo(string Name, Digest Digest, long Size, bool FromCache);

/// <summary>A progress message of a publish, for the build log.</summary>
/// <param name="Message">One line, ready to show.</param>
public sealed record PublishProgress(string Message);
