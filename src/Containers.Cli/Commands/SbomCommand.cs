using System.CommandLine;
using Containers.Build.SupplyChain;
using Containers.Cli.Images;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>sbom IMAGE [--format spdx|cyclonedx]</c>: prints the SBOM attached to an image as an OCI referrer (publishing
/// attaches one, docs/sbom.md), found through the registry's referrers API or its tag fallback, or a layout's index.json.
/// </summary>
public static class SbomCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "The image: a registry reference or oci:DIRECTORY[:TAG] (archives hold no referrers)." };
        var format = new Option<string?>("--format", "-f") { Description = "spdx or cyclonedx (default: whichever is attached, SPDX first)." };
        format.AcceptOnlyFromAmong("spdx", "cyclonedx");
        var platform = new Option<string?>("--platform") { Description = "The platform of a multi-platform image whose SBOM to print (default: this machine's).", HelpName = "os/arch[/variant]" };
        var command = new Command("sbom", "Prints the SBOM (SPDX or CycloneDX JSON) attached to an image as a referrer.") { image, format, platform };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var text = parseResult.GetValue(image)!;
            var location = ImageLocations.ParseSource("IMAGE", text);
            if (!ImageCopy.HoldsReferrers(location))
            {
                throw CliException.Usage(CliErrorCodes.NoSbom, $"IMAGE '{text}' is an archive, which holds no referrers: publishing writes the SBOM beside an archive (*{SbomFormats.FileExtension(SbomFormat.Spdx)} or *{SbomFormats.FileExtension(SbomFormat.CycloneDx)}); read that file.");
            }

            string[] mediaTypes = parseResult.GetValue(format) switch
            {
                "spdx" => [SbomFormats.SpdxMediaType],
                "cyclonedx" => [SbomFormats.CycloneDxMediaType],
                _ => [SbomFormats.SpdxMediaType, SbomFormats.CycloneDxMediaType],
            };
            var selected = ImageLocations.ParsePlatform(parseResult.GetValue(platform));
            using var client = ImageLocations.CreateClient(location, null, null);
            var sbom = await ImageLocations.RegistryCallAsync(async () =>
            {
                var content = await location.CreateSource(client).ReadAsync(cancellationToken).ConfigureAwait(false);
                // Publishing attaches the SBOM to each platform's manifest; an index's own referrers are looked at too.
                var subjects = new[] { content.SelectImage(selected, text).ManifestDescriptor.Digest, content.Descriptor.Digest }.Distinct();
                foreach (var subject in subjects)
                {
                    var referrers = await ImageCopy.ListReferrersAsync(client, location, subject, cancellationToken).ConfigureAwait(false);
                    foreach (var mediaType in mediaTypes)
                    {
                        if (referrers.FirstOrDefault(r => r.ArtifactType == mediaType) is { } found)
                        {
                            return await ImageCopy.ReadReferrerAsync(client, location, found, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                return null;
            }).ConfigureAwait(false);
            if (sbom is null)
            {
                throw new CliException(CliErrorCodes.NoSbom, $"IMAGE '{text}' has no {string.Join(" or ", mediaTypes)} SBOM attached as a referrer. Publishing attaches one unless ContainerGenerateSbom is false (docs/sbom.md); 'dotnet container inspect {text}' lists what is attached.", CliExitCodes.Failed);
            }

            console.Log($"SBOM {sbom.ManifestDescriptor.Digest} ({sbom.ArtifactType}) of {sbom.Subject.Digest}.");
            using var stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(sbom.Content, cancellationToken).ConfigureAwait(false);
            return CliExitCodes.Success;
        });
        return command;
    }
}
