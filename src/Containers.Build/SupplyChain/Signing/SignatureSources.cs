using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Stores;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>Where an image and its referrers are read from for verification: a registry repository or an OCI layout.</summary>
internal interface ISignatureSource
{
    /// <summary>Names the image in messages.</summary>
    string Name { get; }

    Task<(Descriptor Descriptor, byte[] Bytes)> GetManifestAsync(string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<Descriptor>> GetBundleReferrersAsync(Digest subject, CancellationToken cancellationToken);

    Task<byte[]> ReadBlobAsync(Descriptor descriptor, CancellationToken cancellationToken);
}

/// <summary>A repository in a registry (the referrers API or the tag fallback).</summary>
internal sealed class RegistrySignatureSource(RegistryClient client, string registry, string repository) : ISignatureSource
{
    public string Name => registry + "/" + repository;

    public async Task<(Descriptor Descriptor, byte[] Bytes)> GetManifestAsync(string reference, CancellationToken cancellationToken)
    {
        var manifest = await client.GetManifestAsync(registry, repository, reference, cancellationToken).ConfigureAwait(false);
        return (manifest.Descriptor, manifest.Bytes.ToArray());
    }

    public Task<IReadOnlyList<Descriptor>> GetBundleReferrersAsync(Digest subject, CancellationToken cancellationToken) =>
        client.GetReferrersAsync(registry, repository, subject, SigstoreBundle.MediaType, cancellationToken);

    public async Task<byte[]> ReadBlobAsync(Descriptor descriptor, CancellationToken cancellationToken)
    {
        var stream = await client.OpenBlobAsync(registry, repository, descriptor, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }
}

/// <summary>An OCI image layout directory.</summary>
internal sealed class LayoutSignatureSource(string directory) : ISignatureSource
{
    private readonly OciLayout _layout = OciLayout.Open(directory);

    public string Name => "oci:" + directory;

    public async Task<(Descriptor Descriptor, byte[] Bytes)> GetManifestAsync(string reference, CancellationToken cancellationToken)
    {
        var descriptor = await _layout.ResolveAsync(reference, cancellationToken).ConfigureAwait(false);
        return (descriptor, await File.ReadAllBytesAsync(_layout.GetBlobPath(descriptor.Digest), cancellationToken).ConfigureAwait(false));
    }

    public Task<IReadOnlyList<Descriptor>> GetBundleReferrersAsync(Digest subject, CancellationToken cancellationToken) =>
        _layout.GetReferrersAsync(subject, SigstoreBundle.MediaType, cancellationToken);

    public Task<byte[]> ReadBlobAsync(Descriptor descriptor, CancellationToken cancellationToken) =>
        File.ReadAllBytesAsync(_layout.GetBlobPath(descriptor.Digest), cancellationToken);
}

/// <summary>Reads the sigstore bundles attached to a manifest.</summary>
internal static class AttachedBundles
{
    public static async Task<IReadOnlyList<(Descriptor Referrer, SigstoreBundle? Bundle, string? Problem)>> ReadAsync(ISignatureSource source, Digest subject, CancellationToken cancellationToken)
    {
        var result = new List<(Descriptor, SigstoreBundle?, string?)>();
        foreach (var referrer in await source.GetBundleReferrersAsync(subject, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var (_, manifestBytes) = await source.GetManifestAsync(referrer.Digest.ToString(), cancellationToken).ConfigureAwait(false);
                var manifest = Containers.Oci.Json.OciJson.DeserializeManifest(manifestBytes, $"referrer {referrer.Digest} of {source.Name}");
                if (manifest.Layers.Count != 1)
                {
                    result.Add((referrer, null, $"referrer {referrer.Digest} has {manifest.Layers.Count} layers, not one bundle"));
                    continue;
                }

                var content = await source.ReadBlobAsync(manifest.Layers[0], cancellationToken).ConfigureAwait(false);
                if (Digest.Compute(content) != manifest.Layers[0].Digest)
                {
                    result.Add((referrer, null, $"referrer {referrer.Digest}'s bundle does not match its digest {manifest.Layers[0].Digest}"));
                    continue;
                }

                result.Add((referrer, SigstoreBundle.Parse(content, $"bundle of referrer {referrer.Digest} in {source.Name}"), null));
            }
            catch (SigningException ex)
            {
                result.Add((referrer, null, ex.Message));
            }
        }

        return result;
    }

    public static ISignatureSource For(RegistryClient client, ImageReference image) => new RegistrySignatureSource(client, image.Registry, image.Repository);
}
