using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;

namespace Containers.Oci.Stores;

/// <summary>A blob of an image to store: either small bytes held in memory (manifest, config, index) or a layer to stream.</summary>
internal sealed record ImageBlob(Descriptor Descriptor, string What, ReadOnlyMemory<byte> Content, ILayer? Layer)
{
    public async Task<Stream> OpenVerifiedAsync(CancellationToken cancellationToken)
    {
        var source = Layer is null
            ? new MemoryStream(Content.ToArray(), writable: false)
            : await Layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false);
        return new VerifyingReadStream(source, Descriptor.Digest, Descriptor.Size, What);
    }
}

/// <summary>Lists the blobs an image or index consists of, each once, referenced content before what refers to it.</summary>
internal static class ImageBlobs
{
    public static IReadOnlyList<ImageBlob> Of(IImage image)
    {
        var blobs = new List<ImageBlob>();
        Add(blobs, image);
        return Deduplicate(blobs);
    }

    public static IReadOnlyList<ImageBlob> Of(IImageIndex index)
    {
        var blobs = new List<ImageBlob>();
        foreach (var image in index.Images)
        {
            Add(blobs, image);
        }

        blobs.Add(new ImageBlob(index.IndexDescriptor, $"index {index.IndexDescriptor.Digest}", index.IndexBytes, null));
        return Deduplicate(blobs);
    }

    private static void Add(List<ImageBlob> blobs, IImage image)
    {
        var manifest = image.Manifest;
        if (manifest.Layers.Count != image.Layers.Count)
        {
            throw new OciException($"Image {image.ManifestDescriptor.Digest} lists {manifest.Layers.Count} layers in its manifest but provides {image.Layers.Count}; it cannot be stored.");
        }

        for (var i = 0; i < image.Layers.Count; i++)
        {
            var descriptor = manifest.Layers[i];
            blobs.Add(new ImageBlob(descriptor, $"layer {descriptor.Digest} of image {image.ManifestDescriptor.Digest}", default, image.Layers[i]));
        }

        blobs.Add(new ImageBlob(manifest.Config, $"config {manifest.Config.Digest}", image.ConfigBytes, null));
        blobs.Add(new ImageBlob(image.ManifestDescriptor, $"manifest {image.ManifestDescriptor.Digest}", image.ManifestBytes, null));
    }

    private static List<ImageBlob> Deduplicate(List<ImageBlob> blobs)
    {
        var seen = new HashSet<Digest>();
        return blobs.Where(b => seen.Add(b.Descriptor.Digest)).ToList();
    }
}
