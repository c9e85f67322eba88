using System.CommandLine;
using Containers.Cli.Images;
using Containers.Host.Images;
using Containers.Oci.Transports;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>pull IMAGE [--platform os/arch]</c>: pulls a registry image into the host's image cache, where <c>run</c> finds it
/// without a registry request (by digest) or with one HEAD (by tag); prints the image's digest.
/// </summary>
public static class PullCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "The registry reference (127.0.0.1:5000/app:1.0, docker://REFERENCE)." };
        var platform = new Option<string?>("--platform") { Description = "The platform to pull out of a multi-platform image (default: this machine's).", HelpName = "os/arch[/variant]" };
        var command = new Command("pull", "Pulls an image from a registry into the host's image cache, for run to start without the registry.") { image, platform };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var text = parseResult.GetValue(image)!;
            var location = ImageLocations.ParseSource("IMAGE", text);
            if (location.Transport != ImageTransport.Registry)
            {
                throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{text}' is not in a registry: pull fills the host's cache from registries; run reads layouts and archives directly (or copy one into a registry).");
            }

            var selected = ImageLocations.ParsePlatform(parseResult.GetValue(platform));
            var cache = new HostImageCache();
            var progress = TransferProgressPrinter.ForStandardError();
            var pulled = await ImageLocations.RegistryCallAsync(() => cache.PullAsync(
                location.RegistryReference!,
                selected,
                new Oci.Registry.RegistryClientOptions { Progress = progress },
                line => console.Error.WriteLine(line),
                cancellationToken)).ConfigureAwait(false);
            console.Out.WriteLine(pulled.ManifestDescriptor.Digest);
            return CliExitCodes.Success;
        });
        return command;
    }
}
