using Containers.Oci.Descriptors;
using Containers.Oci.Json;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Images;

/// <summary>
/// An image composed from a config and layers. The manifest and config bytes are computed once, on
/// first use, and never change: transformations return new images.
/// </summary>
/// <example>
/// Build an app image on a base from a registry and push it — no MSBuild, no daemon:
/// <code>
/// using var registry = new RegistryClient();
/// IImage baseImage = await new RegistryImageSource(registry, ImageReference.Parse("127.0.0.1:5000/dotnet/aspnet:10.0"))
///     .ReadImageAsync(Platform.LinuxAmd64);
/// StoredLayer appLayer = await LayerWriter.WriteToDirectoryAsync(
///     LayerPlan.Empty.AddDirectoryTree("bin/Release/net10.0/publish", "/app"), "/tmp/blobs");
/// Image app = Image.From(baseImage)
///     .AppendLayers(appLayer)
///     .WithConfig(c => c with { Config = c.Config! with { Entrypoint = ["dotnet", "/app/MyApp.dll"], WorkingDir = "/app" } });
/// await ImageLocation.Parse("127.0.0.1:5000/myapp:1.0").CreateTarget(registry).WriteAsync(ImageContent.FromImage(app));
/// </code>
/// </example>
public sealed class Image : IImage
{
    private readonly Lazy<(byte[] Manifest, byte[] Config, ImageManifest Parsed, Descriptor Descriptor)> _computed;

    private Image(ImageConfig config, IReadOnlyList<ILayer> layers, ManifestFormat format, IReadOnlyDictionary<string, string>? annotations, Platform? platform)
    {
        Config = config;
        Layers = layers;
        Format = format;
        _computed = new Lazy<(byte[], byte[], ImageManifest, Descriptor)>(() =>
        {
            var configBytes = OciJson.Serialize(config);
            var manifest = new ImageManifest
            {
                MediaType = MediaTypes.ManifestMediaType(format),
                Config = Descriptor.For(MediaTypes.ConfigMediaType(format), configBytes),
                Layers = layers.Select(l => l.Descriptor).ToArray(),
                Annotations = annotations is { Count: > 0 } ? annotations : null,
            };
            var manifestBytes = OciJson.Serialize(manifest);
            var descriptor = Descriptor.For(manifest.MediaType, manifestBytes) with { Platform = platform ?? config.Platform };
            return (manifestBytes, configBytes, manifest, descriptor);
        });
    }

    /// <summary>
    /// Composes an image. The config's rootfs.diff_ids are set from <paramref name="layers"/>, so callers
    /// cannot make the two disagree.
    /// </summary>
    public static Image Create(ImageConfig config, IReadOnlyList<ILayer> layers, ManifestFormat format = ManifestFormat.Oci, IReadOnlyDictionary<string, string>? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
        {
            if (format == ManifestFormat.Docker && MediaTypes.FormatOf(layer.Descriptor.MediaType) != ManifestFormat.Docker
                && MediaTypes.GetLayerCompression(layer.Descriptor.MediaType) != LayerCompression.Gzip)
            {
                throw new OciException($"Layer {layer.Descriptor.Digest} is {layer.Descriptor.MediaType}, which a Docker v2 manifest cannot carry; use the OCI format or gzip layers.");
            }
        }

        var fixedConfig = config with { RootFs = new RootFs { DiffIds = layers.Select(l => l.DiffId).ToArray() } };
        return new Image(fixedConfig, layers, format, annotations, platform: null);
    }

    /// <summary>An image with no layers and a minimal config for <paramref name="platform"/>.</summary>
    public static Image Empty(Platform platform, ManifestFormat format = ManifestFormat.Oci)
    {
        ArgumentNullException.ThrowIfNull(platform);
        return Create(
            new ImageConfig
            {
                OS = platform.OS,
                Architecture = platform.Architecture,
                Variant = platform.Variant,
                OSVersion = platform.OSVersion,
                Config = new ContainerConfig(),
                RootFs = new RootFs { DiffIds = [] },
            },
            [],
            format);
    }

    /// <summary>Copies any image into a composed one (same config and layers), to transform it.</summary>
    public static Image From(IImage image, ManifestFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image as Image is { } composed && (format is null || format == composed.Format)
            ? composed
            : Create(image.Config, image.Layers, format ?? MediaTypes.FormatOf(image.Manifest.MediaType ?? image.ManifestDescriptor.MediaType), image.Manifest.Annotations);
    }

    /// <summary>The media type family of the manifest.</summary>
    public ManifestFormat Format { get; }

    /// <inheritdoc/>
    public ImageConfig Config { get; }

    /// <inheritdoc/>
    public IReadOnlyList<ILayer> Layers { get; }

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> ManifestBytes => _computed.Value.Manifest;

    /// <inheritdoc/>
    public ImageManifest Manifest => _computed.Value.Parsed;

    /// <inheritdoc/>
    public Descriptor ManifestDescriptor => _computed.Value.Descriptor;

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> ConfigBytes => _computed.Value.Config;

    /// <summary>A new image with <paramref name="layers"/> on top and a history entry for each.</summary>
    public Image AppendLayers(IEnumerable<ILayer> layers, Func<ILayer, HistoryEntry>? history = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var added = layers.ToArray();
        var entries = new List<HistoryEntry>(Config.History ?? []);
        foreach (var layer in added)
        {
            entries.Add(history?.Invoke(layer) ?? new HistoryEntry { Created = Config.Created, CreatedBy = "Containers.Oci" });
        }

        return Create(Config with { History = entries }, [.. Layers, .. added], Format, Manifest.Annotations);
    }

    /// <summary>A new image with <paramref name="layers"/> on top.</summary>
    public Image AppendLayers(params ILayer[] layers) => AppendLayers((IEnumerable<ILayer>)layers);

    /// <summary>A new image whose config is <paramref name="change"/> applied to this one's. diff_ids stay tied to the layers.</summary>
    public Image WithConfig(Func<ImageConfig, ImageConfig> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Create(change(Config), Layers, Format, Manifest.Annotations);
    }

    /// <summary>A new image with these manifest annotations.</summary>
    public Image WithAnnotations(IReadOnlyDictionary<string, string>? annotations) => Create(Config, Layers, Format, annotations);

    /// <summary>A new image in another media type family.</summary>
    public Image WithFormat(ManifestFormat format) => Create(Config, Layers, format, Manifest.Annotations);
}
