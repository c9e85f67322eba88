using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.Referrers;

namespace Containers.Oci.Stores;

// OCI 1.1 referrers in a layout: the artifact's blobs are stored and its manifest gets an index.json entry
// without a ref name (image-spec: referrers are found by their subject, not by a tag).
public sealed partial class OciLayout
{
    /// <summary>
    /// Stores a referrer artifact (empty config, content, manifest) and lists its manifest in index.json with
    /// its <c>artifactType</c> and annotations. The subject's entries are left as they are.
    /// </summary>
    /// <returns>The index.json entry.</returns>
    public async Task<Descriptor> WriteReferrerAsync(ReferrerArtifact artifact, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        await WriteBlobAsync(ReferrerArtifact.EmptyConfigBytes, MediaTypes.OciEmpty, cancellationToken).ConfigureAwait(false);
        await WriteBlobAsync(artifact.Content, artifact.ContentDescriptor.MediaType, cancellationToken).ConfigureAwait(false);
        await WriteBlobAsync(artifact.ManifestBytes, MediaTypes.OciManifest, cancellationToken).ConfigureAwait(false);
        var entry = artifact.ManifestDescriptor;
        await UpdateIndexJsonAsync(
            index => index with
            {
                MediaType = index.MediaType ?? MediaTypes.OciIndex,
                Manifests = [.. index.Manifests.Where(m => m.Digest != entry.Digest), entry],
            },
            cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>The referrers of <paramref name="subject"/> listed in index.json, optionally only those of <paramref name="artifactType"/>.</summary>
    public async Task<IReadOnlyList<Descriptor>> GetReferrersAsync(Digest subject, string? artifactType = null, CancellationToken cancellationToken = default)
    {
        var result = new List<Descriptor>();
        foreach (var entry in await GetEntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            var descriptor = entry.Descriptor;
            if (descriptor.ArtifactType is null || (artifactType is not null && descriptor.ArtifactType != artifactType) || !HasBlob(descriptor.Digest))
            {
                continue;
            }

            using var stream = OpenBlob(descriptor.Digest);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            var manifest = OciJson.DeserializeManifest(buffer.ToArray(), $"referrer {descriptor.Digest}");
            if (manifest.Subject?.Digest == subject)
            {
                result.Add(descriptor);
            }
        }

        return result;
    }
}
