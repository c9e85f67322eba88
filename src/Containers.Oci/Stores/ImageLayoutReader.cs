using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Json;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Stores;

/// <summary>Where an OCI layout's files come from: a directory, or the entries of an archive.</summary>
internal interface ILayoutFiles
{
    /// <summary>The directory or archive, for messages.</summary>
    string StorePath { get; }

    /// <summary>Where a relative path (<c>index.json</c>, <c>blobs/sha256/…</c>) is, for messages.</summary>
    string Describe(string relativePath);

    bool TryGetLength(string relativePath, out long length);

    Task<byte[]> ReadAllAsync(string relativePath, long maxBytes, CancellationToken cancellationToken);

    /// <summary>A layer backed by the blob at <paramref name="relativePath"/>.</summary>
    ILayer CreateLayer(Descriptor descriptor, Digest diffId, string relativePath);
}

/// <summary>Reads images and indexes out of an OCI image layout, verifying every manifest and config it reads.</summary>
internal sealed class ImageLayoutReader
{
    /// <summary>Large enough for any real manifest, index or config; refuses to read a layer by mistake.</summary>
    internal const long MaxDocumentBytes = 32L * 1024 * 1024;

    internal const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    private readonly ILayoutFiles _files;

    public ImageLayoutReader(ILayoutFiles files) => _files = files;

    public static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Hex}";

    public async Task<ImageIndex> ReadIndexJsonAsync(CancellationToken cancellationToken)
    {
        if (!_files.TryGetLength("oci-layout", out _))
        {
            throw new ImageStoreException(_files.StorePath, $"{_files.StorePath} is not an OCI image layout: oci-layout file missing (expected {_files.Describe("oci-layout")}).");
        }

        if (!_files.TryGetLength("index.json", out _))
        {
            throw new ImageStoreException(_files.StorePath, $"{_files.StorePath} is not an OCI image layout: index.json missing (expected {_files.Describe("index.json")}).");
        }

        var bytes = await _files.ReadAllAsync("index.json", MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            return OciJson.DeserializeIndex(bytes, _files.Describe("index.json"));
        }
        catch (OciException ex)
        {
            throw new ImageStoreException(_files.StorePath, ex.Message, ex);
        }
    }

    public async Task<IReadOnlyList<OciLayoutEntry>> ReadEntriesAsync(CancellationToken cancellationToken)
    {
        var index = await ReadIndexJsonAsync(cancellationToken).ConfigureAwait(false);
        return index.Manifests.Select(ToEntry).ToArray();
    }

    internal static OciLayoutEntry ToEntry(Descriptor descriptor) =>
        new(descriptor.Annotations is { } annotations && annotations.TryGetValue(RefNameAnnotation, out var name) ? name : null, descriptor);

    /// <summary>The descriptor a ref name (the last entry so named wins) or a digest stands for.</summary>
    public async Task<Descriptor> ResolveAsync(string refNameOrDigest, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(refNameOrDigest);
        var entries = await ReadEntriesAsync(cancellationToken).ConfigureAwait(false);
        var named = entries.LastOrDefault(e => string.Equals(e.RefName, refNameOrDigest, StringComparison.Ordinal));
        if (named is not null)
        {
            return named.Descriptor;
        }

        if (Digest.TryParse(refNameOrDigest, out var digest))
        {
            var listed = entries.LastOrDefault(e => e.Descriptor.Digest == digest);
            if (listed is not null)
            {
                return listed.Descriptor;
            }

            if (_files.TryGetLength(BlobPath(digest), out var length))
            {
                var bytes = await _files.ReadAllAsync(BlobPath(digest), MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
                var mediaType = OciJson.DetectManifestMediaType(bytes, source: _files.Describe(BlobPath(digest)));
                return new Descriptor { MediaType = mediaType, Digest = digest, Size = length };
            }
        }

        var known = entries.Where(e => e.RefName is not null).Select(e => e.RefName!).Distinct(StringComparer.Ordinal).ToArray();
        throw new ImageStoreException(
            _files.StorePath,
            $"The OCI layout {_files.StorePath} has no image named '{refNameOrDigest}'; it holds: {(known.Length == 0 ? "no named images" : string.Join(", ", known))}.");
    }

    public async Task<IImage> ReadImageAsync(string refNameOrDigest, Platform? platform, CancellationToken cancellationToken)
    {
        var descriptor = await ResolveAsync(refNameOrDigest, cancellationToken).ConfigureAwait(false);
        var name = $"{_files.StorePath}:{refNameOrDigest}";
        for (var depth = 0; MediaTypes.IsIndex(descriptor.MediaType); depth++)
        {
            if (depth > 4)
            {
                throw new ImageStoreException(_files.StorePath, $"The index of {name} nests indexes more than 4 deep; expected an index of image manifests.");
            }

            var (_, index) = await ReadIndexDocumentAsync(descriptor, cancellationToken).ConfigureAwait(false);
            descriptor = SelectManifest(index, platform, name);
        }

        return await ReadImageAsync(descriptor, cancellationToken).ConfigureAwait(false);
    }

    private Descriptor SelectManifest(ImageIndex index, Platform? platform, string name)
    {
        if (platform is not null)
        {
            return PlatformMatching.SelectManifestOrThrow(index.Manifests, platform, name);
        }

        if (index.Manifests.Count == 1)
        {
            return index.Manifests[0];
        }

        var offered = string.Join(", ", index.Manifests.Select(m => m.Platform?.ToString() ?? m.Digest.ToString()));
        throw new ImageStoreException(_files.StorePath, $"{name} is a multi-platform index ({offered}); say which platform to read.");
    }

    public async Task<IImageIndex> ReadIndexAsync(string refNameOrDigest, CancellationToken cancellationToken)
    {
        var descriptor = await ResolveAsync(refNameOrDigest, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(descriptor.MediaType))
        {
            throw new ImageStoreException(_files.StorePath, $"{_files.StorePath}:{refNameOrDigest} is a single-platform image ({descriptor.MediaType}), not an index; read it as an image.");
        }

        var (bytes, index) = await ReadIndexDocumentAsync(descriptor, cancellationToken).ConfigureAwait(false);
        var images = new List<IImage>();
        foreach (var manifest in index.Manifests)
        {
            if (!MediaTypes.IsImageManifest(manifest.MediaType))
            {
                throw new ImageStoreException(_files.StorePath, $"The index {descriptor.Digest} in {_files.StorePath} lists {manifest.Digest} of type '{manifest.MediaType}'; only image manifests are supported inside an index.");
            }

            images.Add(await ReadImageAsync(manifest, cancellationToken).ConfigureAwait(false));
        }

        return new StoredImageIndex(descriptor, bytes, index, images);
    }

    private async Task<(byte[] Bytes, ImageIndex Index)> ReadIndexDocumentAsync(Descriptor descriptor, CancellationToken cancellationToken)
    {
        var bytes = await ReadVerifiedAsync(descriptor, "index", cancellationToken).ConfigureAwait(false);
        return (bytes, Parse(() => OciJson.DeserializeIndex(bytes, $"index {_files.Describe(BlobPath(descriptor.Digest))}")));
    }

    public async Task<IImage> ReadImageAsync(Descriptor descriptor, CancellationToken cancellationToken)
    {
        if (!MediaTypes.IsImageManifest(descriptor.MediaType))
        {
            throw new ImageStoreException(_files.StorePath, $"{descriptor.Digest} in {_files.StorePath} has media type '{descriptor.MediaType}', not an image manifest.");
        }

        var manifestBytes = await ReadVerifiedAsync(descriptor, "manifest", cancellationToken).ConfigureAwait(false);
        var manifest = Parse(() => OciJson.DeserializeManifest(manifestBytes, $"manifest {_files.Describe(BlobPath(descriptor.Digest))}"));
        var configBytes = await ReadVerifiedAsync(manifest.Config, "config", cancellationToken).ConfigureAwait(false);
        var config = Parse(() => OciJson.DeserializeConfig(configBytes, $"config {_files.Describe(BlobPath(manifest.Config.Digest))}"));
        var diffIds = config.RootFs.DiffIds;
        if (diffIds.Count != manifest.Layers.Count)
        {
            throw new ImageStoreException(_files.StorePath, $"The image {descriptor.Digest} in {_files.StorePath} has {manifest.Layers.Count} layers but its config lists {diffIds.Count} diff ids; the image is corrupt.");
        }

        var layers = new ILayer[manifest.Layers.Count];
        for (var i = 0; i < layers.Length; i++)
        {
            var layer = manifest.Layers[i];
            var path = BlobPath(layer.Digest);
            if (!_files.TryGetLength(path, out var length))
            {
                throw new ImageStoreException(_files.StorePath, $"Layer {layer.Digest} of image {descriptor.Digest} is missing from {_files.StorePath} (expected {_files.Describe(path)}); the layout is incomplete.");
            }

            if (length != layer.Size)
            {
                throw new ImageStoreException(_files.StorePath, $"Layer {_files.Describe(path)} is {length} bytes but image {descriptor.Digest} says {layer.Size}; the layout is corrupt.");
            }

            layers[i] = _files.CreateLayer(layer, diffIds[i], path);
        }

        return new StoredImage(descriptor with { Platform = descriptor.Platform ?? config.Platform }, manifestBytes, manifest, configBytes, config, layers);
    }

    /// <summary>Reads a JSON blob and checks it against its descriptor (cheap for documents, and it catches a corrupt store early).</summary>
    private async Task<byte[]> ReadVerifiedAsync(Descriptor descriptor, string what, CancellationToken cancellationToken)
    {
        var path = BlobPath(descriptor.Digest);
        if (!_files.TryGetLength(path, out _))
        {
            throw new ImageStoreException(_files.StorePath, $"The {what} {descriptor.Digest} is missing from {_files.StorePath} (expected {_files.Describe(path)}); the layout is incomplete.");
        }

        var bytes = await _files.ReadAllAsync(path, MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
        var actual = Digest.Compute(descriptor.Digest.Algorithm, bytes);
        if (actual != descriptor.Digest || bytes.Length != descriptor.Size)
        {
            throw new DigestMismatchException($"The {what} at {_files.Describe(path)} ({bytes.Length} bytes, descriptor says {descriptor.Size})", descriptor.Digest, actual);
        }

        return bytes;
    }

    private T Parse<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (OciException ex) when (ex is not ImageStoreException)
        {
            throw new ImageStoreException(_files.StorePath, ex.Message, ex);
        }
    }
}
