using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.Models;

namespace Containers.Oci.Referrers;

/// <summary>
/// An OCI 1.1 artifact that refers to another manifest (its subject): an image manifest whose
/// <c>artifactType</c> says what it is, whose config is the empty descriptor <c>{}</c> and whose one
/// layer is the artifact's content (an SBOM, a signature, ...). Built once; the bytes never change.
/// </summary>
/// <example>
/// <code>
/// var sbom = ReferrerArtifact.Create("application/spdx+json", sbomBytes, "application/spdx+json", image.ManifestDescriptor,
///     new Dictionary&lt;string, string&gt; { ["org.opencontainers.image.created"] = "2026-01-01T00:00:00Z" });
/// await registryClient.PushReferrerAsync("127.0.0.1:5000", "myapp", sbom, ct);
/// </code>
/// </example>
public sealed class ReferrerArtifact
{
    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    private ReferrerArtifact(string artifactType, ReadOnlyMemory<byte> content, Descriptor contentDescriptor, Descriptor subject, ImageManifest manifest, byte[] manifestBytes)
    {
        ArtifactType = artifactType;
        Content = content;
        ContentDescriptor = contentDescriptor;
        Subject = subject;
        Manifest = manifest;
        ManifestBytes = manifestBytes;
        ManifestDescriptor = new Descriptor
        {
            MediaType = MediaTypes.OciManifest,
            Digest = Digest.Compute(manifestBytes),
            Size = manifestBytes.Length,
            ArtifactType = artifactType,
            Annotations = manifest.Annotations,
        };
    }

    /// <summary>What the artifact is, e.g. <c>application/spdx+json</c>.</summary>
    public string ArtifactType { get; }

    /// <summary>The artifact's content (the one layer's bytes).</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>The content's descriptor (the manifest's one layer).</summary>
    public Descriptor ContentDescriptor { get; }

    /// <summary>The manifest the artifact refers to.</summary>
    public Descriptor Subject { get; }

    /// <summary>The artifact manifest.</summary>
    public ImageManifest Manifest { get; }

    /// <summary>The artifact manifest's canonical bytes.</summary>
    public ReadOnlyMemory<byte> ManifestBytes { get; }

    /// <summary>
    /// The artifact manifest's descriptor as a referrers list names it: media type, digest, size,
    /// <c>artifactType</c> and the manifest's annotations.
    /// </summary>
    public Descriptor ManifestDescriptor { get; }

    /// <summary>The bytes of the empty config blob <c>{}</c>.</summary>
    public static ReadOnlyMemory<byte> EmptyConfigBytes => EmptyJson;

    /// <summary>Builds the artifact manifest for <paramref name="content"/> referring to <paramref name="subject"/>.</summary>
    /// <param name="artifactType">The artifact type, also the manifest's <c>artifactType</c>.</param>
    /// <param name="content">The artifact's bytes.</param>
    /// <param name="contentMediaType">The media type of the content layer.</param>
    /// <param name="subject">The manifest referred to (media type, digest and size are kept; platform and annotations are not).</param>
    /// <param name="annotations">Manifest annotations, written sorted by key.</param>
    public static ReferrerArtifact Create(string artifactType, ReadOnlyMemory<byte> content, string contentMediaType, Descriptor subject, IReadOnlyDictionary<string, string>? annotations = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactType);
        ArgumentException.ThrowIfNullOrEmpty(contentMediaType);
        ArgumentNullException.ThrowIfNull(subject);
        if (!MediaTypes.IsManifestOrIndex(subject.MediaType))
        {
            throw new OciException($"A referrer's subject must be a manifest or an index, not '{subject.MediaType}'.");
        }

        var layer = Descriptor.For(contentMediaType, content.Span);
        var sorted = annotations is null or { Count: 0 }
            ? null
            : new SortedDictionary<string, string>(annotations.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            ArtifactType = artifactType,
            Config = Descriptor.Empty with { Data = null },
            Layers = [layer],
            Subject = new Descriptor { MediaType = subject.MediaType, Digest = subject.Digest, Size = subject.Size },
            Annotations = sorted,
        };
        return new ReferrerArtifact(artifactType, content, layer, manifest.Subject, manifest, OciJson.Serialize(manifest));
    }

    /// <summary>
    /// The artifact stored as <paramref name="manifestBytes"/> (read from a registry or a layout) with its one layer's
    /// <paramref name="content"/>, keeping the manifest's exact bytes, so copying it keeps its digest.
    /// </summary>
    /// <param name="manifestBytes">The artifact manifest as stored.</param>
    /// <param name="content">The bytes of its one layer.</param>
    /// <param name="what">Names the manifest in messages (e.g. <c>referrer sha256:… in 127.0.0.1:5000/app</c>).</param>
    /// <exception cref="OciException">
    /// The manifest is not a referrer artifact of one layer with a subject (what <see cref="Create"/> makes), or the
    /// content does not match the layer's digest.
    /// </exception>
    public static ReferrerArtifact Parse(ReadOnlyMemory<byte> manifestBytes, ReadOnlyMemory<byte> content, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(what);
        var manifest = OciJson.DeserializeManifest(manifestBytes.Span, what);
        if (manifest.Subject is null || manifest.Layers.Count != 1)
        {
            throw new OciException($"The {what} is not a referrer artifact of one layer with a subject (it has {manifest.Layers.Count} layers{(manifest.Subject is null ? " and no subject" : "")}); only such artifacts (SBOMs, signatures, provenance) can be read as one.");
        }

        var layer = manifest.Layers[0];
        if (Digest.Compute(content.Span) != layer.Digest)
        {
            throw new OciException($"The content given for the {what} does not match its layer {layer.Digest}; read the layer's blob again.");
        }

        var artifactType = manifest.ArtifactType ?? manifest.Config.MediaType;
        return new ReferrerArtifact(artifactType, content, layer, manifest.Subject, manifest, manifestBytes.ToArray());
    }

    /// <summary>The tag of the referrers tag schema (the fallback for registries without the referrers API): <c>sha256-&lt;hex&gt;</c>.</summary>
    public static string FallbackTag(Digest subject) => subject.Algorithm + "-" + subject.Hex;

    /// <summary>
    /// Adds <paramref name="referrer"/> to a referrers index (replacing an entry with the same digest), keeping
    /// every other referrer in its order. A null <paramref name="existing"/> starts a new index.
    /// </summary>
    public static ImageIndex AddToReferrersIndex(ImageIndex? existing, Descriptor referrer)
    {
        ArgumentNullException.ThrowIfNull(referrer);
        var manifests = (existing?.Manifests ?? []).Where(m => m.Digest != referrer.Digest).ToList();
        manifests.Add(referrer);
        return new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests, Annotations = existing?.Annotations };
    }

    /// <inheritdoc />
    public override string ToString() => $"{ArtifactType} {ManifestDescriptor.Digest} -> {Subject.Digest}";
}

/// <summary>Where a referrer was recorded.</summary>
public enum ReferrerRecording
{
    /// <summary>The registry supports the referrers API: it answered the manifest upload with <c>OCI-Subject</c>.</summary>
    ReferrersApi,

    /// <summary>The registry lacks the referrers API: the referrer was added to the index tagged <c>sha256-&lt;subject hex&gt;</c>.</summary>
    FallbackTag,
}

/// <summary>The outcome of pushing a referrer.</summary>
/// <param name="ManifestDigest">The artifact manifest's digest.</param>
/// <param name="Recording">How the registry links it to its subject.</param>
public sealed record ReferrerPushResult(Digest ManifestDigest, ReferrerRecording Recording);
