using Containers.Oci.Descriptors;
using Containers.Oci.Json;
using Containers.Oci.Models;

namespace Containers.Oci.Images;

/// <summary>An index composed from images; its bytes are computed once.</summary>
public sealed class ComposedImageIndex : IImageIndex
{
    private readonly Lazy<(byte[] Bytes, ImageIndex Index, Descriptor Descriptor)> _computed;

    /// <summary>Composes an index of <paramref name="images"/>, each listed with its config's platform.</summary>
    public ComposedImageIndex(IReadOnlyList<IImage> images, ManifestFormat format = ManifestFormat.Oci, IReadOnlyDictionary<string, string>? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        Images = images;
        _computed = new Lazy<(byte[], ImageIndex, Descriptor)>(() =>
        {
            var index = new ImageIndex
            {
                MediaType = MediaTypes.IndexMediaType(format),
                Manifests = images.Select(i => i.ManifestDescriptor with { Platform = i.ManifestDescriptor.Platform ?? i.Config.Platform }).ToArray(),
                Annotations = annotations is { Count: > 0 } ? annotations : null,
            };
            var bytes = OciJson.Serialize(index);
            return (bytes, index, Descriptor.For(index.MediaType, bytes));
        });
    }

    /// <inheritdoc/>
    public IReadOnlyList<IImage> Images { get; }

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> IndexBytes => _computed.Value.Bytes;

    /// <inheritdoc/>
    public ImageIndex Index => _computed.Value.Index;

    /// <inheritdoc/>
    public Descriptor IndexDescriptor => _computed.Value.Descriptor;
}
