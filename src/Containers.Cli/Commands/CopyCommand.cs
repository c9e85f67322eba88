using System.CommandLine;
using Containers.Cli.Images;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>copy SRC DST [--all] [--platform os/arch]</c>: copies an image between registries, OCI layouts and archives the way
/// <c>skopeo copy</c> does, keeping the manifest digest; prints the digest written.
/// </summary>
public static class CopyCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var source = new Argument<string>("SRC") { Description = $"The image to copy: {ImageLocations.Forms}." };
        var destination = new Argument<string>("DST") { Description = "Where to write it, in the same forms (a docker archive needs NAME:TAG)." };
        var all = new Option<bool>("--all", "-a") { Description = "Copies a multi-platform image whole (the index and every platform) and the referrers (SBOMs, signatures) of each manifest, between registries and layouts." };
        var platform = new Option<string?>("--platform") { Description = "Copies this platform's image out of an index (default: this machine's, linux/amd64 or linux/arm64).", HelpName = "os/arch[/variant]" };
        var command = new Command("copy", "Copies an image between registries, OCI layouts and archives, keeping its manifest digest; prints the digest.")
        {
            source, destination, all, platform,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var from = ImageLocations.ParseSource("SRC", parseResult.GetValue(source)!);
            var to = ImageLocations.ParseDestination("DST", parseResult.GetValue(destination)!);
            var copyAll = parseResult.GetValue(all);
            if (copyAll && parseResult.GetValue(platform) is not null)
            {
                throw CliException.Usage(CliErrorCodes.CommandLine, "--all copies every platform; --platform picks one. Give one of them.");
            }

            var selected = ImageLocations.ParsePlatform(parseResult.GetValue(platform));
            var progress = TransferProgressPrinter.ForStandardError();
            using var client = ImageLocations.CreateClient(from, to, progress);
            var result = await ImageLocations.RegistryCallAsync(() => ImageCopy.CopyAsync(client, from, to, copyAll ? null : selected, copyAll, console.Log, cancellationToken)).ConfigureAwait(false);
            console.Out.WriteLine(result.Digest);
            if (result.Referrers > 0)
            {
                console.Error.WriteLine($"Copied {result.Referrers} referrer(s) with it.");
            }

            return CliExitCodes.Success;
        });
        return command;
    }
}
