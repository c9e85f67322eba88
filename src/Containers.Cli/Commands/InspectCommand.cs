using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Containers.Cli.Images;
using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Transports;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>inspect IMAGE [--format json] [--raw]</c>: an image's config, layers, annotations, the platforms of an index and its
/// referrers. The JSON has skopeo inspect's fields (Name, Digest, RepoTags, Created, Architecture, Os, Layers, Env,
/// Labels …) with the same values, and more (Config, Annotations, Manifests, Referrers).
/// </summary>
public static class InspectCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = $"The image: {ImageLocations.Forms}." };
        var format = new Option<string>("--format", "-f") { Description = "text (default) or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var raw = new Option<bool>("--raw") { Description = "Prints the manifest (or index) exactly as stored, as skopeo inspect --raw does." };
        var platform = new Option<string?>("--platform") { Description = "The platform whose image an index's fields describe (default: this machine's).", HelpName = "os/arch[/variant]" };
        var command = new Command("inspect", "Shows an image: digest, platform(s), config, layers, annotations and referrers (SBOMs, signatures).") { image, format, raw, platform };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var console = CliConsole.From(parseResult);
            var location = ImageLocations.ParseSource("IMAGE", parseResult.GetValue(image)!);
            var selected = ImageLocations.ParsePlatform(parseResult.GetValue(platform));
            using var client = ImageLocations.CreateClient(location, null, null);
            var content = await ImageLocations.RegistryCallAsync(() => location.CreateSource(client).ReadAsync(cancellationToken)).ConfigureAwait(false);
            if (parseResult.GetValue(raw))
            {
                using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(content.ManifestBytes, cancellationToken).ConfigureAwait(false);
                return CliExitCodes.Success;
            }

            var selectedImage = await ImageLocations.RegistryCallAsync(() => Task.FromResult(content.SelectImage(selected, location.ToString()))).ConfigureAwait(false);
            var referrers = new List<Descriptor>();
            if (ImageCopy.HoldsReferrers(location))
            {
                referrers.AddRange(await ImageLocations.RegistryCallAsync(() => ImageCopy.ListReferrersAsync(client, location, content.Descriptor.Digest, cancellationToken)).ConfigureAwait(false));
                if (selectedImage.ManifestDescriptor.Digest != content.Descriptor.Digest)
                {
                    referrers.AddRange(await ImageLocations.RegistryCallAsync(() => ImageCopy.ListReferrersAsync(client, location, selectedImage.ManifestDescriptor.Digest, cancellationToken)).ConfigureAwait(false));
                }
            }

            IReadOnlyList<string> repoTags = location.RegistryReference is { } reference
                ? await ImageLocations.RegistryCallAsync(() => client.ListTagsAsync(reference.Registry, reference.Repository, cancellationToken)).ConfigureAwait(false)
                : [];
            if (parseResult.GetValue(format) == "json")
            {
                console.Out.WriteLine(WriteJson(location, content, selectedImage, repoTags, referrers));
            }
            else
            {
                WriteText(console.Out, location, content, selectedImage, referrers);
            }

            return CliExitCodes.Success;
        });
        return command;
    }

    private static string WriteJson(ImageLocation location, ImageContent content, IImage image, IReadOnlyList<string> repoTags, IReadOnlyList<Descriptor> referrers)
    {
        using var configDocument = JsonDocument.Parse(image.ConfigBytes);
        var config = configDocument.RootElement;
        var containerConfig = config.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();

            // skopeo inspect's fields, with its names and values.
            if (location.RegistryReference is { } reference)
            {
                json.WriteString("Name", $"{reference.Registry}/{reference.Repository}");
            }

            json.WriteString("Digest", content.Descriptor.Digest.ToString());
            json.WriteStartArray("RepoTags");
            foreach (var tag in repoTags)
            {
                json.WriteStringValue(tag);
            }

            json.WriteEndArray();
            WriteProperty(json, "Created", config, "created");
            json.WriteString("DockerVersion", config.TryGetProperty("docker_version", out var dockerVersion) ? dockerVersion.GetString() : "");
            WriteProperty(json, "Labels", containerConfig, "Labels");
            json.WriteString("Architecture", image.Config.Architecture);
            json.WriteString("Os", image.Config.OS);
            if (image.Config.Variant is { } variant)
            {
                json.WriteString("Variant", variant);
            }

            json.WriteStartArray("Layers");
            foreach (var layer in image.Manifest.Layers)
            {
                json.WriteStringValue(layer.Digest.ToString());
            }

            json.WriteEndArray();
            WriteProperty(json, "Env", containerConfig, "Env");

            // Beyond skopeo: what the manifest, config and referrers say.
            json.WriteString("MediaType", content.Descriptor.MediaType);
            json.WriteString("ImageDigest", image.ManifestDescriptor.Digest.ToString());
            json.WritePropertyName("Annotations");
            WriteAnnotations(json, content.Index?.Index.Annotations ?? image.Manifest.Annotations);
            json.WriteStartArray("LayersData");
            foreach (var layer in image.Manifest.Layers)
            {
                json.WriteStartObject();
                json.WriteString("MIMEType", layer.MediaType);
                json.WriteString("Digest", layer.Digest.ToString());
                json.WriteNumber("Size", layer.Size);
                json.WritePropertyName("Annotations");
                WriteAnnotations(json, layer.Annotations);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (content.Index is { } index)
            {
                json.WriteStartArray("Manifests");
                foreach (var manifest in index.Index.Manifests)
                {
                    WriteDescriptor(json, manifest);
                }

                json.WriteEndArray();
            }

            json.WriteStartArray("Referrers");
            foreach (var referrer in referrers)
            {
                WriteDescriptor(json, referrer);
            }

            json.WriteEndArray();
            json.WritePropertyName("Config");
            config.WriteTo(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteProperty(Utf8JsonWriter json, string name, JsonElement parent, string property)
    {
        json.WritePropertyName(name);
        if (parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(property, out var value))
        {
            value.WriteTo(json);
        }
        else
        {
            json.WriteNullValue();
        }
    }

    private static void WriteAnnotations(Utf8JsonWriter json, IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null)
        {
            json.WriteNullValue();
            return;
        }

        json.WriteStartObject();
        foreach (var (key, value) in annotations)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }

    private static void WriteDescriptor(Utf8JsonWriter json, Descriptor descriptor)
    {
        json.WriteStartObject();
        json.WriteString("MediaType", descriptor.MediaType);
        json.WriteString("Digest", descriptor.Digest.ToString());
        json.WriteNumber("Size", descriptor.Size);
        if (descriptor.ArtifactType is { } artifactType)
        {
            json.WriteString("ArtifactType", artifactType);
        }

        if (descriptor.Platform is { } platform)
        {
            json.WriteString("Platform", platform.ToString());
        }

        json.WritePropertyName("Annotations");
        WriteAnnotations(json, descriptor.Annotations);
        json.WriteEndObject();
    }

    private static void WriteText(TextWriter output, ImageLocation location, ImageContent content, IImage image, List<Descriptor> referrers)
    {
        var config = image.Config;
        output.WriteLine($"Image:        {location}");
        output.WriteLine($"Digest:       {content.Descriptor.Digest}");
        output.WriteLine($"Media type:   {content.Descriptor.MediaType}");
        if (content.Index is { } index)
        {
            output.WriteLine("Platforms:");
            foreach (var manifest in index.Index.Manifests)
            {
                output.WriteLine($"  {manifest.Platform?.ToString() ?? "(none)",-20} {manifest.Digest}{(manifest.Digest == image.ManifestDescriptor.Digest ? "  (shown below)" : "")}");
            }

            output.WriteLine($"Image digest: {image.ManifestDescriptor.Digest}");
        }

        output.WriteLine($"Platform:     {config.Platform}");
        output.WriteLine($"Created:      {config.Created?.ToString("u", CultureInfo.InvariantCulture) ?? "(not set)"}");
        var run = config.Config;
        WriteList(output, "Entrypoint:", run?.Entrypoint);
        WriteList(output, "Cmd:", run?.Cmd);
        output.WriteLine($"WorkingDir:   {run?.WorkingDir ?? ""}");
        output.WriteLine($"User:         {run?.User ?? ""}");
        output.WriteLine($"Ports:        {string.Join(", ", run?.ExposedPorts?.Keys ?? [])}");
        WriteMap(output, "Env:", run?.Env);
        WriteMap(output, "Labels:", run?.Labels?.Select(p => $"{p.Key}={p.Value}"));
        WriteMap(output, "Annotations:", (content.Index?.Index.Annotations ?? image.Manifest.Annotations)?.Select(p => $"{p.Key}={p.Value}"));
        output.WriteLine($"Layers:       {image.Manifest.Layers.Count}, {ImageLocations.FormatSize(image.Manifest.Layers.Sum(l => l.Size))}");
        foreach (var layer in image.Manifest.Layers)
        {
            output.WriteLine($"  {layer.Digest}  {ImageLocations.FormatSize(layer.Size),10}  {layer.MediaType}");
        }

        output.WriteLine(referrers.Count == 0 ? "Referrers:    none" : "Referrers:");
        foreach (var referrer in referrers)
        {
            output.WriteLine($"  {referrer.Digest}  {referrer.ArtifactType ?? referrer.MediaType}");
        }
    }

    private static void WriteList(TextWriter output, string heading, IReadOnlyList<string>? values) =>
        output.WriteLine($"{heading,-13} {(values is null ? "" : "[" + string.Join(", ", values.Select(v => "\"" + v + "\"")) + "]")}");

    private static void WriteMap(TextWriter output, string heading, IEnumerable<string>? entries)
    {
        var list = entries?.ToList() ?? [];
        output.WriteLine(list.Count == 0 ? $"{heading,-13} none" : heading);
        foreach (var entry in list)
        {
            output.WriteLine($"  {entry}");
        }
    }
}
