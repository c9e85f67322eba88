using Containers.Host.Images;
using Containers.Oci;
using Containers.Oci.Transports;

namespace Containers.Cli.Running;

/// <summary>The IMAGE argument of <c>run</c>: the forms <see cref="ContainerImageSource.Parse"/> knows.</summary>
public static class ImageArgument
{
    /// <summary>What the forms are, for messages and help.</summary>
    public const string Forms = "oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, docker://REFERENCE, a registry reference (127.0.0.1:5000/app:1.0) or a project directory (published first)";

    /// <summary>The image <paramref name="image"/> names.</summary>
    /// <exception cref="CliException">It is none of the forms, or a file or directory it names does not exist.</exception>
    public static ContainerImageSource Resolve(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Directory.Exists(image) && !image.Contains(':', StringComparison.Ordinal))
        {
            throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{image}' is a directory without a project; expected {Forms}. For an OCI layout write oci:{image}.");
        }

        // The file or directory a file form names must exist: "no such file" says more than a parse error.
        if (ImageLocation.TryParse(image, out var location, out _) && location.Path is { } path && !File.Exists(path) && !Directory.Exists(path))
        {
            throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{image}' names '{path}', which does not exist. Give the path of the OCI layout directory or archive file (relative to {Environment.CurrentDirectory}).");
        }

        try
        {
            return ContainerImageSource.Parse(image);
        }
        catch (OciException ex)
        {
            throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{image}' is none of the forms {Forms}: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }
}
