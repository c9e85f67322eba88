using System.Net;
using System.Net.Http.Headers;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.Models;
using Containers.Oci.Referrers;

namespace Containers.Oci.Registry;

// OCI distribution 1.1 referrers: push an artifact that refers to a manifest, and list a manifest's referrers,
// through the referrers API where the registry has it and through the sha256-<hex> tag index where it does not.
public sealed partial class RegistryClient
{
    /// <summary>
    /// Pushes a referrer artifact (its empty config and content blob, then its manifest by digest). When the
    /// registry answers the manifest upload with an <c>OCI-Subject</c> header it links the referrer itself;
    /// otherwise the referrer is added to the fallback index tagged <c>sha256-&lt;subject hex&gt;</c>, keeping
    /// every referrer already listed there. The subject's own tags are never touched.
    /// </summary>
    public Task<ReferrerPushResult> PushReferrerAsync(string registry, string repository, ReferrerArtifact artifact, CancellationToken cancellationToken = default) =>
        PushReferrerAsync(registry, repository, artifact, Task.CompletedTask, cancellationToken);

    /// <summary>
    /// Like <see cref="PushReferrerAsync(string, string, ReferrerArtifact, CancellationToken)"/>, overlapped with the push
    /// of its subject: the referrer's blobs are uploaded and the existing listing read while <paramref name="subjectPushed"/>
    /// runs; its manifest and the fallback index are written only after it succeeded (so nothing refers to an image
    /// that was not pushed). When it fails, this fails with the same exception and writes no manifest or tag.
    /// </summary>
    public async Task<ReferrerPushResult> PushReferrerAsync(string registry, string repository, ReferrerArtifact artifact, Task subjectPushed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(subjectPushed);
        var scope = RegistryScope.ForPush(repository, null);

        // Re-publishing an unchanged image attaches the same bytes again: when the referrer is already in the
        // fallback index, its manifest and blobs went in before it, so there is nothing left to write.
        var fallbackTag = ReferrerArtifact.FallbackTag(artifact.Subject.Digest);
        var emptyConfig = ReferrerArtifact.EmptyConfigBytes;
        var listing = GetFallbackIndexAsync(registry, scope, fallbackTag, cancellationToken);
        var blobs = Task.WhenAll(
            PushBlobAsync(registry, scope, artifact.Manifest.Config, _ => Task.FromResult<Stream>(new MemoryStream(emptyConfig.ToArray(), writable: false)), cancellationToken),
            PushBlobAsync(registry, scope, artifact.ContentDescriptor, _ => Task.FromResult<Stream>(new MemoryStream(artifact.Content.ToArray(), writable: false)), cancellationToken));
        try
        {
            await Task.WhenAll(listing, blobs).ConfigureAwait(false);
        }
        finally
        {
            // The subject's outcome first: its failure is the one to report.
            await subjectPushed.ConfigureAwait(false);
        }

        var listed = await listing.ConfigureAwait(false);
        if (listed is not null && listed.Manifests.Any(m => m.Digest == artifact.ManifestDescriptor.Digest))
        {
            return new ReferrerPushResult(artifact.ManifestDescriptor.Digest, ReferrerRecording.FallbackTag);
        }

        var digest = artifact.ManifestDescriptor.Digest;
        ValidateNames(registry, repository, digest);
        bool subjectAcknowledged;
        using (var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress =>
            {
                var content = new ReadOnlyMemoryContent(artifact.ManifestBytes);
                content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
                return new HttpRequestMessage(HttpMethod.Put, ManifestUri(baseAddress, repository, digest)) { Content = content };
            },
            retryTransient: true,
            cancellationToken).ConfigureAwait(false))
        {
            await EnsureSuccessAsync(response, registry, repository, $"uploading the referrer manifest {repository}@{digest}", cancellationToken).ConfigureAwait(false);
            subjectAcknowledged = response.Headers.TryGetValues("OCI-Subject", out var subjects)
                && subjects.Any(s => Digest.TryParse(s.Trim(), out var acknowledged) && acknowledged == artifact.Subject.Digest);
        }

        if (subjectAcknowledged)
        {
            return new ReferrerPushResult(digest, ReferrerRecording.ReferrersApi);
        }

        // Read again right before writing: another referrer may have been added since the check above.
        var existing = await GetFallbackIndexAsync(registry, scope, fallbackTag, cancellationToken).ConfigureAwait(false);
        var updated = ReferrerArtifact.AddToReferrersIndex(existing, artifact.ManifestDescriptor);
        await PutManifestAsync(registry, scope, fallbackTag, OciJson.Serialize(updated), MediaTypes.OciIndex, cancellationToken).ConfigureAwait(false);
        return new ReferrerPushResult(digest, ReferrerRecording.FallbackTag);
    }

    /// <summary>
    /// Lists the referrers of <paramref name="subject"/> (descriptors with <c>artifactType</c> and annotations),
    /// optionally only those of <paramref name="artifactType"/>: from the referrers API when the registry has
    /// it, else from the fallback index tagged <c>sha256-&lt;subject hex&gt;</c>. No referrers is an empty list.
    /// </summary>
    public async Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string registry, string repository, Digest subject, string? artifactType = null, CancellationToken cancellationToken = default)
    {
        var scope = RegistryScope.Pull(repository);
        ValidateNames(registry, repository, subject);
        ImageIndex? index = null;
        using (var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress =>
            {
                var uri = new Uri(baseAddress, $"v2/{repository}/referrers/{subject}" + (artifactType is null ? string.Empty : "?artifactType=" + Uri.EscapeDataString(artifactType)));
                var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
                return request;
            },
            retryTransient: true,
            cancellationToken).ConfigureAwait(false))
        {
            // A registry without the API answers 404 (or 405/400 for an unknown route); the spec says fall back to the tag.
            if (response.IsSuccessStatusCode
                && string.Equals(response.Content.Headers.ContentType?.MediaType, MediaTypes.OciIndex, StringComparison.OrdinalIgnoreCase))
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                if (bytes.Length > MaxManifestBytes)
                {
                    throw new RegistryException($"The referrers list of {registry}/{repository}@{subject} is larger than {MaxManifestBytes} bytes.", registry, repository, response.StatusCode);
                }

                index = OciJson.DeserializeIndex(bytes, $"referrers list of {registry}/{repository}@{subject}");
            }
            else if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest) && !response.IsSuccessStatusCode)
            {
                await EnsureSuccessAsync(response, registry, repository, $"listing the referrers of {repository}@{subject}", cancellationToken).ConfigureAwait(false);
            }
        }

        index ??= await GetFallbackIndexAsync(registry, scope, ReferrerArtifact.FallbackTag(subject), cancellationToken).ConfigureAwait(false);
        var referrers = index?.Manifests ?? [];
        return artifactType is null ? referrers : referrers.Where(r => string.Equals(r.ArtifactType, artifactType, StringComparison.Ordinal)).ToArray();
    }

    private async Task<ImageIndex?> GetFallbackIndexAsync(string registry, RegistryScope scope, string tag, CancellationToken cancellationToken)
    {
        RegistryManifest manifest;
        try
        {
            manifest = await GetManifestAsync(registry, scope, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryNotFoundException)
        {
            return null;
        }

        if (!MediaTypes.IsIndex(manifest.Descriptor.MediaType))
        {
            throw new RegistryException($"The tag {scope.Repository}:{tag} holds a {manifest.Descriptor.MediaType}, not the referrers index the OCI fallback tag schema expects; delete or rename that tag.", registry, scope.Repository, null);
        }

        return OciJson.DeserializeIndex(manifest.Bytes.Span, $"referrers index {scope.Repository}:{tag}");
    }
}
