using System.CommandLine;
using Containers.Cli.Images;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Transports;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>tag SRC NEWNAME</c>: gives an image another name where it is — a tag in the same registry repository (the manifest
/// is put again, no blob moves), another repository of the same registry (blobs mounted, not uploaded), or another tag in
/// the same OCI layout (index.json only). Prints the digest.
/// </summary>
public static class TagCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var source = new Argument<string>("SRC") { Description = "The image: a registry reference or oci:DIRECTORY[:TAG]." };
        var name = new Argument<string>("NEWNAME") { Description = "The new name: a tag (1.0), a reference in the same registry (127.0.0.1:5000/other:1.0), or oci:DIRECTORY:TAG in the same layout." };
        var command = new Command("tag", "Names an image again in its registry or OCI layout, without copying its layers.") { source, name };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var sourceText = parseResult.GetValue(source)!;
            var from = ImageLocations.ParseSource("SRC", sourceText);
            var target = ResolveNewName(from, sourceText, parseResult.GetValue(name)!);
            using var client = ImageLocations.CreateClient(from, target, TransferProgressPrinter.ForStandardError());
            var digest = await ImageLocations.RegistryCallAsync(() => TagAsync(client, from, target, cancellationToken)).ConfigureAwait(false);
            console.Log($"Tagged {from} as {target}.");
            console.Out.WriteLine(digest);
            return CliExitCodes.Success;
        });
        return command;
    }

    private static async Task<string> TagAsync(RegistryClient client, ImageLocation from, ImageLocation target, CancellationToken cancellationToken)
    {
        if (from.Transport == ImageTransport.Registry && from.RegistryReference!.Repository == target.RegistryReference!.Repository)
        {
            // The same repository: the manifest's exact bytes under the new tag; the registry has every blob.
            var source = from.RegistryReference;
            var manifest = await client.GetManifestAsync(source.Registry, source.Repository, source.Reference, cancellationToken).ConfigureAwait(false);
            await client.PutManifestAsync(source.Registry, source.Repository, target.RegistryReference.Tag!, manifest.Bytes, manifest.Descriptor.MediaType, cancellationToken).ConfigureAwait(false);
            return manifest.Descriptor.Digest.ToString();
        }

        var content = await from.CreateSource(client).ReadAsync(cancellationToken).ConfigureAwait(false);
        IImageTarget writer = from.Transport == ImageTransport.Registry
            ? new RegistryImageTarget(client, target.RegistryReference!.Registry, target.RegistryReference.Repository, [target.RegistryReference.Tag!], [from.RegistryReference!.Repository])
            : target.CreateTarget(client);
        var written = await writer.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        return written.Digest.ToString();
    }

    private static ImageLocation ResolveNewName(ImageLocation from, string sourceText, string newName)
    {
        switch (from.Transport)
        {
            case ImageTransport.Registry:
                {
                    var source = from.RegistryReference!;
                    if (IsBareTag(newName))
                    {
                        return ImageLocation.FromRegistry(ImageReference.Parse($"{source.Registry}/{source.Repository}:{newName}"));
                    }

                    var target = ImageLocations.ParseDestination("NEWNAME", newName);
                    if (target.Transport != ImageTransport.Registry || !string.Equals(target.RegistryReference!.Registry, source.Registry, StringComparison.OrdinalIgnoreCase))
                    {
                        throw CliException.Usage(CliErrorCodes.BadDestination, $"NEWNAME '{newName}' is not in {source.Registry}, where '{sourceText}' is: tag names an image in its own registry. Copy it elsewhere with: dotnet container copy {sourceText} {newName}");
                    }

                    return target.RegistryReference.Tag is null
                        ? throw CliException.Usage(CliErrorCodes.BadDestination, $"NEWNAME '{newName}' has no tag; write {target.RegistryReference.Registry}/{target.RegistryReference.Repository}:TAG.")
                        : target;
                }

            case ImageTransport.OciLayout:
                {
                    if (IsBareTag(newName))
                    {
                        return ImageLocation.FromOciLayout(from.Path!, newName);
                    }

                    var target = ImageLocations.ParseDestination("NEWNAME", newName);
                    if (target.Transport != ImageTransport.OciLayout || Path.GetFullPath(target.Path!) != Path.GetFullPath(from.Path!) || target.Reference is null)
                    {
                        throw CliException.Usage(CliErrorCodes.BadDestination, $"NEWNAME '{newName}' is not a tag in the layout {from.Path}: write a tag (1.0) or oci:{from.Path}:TAG. Copy it elsewhere with: dotnet container copy {sourceText} {newName}");
                    }

                    return target;
                }

            default:
                throw CliException.Usage(CliErrorCodes.BadDestination, $"SRC '{sourceText}' is an archive, which is written whole: tag names images in registries and OCI layouts. Write a renamed archive with: dotnet container copy {sourceText} {ImageTransportPrefix(from)}FILE:NAME");
        }
    }

    private static bool IsBareTag(string text) => text.Length is > 0 and <= 128 && !text.Contains('/', StringComparison.Ordinal) && !text.Contains(':', StringComparison.Ordinal) && !text.Contains('@', StringComparison.Ordinal);

    private static string ImageTransportPrefix(ImageLocation location) => location.Transport == ImageTransport.DockerArchive ? "docker-archive:" : "oci-archive:";
}
