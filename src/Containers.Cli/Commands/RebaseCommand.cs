using System.CommandLine;
using Containers.Build.SupplyChain;
using Containers.Cli.Images;
using Containers.Oci.Transports;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>rebase IMAGE --base NEWBASE [--tag T]...</c>: moves an image published by Containers.Sdk onto a newer base without
/// rebuilding it, with Containers.Build's <see cref="ImageRebaser"/> (docs/rebase.md); prints the new digest.
/// </summary>
public static class RebaseCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "The image to rebase, in a registry (127.0.0.1:5000/app:1.0 or …@sha256:…)." };
        var newBase = new Option<string>("--base") { Description = "The new base: the same repository the image was built on, at a newer tag or digest.", Required = true, HelpName = "NEWBASE" };
        var tags = new Option<string[]>("--tag", "-t") { Description = "A tag to write the rebased image under (repeatable; default: IMAGE's tag).", HelpName = "TAG" };
        var command = new Command("rebase", "Moves a published image onto a newer base image without rebuilding it: the app layers stay, only a new config and manifest are pushed.") { image, newBase, tags };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var imageText = parseResult.GetValue(image)!;
            var imageLocation = RegistryOnly("IMAGE", imageText);
            var baseLocation = RegistryOnly("--base", parseResult.GetValue(newBase)!);
            var progress = TransferProgressPrinter.ForStandardError();
            using var client = ImageLocations.CreateClient(baseLocation, imageLocation, progress);
            using var rebaser = new ImageRebaser(client.Options, new Progress<Build.Publishing.PublishProgress>(p => console.Log(p.Message)));
            ImageRebaseResult result;
            try
            {
                result = await ImageLocations.RegistryCallAsync(() => rebaser.RebaseAsync(
                    new ImageRebaseRequest { Image = imageLocation.RegistryReference!, NewBase = baseLocation.RegistryReference!, Tags = parseResult.GetValue(tags) ?? [] },
                    cancellationToken)).ConfigureAwait(false);
            }
            catch (ImageRebaseException ex)
            {
                throw new CliException(CliErrorCodes.RebaseRefused, ex.Message.ReplaceLineEndings(" "), CliExitCodes.Failed, ex);
            }

            console.Error.WriteLine(result.AlreadyOnNewBase
                ? $"{imageText} already sits on {baseLocation}; nothing pushed."
                : $"Rebased {imageText} onto {baseLocation}: {string.Join(", ", result.Names)}; {ImageLocations.FormatSize(result.BytesUploaded)} uploaded.");
            console.Out.WriteLine(result.Digest);
            return CliExitCodes.Success;
        });
        return command;
    }

    private static ImageLocation RegistryOnly(string argument, string text)
    {
        var location = ImageLocations.ParseSource(argument, text);
        return location.Transport == ImageTransport.Registry
            ? location
            : throw CliException.Usage(CliErrorCodes.BadImage, $"{argument} '{text}' is not in a registry: rebase reads and pushes registry images (copy a layout or archive into a registry first with dotnet container copy).");
    }
}
