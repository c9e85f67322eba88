using System.CommandLine;
using System.Text;
using System.Text.Json;
using Containers.Cli.Images;
using Containers.Host.Images;

namespace Containers.Cli.Commands;

/// <summary><c>images [--format json]</c>: what the host's image cache and unpacked-root-filesystem cache hold, with sizes.</summary>
public static class ImagesCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var format = new Option<string>("--format", "-f") { Description = "text (default) or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("images", "Lists the images pulled into the host's cache and the root filesystems unpacked from images, with their sizes.") { format };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var cache = new HostImageCache();
            var images = await cache.ListImagesAsync(cancellationToken).ConfigureAwait(false);
            var unpacked = cache.ListUnpacked();
            if (parseResult.GetValue(format) == "json")
            {
                console.Out.WriteLine(ToJson(cache, images, unpacked));
                return CliExitCodes.Success;
            }

            List<string[]> rows = [["IMAGE", "DIGEST", "PLATFORM", "SIZE"]];
            rows.AddRange(images.Select(i => new[] { i.Names.Count > 0 ? i.Names[0] : "(unnamed)", i.Digest.ToString()[..19], i.Platform.ToString(), ImageLocations.FormatSize(i.Size) }));
            WriteTable(console.Out, rows);
            console.Out.WriteLine($"{images.Count} image(s), {ImageLocations.FormatSize(images.Sum(i => i.Size))} in {cache.ImagesDirectory}");
            console.Out.WriteLine();
            rows = [["UNPACKED ROOT FILESYSTEM", "LAST USED", "SIZE"]];
            rows.AddRange(unpacked.Select(r => new[] { r.ChainId, r.LastUsed.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), ImageLocations.FormatSize(r.Size) }));
            WriteTable(console.Out, rows);
            console.Out.WriteLine($"{unpacked.Count} root filesystem(s), {ImageLocations.FormatSize(unpacked.Sum(r => r.Size))} in {cache.RootfsDirectory}");
            return CliExitCodes.Success;
        });
        return command;
    }

    private static void WriteTable(TextWriter output, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("   ", row.Select((cell, column) => column == row.Length - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd());
        }
    }

    private static string ToJson(HostImageCache cache, IReadOnlyList<CachedImage> images, IReadOnlyList<UnpackedRootfs> unpacked)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("CacheDirectory", cache.CacheDirectory);
            json.WriteStartArray("Images");
            foreach (var image in images)
            {
                json.WriteStartObject();
                json.WriteStartArray("Names");
                foreach (var name in image.Names)
                {
                    json.WriteStringValue(name);
                }

                json.WriteEndArray();
                json.WriteString("Digest", image.Digest.ToString());
                json.WriteString("Platform", image.Platform.ToString());
                json.WriteNumber("Size", image.Size);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("Unpacked");
            foreach (var rootfs in unpacked)
            {
                json.WriteStartObject();
                json.WriteString("ChainId", rootfs.ChainId);
                json.WriteString("Path", rootfs.Path);
                json.WriteNumber("Size", rootfs.Size);
                json.WriteString("LastUsed", rootfs.LastUsed);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
