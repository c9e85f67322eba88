using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Platforms;
using Containers.Oci.Referrers;
using Containers.Oci.Registry;
using Containers.Oci.Stores;
using Containers.Oci.Transports;

namespace Containers.Cli.Images;

/// <summary>
/// A copy between two <see cref="ImageLocation"/>s over Containers.Oci's sources and targets (which keep the manifest
/// bytes), plus the referrers of each copied manifest between the media that hold referrers (registries and layouts).
/// </summary>
public static class ImageCopy
{
    /// <summary>What a copy wrote.</summary>
    /// <param name="Digest">The digest of the manifest or index written.</param>
    /// <param name="Referrers">How many referrer artifacts were copied with it.</param>
    public sealed record Result(Digest Digest, int Referrers);

    /// <summary>
    /// Copies <paramref name="from"/> to <paramref name="to"/>: the image for <paramref name="platform"/> out of an index,
    /// or (null) what the name points at, whole; with <paramref name="withReferrers"/> also the referrers of the index and
    /// of each image.
    /// </summary>
    public static async Task<Result> CopyAsync(RegistryClient client, ImageLocation from, ImageLocation to, Platform? platform, bool withReferrers, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(log);
        var source = from.CreateSource(client);
        var content = platform is null
            ? await source.ReadAsync(cancellationToken).ConfigureAwait(false)
            : ImageContent.FromImage(await source.ReadImageAsync(platform, cancellationToken).ConfigureAwait(false));
        log($"Copying {content.Descriptor.Digest} ({content.Images.Count} image(s)) from {from} to {to}.");
        var written = await to.CreateTarget(client).WriteAsync(content, cancellationToken).ConfigureAwait(false);
        if (!withReferrers)
        {
            return new Result(written.Digest, 0);
        }

        if (!HoldsReferrers(from) || !HoldsReferrers(to))
        {
            log($"Referrers are copied between registries and OCI layouts only; {(HoldsReferrers(from) ? to : from)} holds none.");
            return new Result(written.Digest, 0);
        }

        var copied = 0;
        var subjects = new List<Digest> { content.Descriptor.Digest };
        subjects.AddRange(content.Images.Select(i => i.ManifestDescriptor.Digest).Where(d => d != content.Descriptor.Digest));
        foreach (var subject in subjects)
        {
            foreach (var referrer in await ListReferrersAsync(client, from, subject, cancellationToken).ConfigureAwait(false))
            {
                var artifact = await ReadReferrerAsync(client, from, referrer, cancellationToken).ConfigureAwait(false);
                await WriteReferrerAsync(client, to, artifact, cancellationToken).ConfigureAwait(false);
                log($"Copied the referrer {artifact}.");
                copied++;
            }
        }

        return new Result(written.Digest, copied);
    }

    /// <summary>Whether the medium holds referrers (registries, layouts); archives do not.</summary>
    public static bool HoldsReferrers(ImageLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Transport is ImageTransport.Registry or ImageTransport.OciLayout;
    }

    /// <summary>The referrers of <paramref name="subject"/> where <paramref name="location"/> is: the registry's referrers API (or its tag fallback), a layout's index.json; none in an archive.</summary>
    public static async Task<IReadOnlyList<Descriptor>> ListReferrersAsync(RegistryClient client, ImageLocation location, Digest subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(location);
        return location.Transport switch
        {
            ImageTransport.Registry => await client.GetReferrersAsync(location.RegistryReference!.Registry, location.RegistryReference.Repository, subject, cancellationToken: cancellationToken).ConfigureAwait(false),
            ImageTransport.OciLayout => await OciLayout.Open(location.Path!).GetReferrersAsync(subject, cancellationToken: cancellationToken).ConfigureAwait(false),
            _ => [],
        };
    }

    /// <summary>Reads the referrer artifact <paramref name="referrer"/> (its manifest's exact bytes and its one layer) from a registry or layout.</summary>
    public static async Task<ReferrerArtifact> ReadReferrerAsync(RegistryClient client, ImageLocation location, Descriptor referrer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(referrer);
        var what = $"referrer {referrer.Digest} in {location}";
        if (location.Transport == ImageTransport.Registry)
        {
            var reference = location.RegistryReference!;
            var manifest = await client.GetManifestAsync(reference.Registry, reference.Repository, referrer.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            var layer = Oci.Json.OciJson.DeserializeManifest(manifest.Bytes.Span, what).Layers is [var first, ..] ? first : throw new Oci.OciException($"The {what} has no layer; only artifacts of one layer (SBOMs, signatures) are read.");
            using var blob = await client.OpenBlobAsync(reference.Registry, reference.Repository, layer, cancellationToken).ConfigureAwait(false);
            return ReferrerArtifact.Parse(manifest.Bytes, await ReadAllAsync(blob, cancellationToken).ConfigureAwait(false), what);
        }

        var layout = OciLayout.Open(location.Path!);
        byte[] manifestBytes;
        using (var stream = layout.OpenBlob(referrer.Digest))
        {
            manifestBytes = await ReadAllAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        var layerDescriptor = Oci.Json.OciJson.DeserializeManifest(manifestBytes, what).Layers is [var only, ..] ? only : throw new Oci.OciException($"The {what} has no layer; only artifacts of one layer (SBOMs, signatures) are read.");
        using var content = layout.OpenBlob(layerDescriptor.Digest);
        return ReferrerArtifact.Parse(manifestBytes, await ReadAllAsync(content, cancellationToken).ConfigureAwait(false), what);
    }

    private static Task WriteReferrerAsync(RegistryClient client, ImageLocation location, ReferrerArtifact artifact, CancellationToken cancellationToken) =>
        location.Transport == ImageTransport.Registry
            ? client.PushReferrerAsync(location.RegistryReference!.Registry, location.RegistryReference.Repository, artifact, cancellationToken)
            : OciLayout.Create(location.Path!).WriteReferrerAsync(artifact, cancellationToken);

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
