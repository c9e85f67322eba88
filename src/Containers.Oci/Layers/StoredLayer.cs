using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;

namespace Containers.Oci.Layers;

/// <summary>
/// A layer whose compressed blob is read from somewhere (a file, a registry, an archive entry); the
/// uncompressed stream is produced by decompressing it per its media type.
/// </summary>
public sealed class StoredLayer : ILayer
{
    private readonly Func<CancellationToken, Task<Stream>> _openCompressed;

    /// <summary>Creates the layer.</summary>
    /// <param name="descriptor">The blob's descriptor.</param>
    /// <param name="diffId">The digest of the uncompressed tar, from the image config.</param>
    /// <param name="openCompressed">Opens the blob as stored.</param>
    public StoredLayer(Descriptor descriptor, Digest diffId, Func<CancellationToken, Task<Stream>> openCompressed)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(openCompressed);
        Descriptor = descriptor;
        DiffId = diffId;
        _openCompressed = openCompressed;
    }

    /// <summary>A layer whose blob is the file at <paramref name="path"/>.</summary>
    public static StoredLayer FromFile(Descriptor descriptor, Digest diffId, string path) =>
        new(descriptor, diffId, _ => Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan)));

    /// <inheritdoc/>
    public Descriptor Descriptor { get; }

    /// <inheritdoc/>
    public Digest DiffId { get; }

    /// <inheritdoc/>
    public Task<Stream> OpenCompressedAsync(CancellationToken cancellationToken = default) => _openCompressed(cancellationToken);

    /// <inheritdoc/>
    public async Task<Stream> OpenUncompressedAsync(CancellationToken cancellationToken = default)
    {
        var compressed = await _openCompressed(cancellationToken).ConfigureAwait(false);
        return LayerStreams.Decompress(compressed, Descriptor.MediaType);
    }
}
