using Containers.Oci.Images;
using Containers.Oci.Platforms;

namespace Containers.Oci.Transports;

/// <summary>
/// Where an image is read from: a registry, an OCI layout, an OCI archive or a docker archive — one per medium, the way
/// go-containerregistry pairs remote, layout and tarball. <see cref="ImageLocation.Parse(string)"/> makes one from the
/// names skopeo and <c>dotnet container</c> use.
/// </summary>
public interface IImageSource
{
    /// <summary>Reads what the name points at, an image or a whole index; layers are opened on demand.</summary>
    Task<ImageContent> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the image for <paramref name="platform"/>, selecting it from an index without reading the others.</summary>
    /// <exception cref="PlatformNotFoundException">The index has no image for the platform.</exception>
    Task<IImage> ReadImageAsync(Platform platform, CancellationToken cancellationToken = default);

    /// <summary>Describes the source for messages (<c>oci:DIR:TAG</c>, a registry reference ...).</summary>
    string ToString();
}
