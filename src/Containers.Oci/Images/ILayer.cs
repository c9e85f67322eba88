using Containers.Oci.Descriptors;
using Containers.Oci.Digests;

namespace Containers.Oci.Images;

/// <summary>
/// One layer of an image: how it is addressed (its descriptor: media type, digest and size of the
/// compressed blob), its diff id (the digest of the uncompressed tar), and its two streams.
/// </summary>
/// <remarks>Implementations are read-only and may be opened any number of times, concurrently.</remarks>
public interface ILayer
{
    /// <summary>The descriptor of the blob as it is stored and pushed (compressed).</summary>
    Descriptor Descriptor { get; }

    /// <summary>The sha256 of the uncompressed tar stream, as listed in the config's rootfs.diff_ids.</summary>
    Digest DiffId { get; }

    /// <summary>Opens the blob exactly as stored (compressed per the media type).</summary>
    Task<Stream> OpenCompressedAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens the uncompressed tar stream.</summary>
    Task<Stream> OpenUncompressedAsync(CancellationToken cancellationToken = default);
}
