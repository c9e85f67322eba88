using Containers.Oci.Platforms;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Transports;

namespace Containers.Cli.Images;

/// <summary>
/// The image arguments of the image commands (<c>inspect</c>, <c>pull</c>, <c>copy</c>, <c>tag</c>, <c>sbom</c>): where an
/// image is (<see cref="ImageLocation"/>), checked before any work so a wrong form or a missing file is a coded one-line error.
/// </summary>
public static class ImageLocations
{
    /// <summary>The forms, for messages and help.</summary>
    public const string Forms = "a registry reference (127.0.0.1:5000/app:1.0, docker://REFERENCE), oci:DIRECTORY[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]";

    /// <summary>An image to read: its form is right and the layout or archive it names exists.</summary>
    /// <param name="argument">The argument's name in messages (IMAGE, SRC).</param>
    /// <param name="text">The argument.</param>
    /// <exception cref="CliException">Not one of the forms, containerd (a destination only), or the file or directory is missing.</exception>
    public static ImageLocation ParseSource(string argument, string text)
    {
        var location = Parse(argument, text);
        switch (location.Transport)
        {
            case ImageTransport.Containerd:
                throw CliException.Usage(CliErrorCodes.BadImage, $"{argument} '{text}': images are imported into containerd, not read from it; read the image from where it came ({Forms}).");
            case ImageTransport.OciLayout when !File.Exists(Path.Combine(location.Path!, "oci-layout")):
                throw CliException.Usage(
                    CliErrorCodes.BadImage,
                    Directory.Exists(location.Path)
                        ? $"{argument} '{text}': '{location.Path}' is not an OCI image layout (no oci-layout file). Give the directory a publish or 'dotnet container copy' wrote."
                        : $"{argument} '{text}': the OCI layout directory '{location.Path}' does not exist (relative to {Environment.CurrentDirectory}).");
            case ImageTransport.OciArchive or ImageTransport.DockerArchive when !File.Exists(location.Path):
                throw CliException.Usage(CliErrorCodes.BadImage, $"{argument} '{text}': the archive file '{location.Path}' does not exist (relative to {Environment.CurrentDirectory}).");
        }

        return location;
    }

    /// <summary>An image to write: its form is right and names what the medium needs (a docker archive's NAME:TAG).</summary>
    /// <exception cref="CliException">Not one of the forms, or a docker archive without a name.</exception>
    public static ImageLocation ParseDestination(string argument, string text)
    {
        var location = Parse(argument, text);
        if (location.Transport == ImageTransport.DockerArchive && location.Reference is null)
        {
            throw CliException.Usage(CliErrorCodes.BadDestination, $"{argument} '{text}': a docker archive names its image (docker load tags it so); write docker-archive:{location.Path}:NAME:TAG, e.g. docker-archive:{location.Path}:app:1.0.");
        }

        return location;
    }

    /// <summary>The <c>--platform</c> value, or the host's platform when none was given.</summary>
    /// <exception cref="CliException">Not <c>os/arch[/variant]</c>.</exception>
    public static Platform ParsePlatform(string? text)
    {
        if (text is null)
        {
            return Host.Images.ContainerImageSource.HostPlatform;
        }

        return PlatformMatching.TryParse(text, out var platform, out var error)
            ? platform
            : throw CliException.Usage(CliErrorCodes.BadPlatform, $"--platform '{text}': {error}");
    }

    /// <summary>
    /// A registry client with the credential sources publishing reads (the SDK's pull variables for the source registry,
    /// its push variables for the destination, docker's and podman's config files and helpers) and, when
    /// <paramref name="progress"/> is given, per-blob progress.
    /// </summary>
    public static RegistryClient CreateClient(ImageLocation? source, ImageLocation? destination, IProgress<TransferProgress>? progress) =>
        new(new RegistryClientOptions
        {
            CredentialProvider = CreateCredentialProvider(source, destination),
            Progress = progress,

            // One PUT per blob up to 1 GiB, as skopeo sends each blob in one request: 16 MiB PATCH chunks (the library's
            // default above 64 MiB) cost a round trip and a buffer copy each and made copies of the aspnet base's 68 MB
            // layer slower (eng/bench/copy.sh). Above 1 GiB a failed request costs too much to start over.
            ChunkedUploadThreshold = 1L << 30,
        });

    /// <summary>
    /// Runs a registry operation; a registry that refuses (401/403) or lacks the image becomes a coded one-line error
    /// that names the credential sources looked at.
    /// </summary>
    public static async Task<T> RegistryCallAsync<T>(Func<Task<T>> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (RegistryAuthenticationException ex)
        {
            var provider = new ConfiguredCredentialProvider();
            var sources = ex.CredentialSource is { } used
                ? $"the credentials came from {used}"
                : $"credential sources looked at: the DOTNET_CONTAINER_*_REGISTRY_UNAME/PWORD variables, {provider.DockerConfigPath} (and its credential helpers), {string.Join(", ", provider.ContainersAuthPaths)}";
            throw new CliException(CliErrorCodes.RegistryDenied, $"{FirstSentence(ex.Message)} ({sources}). Log in with 'docker login {ex.Registry}' or 'podman login {ex.Registry}', or set the variables (docs/credentials.md).", CliExitCodes.Failed, ex);
        }
        catch (RegistryNotFoundException ex)
        {
            throw new CliException(CliErrorCodes.ImageNotFound, $"{ex.Registry}/{ex.Repository}:{ex.Reference} does not exist: {FirstSentence(ex.Message)} Check the repository and tag (skopeo list-tags docker://{ex.Registry}/{ex.Repository} lists the tags).", CliExitCodes.Failed, ex);
        }
        catch (PlatformNotFoundException ex)
        {
            throw new CliException(CliErrorCodes.BadPlatform, $"{ex.Message} Pass --platform with one of the platforms it lists.", CliExitCodes.Failed, ex);
        }
    }

    /// <summary>A human size: 512 B, 1.5 KiB, 23.4 MiB, 1.2 GiB.</summary>
    public static string FormatSize(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / 1024.0 / 1024:0.0} MiB",
        _ => $"{bytes / 1024.0 / 1024 / 1024:0.00} GiB",
    };

    private static ImageLocation Parse(string argument, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!ImageLocation.TryParse(text, out var location, out var error))
        {
            // A bare existing directory is the most likely mistake: a layout without its oci: prefix.
            var hint = Directory.Exists(text) ? $" For an OCI layout write oci:{text}." : "";
            throw CliException.Usage(CliErrorCodes.BadImage, $"{argument} {error}{hint}");
        }

        return location;
    }

    private static ConfiguredCredentialProvider CreateCredentialProvider(ImageLocation? source, ImageLocation? destination) =>
        new(Shared.DotnetCredentialVariables.Apply(new CredentialProviderOptions
        {
            SourceRegistry = source?.RegistryReference?.Registry,
            DestinationRegistry = destination?.RegistryReference?.Registry,
        }));

    private static string FirstSentence(string message) => message.ReplaceLineEndings(" ").Split(". ", 2)[0].TrimEnd('.') + ".";
}
