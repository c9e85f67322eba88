using System.IO.Compression;
using Containers.Oci.Descriptors;

namespace Containers.Oci.Layers;

/// <summary>Compression and decompression of layer streams for every supported layer media type.</summary>
public static class LayerStreams
{
    /// <summary>
    /// Wraps <paramref name="compressed"/> in a stream that yields the uncompressed tar.
    /// Disposing the result disposes <paramref name="compressed"/>.
    /// </summary>
    public static Stream Decompress(Stream compressed, LayerCompression compression) => compression switch
    {
        LayerCompression.None => compressed,
        LayerCompression.Gzip => new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: false),
        LayerCompression.Zstd => new ZstdSharp.DecompressionStream(compressed, leaveOpen: false),
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "Unknown layer compression."),
    };

    /// <summary>Wraps <paramref name="compressed"/> for the compression its media type names.</summary>
    /// <exception cref="OciException">The media type is not a layer type.</exception>
    public static Stream Decompress(Stream compressed, string mediaType) =>
        Decompress(compressed, MediaTypes.GetLayerCompression(mediaType)
            ?? throw new OciException($"'{mediaType}' is not a layer media type this library can read; expected a tar, tar+gzip or tar+zstd layer."));
}
