using Containers.Oci.Descriptors;
using Containers.Oci.Digests;

namespace Containers.Oci.Layers;

/// <summary>What writing a layer produced.</summary>
/// <param name="Descriptor">The blob's media type, digest and size.</param>
/// <param name="DiffId">The sha256 of the uncompressed tar.</param>
/// <param name="UncompressedSize">The size of the uncompressed tar in bytes.</param>
public sealed record LayerWriteResult(Descriptor Descriptor, Digest DiffId, long UncompressedSize);
