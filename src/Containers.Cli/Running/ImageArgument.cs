using Containers.Host.Images;
using Containers.Oci;

namespace Containers.Cli.Running;

/// <summary>The IMAGE argument of <c>run</c>: the forms <see cref="ContainerImageSource.Parse"/> knows.</summary>
public static class ImageArgument
{
    /// <summary>What the forms are, for messages and help.</summary>
    public const string Forms = "oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, docker://REFERENCE or a registry reference (127.0.0.1:5000/app:1.0)";

    /// <summary>The image <paramref name="image"/> names.</summary>
    /// <exception cref="CliException">It is none of the forms, or a file or directory it names does not exist.</exception>
    public static ContainerImageSource Resolve(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Directory.Exists(image) && !image.Contains(':', StringComparison.Ordinal))
        {
            throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{image}' is a directory; expected {Forms}. For an OCI layout write oci:{image}.");
        }

        var path = image switch
        {
            _ when image.StartsWith("oci:", StringComparison.Ordinal) => image["oci:".Length..].Split(':')[0],
            _ when image.StartsWith("oci-archive:", StringComparison.Ordinal) => image["oci-archive:".Length..],
            _ when image.StartsWith("docker-archive:", StringComparison.Ordinal) => image["docker-archive:".Length..],
            _ => null,
        };
        if (path is not null && !File.Exists(path) && !Directory.Exists(path))
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
