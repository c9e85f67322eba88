using Containers.Oci.Descriptors;
using Containers.Oci.Models;

namespace Containers.Oci.Images;

/// <summary>A multi-platform image: an index (or Docker manifest list) and the images it lists.</summary>
public interface IImageIndex
{
    /// <summary>The exact bytes of the index; its digest is the index's digest.</summary>
    ReadOnlyMemory<byte> IndexBytes { get; }

    /// <summary>The parsed index.</summary>
    ImageIndex Index { get; }

    /// <summary>The descriptor of the index.</summary>
    Descriptor IndexDescriptor { get; }

    /// <summary>The images, in the order of <see cref="ImageIndex.Manifests"/>.</summary>
    IReadOnlyList<IImage> Images { get; }
}
