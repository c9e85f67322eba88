using System.CommandLine;
using Containers.Cli.Images;
using Containers.Host.Images;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>prune [--all] [--dry-run]</c>: frees the runtime host's caches of what no container uses — the unpacked root
/// filesystems, and with <c>--all</c> the pulled images — and says how much.
/// </summary>
public static class PruneCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Also removes the pulled images no container uses (the next run pulls them again)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Lists what would be removed and how much it takes; removes nothing." };
        var command = new Command("prune", "Frees the host's caches: root filesystems unpacked from images (and pulled images with --all) that no container uses.") { all, dryRun };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var cache = new HostImageCache();
            var result = await cache.PruneAsync(parseResult.GetValue(all), parseResult.GetValue(dryRun), cancellationToken).ConfigureAwait(false);
            var verb = result.DryRun ? "Would remove" : "Removed";
            foreach (var rootfs in result.Unpacked)
            {
                console.Out.WriteLine($"{verb} unpacked {rootfs.ChainId} ({ImageLocations.FormatSize(rootfs.Size)})");
            }

            foreach (var image in result.Images)
            {
                console.Out.WriteLine($"{verb} image {(image.Names.Count > 0 ? image.Names[0] : image.Digest.ToString())} {image.Digest.ToString()[..19]} ({ImageLocations.FormatSize(image.Size)})");
            }

            console.Out.WriteLine($"{(result.DryRun ? "Would free" : "Freed")} {ImageLocations.FormatSize(result.TotalBytes)}: {result.Unpacked.Count} unpacked root filesystem(s), {result.Images.Count} image(s).");
            return CliExitCodes.Success;
        });
        return command;
    }
}
