using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Platforms;

namespace Containers.Oci.Transports;

/// <summary>
/// What an image name points at: one single-platform image, or an index (a multi-platform image) with its images.
/// Sources read it and targets write it as a whole, so a copy keeps the manifest digest.
/// </summary>
public sealed class ImageContent
{
    private ImageContent(IImage? image, IImageIndex? index)
    {
        Image = image;
        Index = index;
    }

    /// <summary>A single-platform image.</summary>
    public static ImageContent FromImage(IImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new ImageContent(image, null);
    }

    /// <summary>A multi-platform image: the index and the images it lists.</summary>
    public static ImageContent FromIndex(IImageIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return new ImageContent(null, index);
    }

    /// <summary>The single-platform image, or null when this is an index.</summary>
    public IImage? Image { get; }

    /// <summary>The index, or null when this is a single-platform image.</summary>
    public IImageIndex? Index { get; }

    /// <summary>The descriptor of the manifest or index: its digest is what a copy must keep.</summary>
    public Descriptor Descriptor => Index?.IndexDescriptor ?? Image!.ManifestDescriptor;

    /// <summary>The exact bytes of the manifest or index.</summary>
    public ReadOnlyMemory<byte> ManifestBytes => Index?.IndexBytes ?? Image!.ManifestBytes;

    /// <summary>Every single-platform image: the one image, or the index's images in its order.</summary>
    public IReadOnlyList<IImage> Images => Index?.Images ?? [Image!];

    /// <summary>
    /// The image for <paramref name="platform"/>: the single image when it matches (or when its config names no
    /// platform), or the index's image for it.
    /// </summary>
    /// <exception cref="PlatformNotFoundException">No image of this content is for the platform.</exception>
    public IImage SelectImage(Platform platform, string imageName)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (Image is not null)
        {
            return Image;
        }

        var descriptor = PlatformMatching.SelectManifestOrThrow(Index!.Index.Manifests, platform, imageName);
        return Index.Images.First(i => i.ManifestDescriptor.Digest == descriptor.Digest);
    }
}
