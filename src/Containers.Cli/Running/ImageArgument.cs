using Containers.Cli.Images;
using Containers.Host.Images;
using Containers.Oci.Transports;

namespace Containers.Cli.Running;

/// <summary>
/// The IMAGE argument of <c>run</c>: an image location the image commands read (<see cref="ImageLocations.ParseSource"/>,
/// with its checks and messages), or a project directory, which <c>run</c> publishes first.
/// </summary>
public static class ImageArgument
{
    /// <summary>What the forms are, for messages and help.</summary>
    public const string Forms = ImageLocations.Forms + " or a project directory (published first)";

    /// <summary>The image <paramref name="image"/> names.</summary>
    /// <exception cref="CliException">It is none of the forms, or a file or directory it names does not exist.</exception>
    public static ContainerImageSource Resolve(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Directory.Exists(image) && !image.Contains(':', StringComparison.Ordinal))
        {
            throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{image}' is a directory without a project; expected {Forms}. For an OCI layout write oci:{image}.");
        }

        return ContainerImageSource.FromLocation(ImageLocations.ParseSource("IMAGE", image));
    }

    /// <summary>
    /// <paramref name="image"/> with the path of a layout or archive made absolute against this directory: a detached
    /// container's supervisor runs in <c>/</c>, where a relative path means something else.
    /// </summary>
    /// <exception cref="CliException">It is none of the forms, or a file or directory it names does not exist.</exception>
    public static string WithAbsolutePath(string image)
    {
        var location = ImageLocations.ParseSource("IMAGE", image);
        return location.Path is { } path && !System.IO.Path.IsPathRooted(path)
            ? location.Transport switch
            {
                ImageTransport.OciLayout => ImageLocation.FromOciLayout(System.IO.Path.GetFullPath(path), location.Reference).ToString(),
                ImageTransport.OciArchive => ImageLocation.FromOciArchive(System.IO.Path.GetFullPath(path), location.Reference).ToString(),
                ImageTransport.DockerArchive => ImageLocation.FromDockerArchive(System.IO.Path.GetFullPath(path), location.Reference).ToString(),
                _ => image,
            }
            : image;
    }
}
