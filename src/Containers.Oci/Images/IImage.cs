using Containers.Oci.Descriptors;
using Containers.Oci.Models;

namespace Containers.Oci.Images;

/// <summary>
/// A single-platform image: its manifest and config (small, held in memory, with their exact bytes so
/// digests stay stable) and its layers (streamed on demand).
/// </summary>
public interface IImage
{
    /// <summary>The exact bytes of the manifest; its digest is the image's digest.</summary>
    ReadOnlyMemory<byte> ManifestBytes { get; }

    /// <summary>The parsed manifest.</summary>
    ImageManifest Manifest { get; }

    /// <summary>The descriptor of the manifest (media type, digest, size; platform when known).</summary>
    Descriptor ManifestDescriptor { get; }

    /// <summary>The exact bytes of the config blob.</summary>
    ReadOnlyMemory<byte> ConfigBytes { get; }

    /// <summary>The parsed config.</summary>
    ImageConfig Config { get; }

    /// <summary>The layers, base first, matching <see cref="ImageManifest.Layers"/>.</summary>
    IReadOnlyList<ILayer> Layers { get; }
}
