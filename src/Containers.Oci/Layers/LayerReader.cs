using System.Formats.Tar;
using System.Runtime.CompilerServices;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;

namespace Containers.Oci.Layers;

/// <summary>
/// Reads the entries of a layer of any supported media type (tar, tar+gzip, tar+zstd, Docker gzip and the
/// non-distributable variants), one at a time and streaming: nothing is held in memory but the current header.
/// </summary>
/// <example>
/// <code>
/// await foreach (var entry in LayerReader.ReadEntriesAsync(layer, cancellationToken))
///     Console.WriteLine($"{entry.Type} {entry.Path} {entry.Size}");
/// </code>
/// </example>
public sealed class LayerReader : IAsyncDisposable, IDisposable
{
    private readonly Stream _tar;
    private readonly TarReader _reader;

    private LayerReader(Stream tar)
    {
        _tar = tar;
        _reader = new TarReader(tar, leaveOpen: true);
    }

    /// <summary>Opens <paramref name="layer"/>'s blob and decompresses it per its media type.</summary>
    /// <exception cref="OciException">The media type is not a layer type.</exception>
    public static async Task<LayerReader> OpenAsync(ILayer layer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var compression = CompressionOf(layer.Descriptor.MediaType);
        var compressed = await layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false);
        return new LayerReader(LayerStreams.Decompress(compressed, compression));
    }

    /// <summary>Reads <paramref name="compressed"/> as a blob of <paramref name="mediaType"/>; disposing the reader disposes the stream.</summary>
    /// <exception cref="OciException">The media type is not a layer type.</exception>
    public static LayerReader Open(Stream compressed, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        return new LayerReader(LayerStreams.Decompress(compressed, CompressionOf(mediaType)));
    }

    /// <summary>Enumerates the entries of <paramref name="layer"/>. Each entry's content can be read until the next one is requested.</summary>
    public static async IAsyncEnumerable<LayerReaderEntry> ReadEntriesAsync(ILayer layer, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = await OpenAsync(layer, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadNextAsync(cancellationToken).ConfigureAwait(false) is { } entry)
            {
                yield return entry;
            }
        }
    }

    /// <summary>The next entry, or null at the end of the tar. The previous entry's content is no longer readable.</summary>
    /// <exception cref="OciException">The stream is not a valid tar or its compression is corrupt.</exception>
    public async Task<LayerReaderEntry?> ReadNextAsync(CancellationToken cancellationToken = default)
    {
        TarEntry? entry;
        try
        {
            entry = await _reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is InvalidDataException or FormatException or EndOfStreamException or ZstdSharp.ZstdException)
        {
            throw new OciException($"The layer is not a readable tar stream: {exception.Message}", exception);
        }

        return entry is null ? null : new LayerReaderEntry(entry);
    }

    /// <summary>
    /// Reads <paramref name="layer"/> once, checking the blob's digest and size against its descriptor and the
    /// tar's digest against its diff id.
    /// </summary>
    /// <exception cref="DigestMismatchException">The blob or the tar does not hash to what the layer claims.</exception>
    /// <exception cref="OciException">The blob's size differs from the descriptor's.</exception>
    public static async Task VerifyAsync(ILayer layer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var descriptor = layer.Descriptor;
        var compression = CompressionOf(descriptor.MediaType);
        var blob = new HashingStream(await layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false), leaveOpen: false, descriptor.Digest.Algorithm);
        await using (blob.ConfigureAwait(false))
        {
            Digest diffId;
            var tar = new HashingStream(LayerStreams.Decompress(blob, compression), leaveOpen: true, layer.DiffId.Algorithm ?? Digest.Sha256);
            await using (tar.ConfigureAwait(false))
            {
                try
                {
                    await tar.CopyToAsync(Stream.Null, LayerWriter.BufferSize, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is InvalidDataException or ZstdSharp.ZstdException)
                {
                    throw new OciException($"The layer {descriptor.Digest} ({descriptor.MediaType}) cannot be decompressed: {exception.Message}", exception);
                }

                diffId = tar.GetDigest();

                // The decompressor may stop before the end of the blob (trailing padding); the digest covers every byte.
                await blob.CopyToAsync(Stream.Null, LayerWriter.BufferSize, cancellationToken).ConfigureAwait(false);
            }

            var digest = blob.GetDigest();
            if (digest != descriptor.Digest)
            {
                throw new DigestMismatchException($"Layer blob {descriptor.Digest}", descriptor.Digest, digest);
            }

            if (blob.BytesHashed != descriptor.Size)
            {
                throw new OciException($"The layer blob {descriptor.Digest} is {blob.BytesHashed} bytes but its descriptor says {descriptor.Size}; the descriptor is wrong.");
            }

            if (diffId != layer.DiffId)
            {
                throw new DigestMismatchException($"Uncompressed tar of layer {descriptor.Digest} (diff id)", layer.DiffId, diffId);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _reader.Dispose();
        _tar.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync().ConfigureAwait(false);
        await _tar.DisposeAsync().ConfigureAwait(false);
    }

    private static LayerCompression CompressionOf(string mediaType) =>
        MediaTypes.GetLayerCompression(mediaType)
            ?? throw new OciException($"'{mediaType}' is not a layer media type this library can read; expected a tar, tar+gzip or tar+zstd layer.");
}
