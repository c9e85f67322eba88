using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Models;

namespace Containers.Oci.Stores;

/// <summary>An image read from a store: manifest and config bytes as stored (already verified), layers backed by the store.</summary>
internal sealed class StoredImage : IImage
{
    public StoredImage(Descriptor manifestDescriptor, byte[] manifestBytes, ImageManifest manifest, byte[] configBytes, ImageConfig config, IReadOnlyList<ILayer> layers)
    {
        ManifestDescriptor = manifestDescriptor;
        ManifestBytes = manifestBytes;
        Manifest = manifest;
        ConfigBytes = configBytes;
        Config = config;
        Layers = layers;
    }

    public ReadOnlyMemory<byte> ManifestBytes { get; }

    public ImageManifest Manifest { get; }

    public Descriptor ManifestDescriptor { get; }

    public ReadOnlyMemory<byte> ConfigBytes { get; }

    public ImageConfig Config { get; }

    public IReadOnlyList<ILayer> Layers { get; }
}

/// <summary>An index read from a store, with its images.</summary>
internal sealed class StoredImageIndex : IImageIndex
{
    public StoredImageIndex(Descriptor indexDescriptor, byte[] indexBytes, ImageIndex index, IReadOnlyList<IImage> images)
    {
        IndexDescriptor = indexDescriptor;
        IndexBytes = indexBytes;
        Index = index;
        Images = images;
    }

    public ReadOnlyMemory<byte> IndexBytes { get; }

    public ImageIndex Index { get; }

    public Descriptor IndexDescriptor { get; }

    public IReadOnlyList<IImage> Images { get; }
}
