using System.Security.Cryptography;
using System.Text.Json;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Json;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.References;

namespace Containers.Oci.Stores;

/// <summary>An image to put in a docker archive, with the repository tags it is loaded as.</summary>
/// <param name="Image">The image.</param>
/// <param name="RepoTags">Tags such as <c>registry.example/app:1.0</c>; a name without a tag gets <c>:latest</c>. May be empty.</param>
public sealed record DockerArchiveImage(IImage Image, IReadOnlyList<string> RepoTags);

/// <summary>One image listed in a docker archive's manifest.json.</summary>
/// <param name="Config">The archive entry holding the image config.</param>
/// <param name="RepoTags">The tags the image is loaded as.</param>
/// <param name="Layers">The archive entries holding the layers (uncompressed tars), base first.</param>
public sealed record DockerArchiveEntry(string Config, IReadOnlyList<string> RepoTags, IReadOnlyList<string> Layers);

/// <summary>
/// Docker archives: the <c>docker save</c> format that <c>docker load</c> and <c>podman load</c> read —
/// <c>manifest.json</c>, each config as <c>&lt;config-hex&gt;.json</c> and each layer as an uncompressed tar
/// at <c>&lt;diff-id-hex&gt;/layer.tar</c> (the layout of docker save since 1.10, which every loader reads).
/// </summary>
/// <remarks>
/// Compressed layers are decompressed while streaming. Because a tar entry's size precedes its data, a
/// compressed layer is read twice: once to measure (and verify its diff id), once to copy — never buffered.
/// Output is deterministic: sorted entries, fixed time, root ownership. Layers shared by several images
/// are stored once. No legacy <c>repositories</c> file is written (loaders use manifest.json).
/// </remarks>
/// <example>
/// <code>
/// await DockerArchive.WriteToFileAsync("app.tar", image, ["registry.example/app:1.0"], cancellationToken: ct);
/// // podman load -i app.tar   |   docker load -i app.tar
/// </code>
/// </example>
public static class DockerArchive
{
    private const string FormatName = "docker archive";

    /// <summary>Writes one image tagged with <paramref name="repoTags"/>.</summary>
    public static Task WriteAsync(Stream destination, IImage image, IEnumerable<string> repoTags, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(repoTags);
        return WriteAsync(destination, [new DockerArchiveImage(image, repoTags.ToArray())], entryTime, cancellationToken);
    }

    /// <summary>Writes several images, each with its tags, into one archive.</summary>
    /// <param name="destination">Where the tar is written; need not be seekable.</param>
    /// <param name="images">The images, listed in manifest.json in this order.</param>
    /// <param name="entryTime">The modification time of every entry; the Unix epoch when null.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="DigestMismatchException">A layer's uncompressed content does not match its diff id.</exception>
    public static async Task WriteAsync(Stream destination, IReadOnlyList<DockerArchiveImage> images, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(images);
        var files = new SortedDictionary<string, Func<DeterministicTarWriter, Task>>(StringComparer.Ordinal);
        var manifest = new List<DockerArchiveEntry>();
        foreach (var (image, repoTags) in images)
        {
            ArgumentNullException.ThrowIfNull(image);
            if (image.Layers.Count != image.Config.RootFs.DiffIds.Count)
            {
                throw new OciException($"Image {image.ManifestDescriptor.Digest} has {image.Layers.Count} layers but its config lists {image.Config.RootFs.DiffIds.Count} diff ids; it cannot be saved.");
            }

            var configName = $"{image.Manifest.Config.Digest.Hex}.json";
            var configBytes = image.ConfigBytes;
            files.TryAdd(configName, w => w.WriteFileAsync(configName, configBytes, cancellationToken));
            var layerNames = new List<string>();
            foreach (var layer in image.Layers)
            {
                var layerName = $"{layer.DiffId.Hex}/layer.tar";
                layerNames.Add(layerName);
                files.TryAdd(layerName, w => WriteLayerAsync(w, layerName, layer, cancellationToken));
            }

            manifest.Add(new DockerArchiveEntry(configName, (repoTags ?? []).Select(NormalizeRepoTag).ToArray(), layerNames));
        }

        var manifestJson = SerializeManifest(manifest);
        files.Add("manifest.json", w => w.WriteFileAsync("manifest.json", manifestJson, cancellationToken));

        var writer = new DeterministicTarWriter(destination, entryTime ?? ArchiveFiles.DefaultEntryTime);
        await using (writer.ConfigureAwait(false))
        {
            foreach (var write in files.Values)
            {
                await write(writer).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes one image to <paramref name="path"/> through a temporary file renamed into place when complete.</summary>
    public static Task WriteToFileAsync(string path, IImage image, IEnumerable<string> repoTags, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(repoTags);
        return WriteToFileAsync(path, [new DockerArchiveImage(image, repoTags.ToArray())], entryTime, cancellationToken);
    }

    /// <summary>Writes several images to <paramref name="path"/> atomically.</summary>
    public static Task WriteToFileAsync(string path, IReadOnlyList<DockerArchiveImage> images, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default) =>
        ArchiveFiles.WriteAtomicallyAsync(path, FormatName, s => WriteAsync(s, images, entryTime, cancellationToken), cancellationToken);

    /// <summary>Opens a docker archive (from docker save, podman save, skopeo or this library) for reading.</summary>
    /// <exception cref="ImageStoreException">The file is missing, not a tar, or has no valid manifest.json.</exception>
    public static async Task<DockerArchiveFile> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var index = await TarFileIndex.LoadAsync(Path.GetFullPath(path), FormatName, cancellationToken).ConfigureAwait(false);
        if (!index.Contains("manifest.json"))
        {
            throw new ImageStoreException(index.FilePath, $"{index.FilePath} is not a docker archive: manifest.json missing (a docker save tarball has one at its root).");
        }

        var bytes = await index.ReadAllAsync("manifest.json", ImageLayoutReader.MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
        return new DockerArchiveFile(index, ParseManifest(index.FilePath, bytes));
    }

    /// <summary>
    /// Puts a tag in the form docker save writes: as given, with <c>:latest</c> added to a bare name.
    /// </summary>
    private static string NormalizeRepoTag(string repoTag)
    {
        if (!ImageReference.TryParse(repoTag, out var reference, out var error))
        {
            throw new ArgumentException($"'{repoTag}' is not a valid repository tag for a docker archive: {error}", nameof(repoTag));
        }

        if (reference!.Digest is not null)
        {
            throw new ArgumentException($"'{repoTag}' names a digest; a docker archive's RepoTags hold name:tag only (for example 'registry.example/app:1.0').", nameof(repoTag));
        }

        return reference.Tag is null ? repoTag + ":" + ImageReference.DefaultTag : repoTag;
    }

    private static async Task WriteLayerAsync(DeterministicTarWriter writer, string name, ILayer layer, CancellationToken cancellationToken)
    {
        var what = $"layer {layer.Descriptor.Digest} (diff id {layer.DiffId})";
        long length;
        if (MediaTypes.GetLayerCompression(layer.Descriptor.MediaType) == LayerCompression.None)
        {
            length = layer.Descriptor.Size;
        }
        else
        {
            // First pass: the uncompressed length is needed for the tar header; verify the diff id on the way.
            using var hasher = layer.DiffId.CreateHasher();
            length = 0;
            var measure = await layer.OpenUncompressedAsync(cancellationToken).ConfigureAwait(false);
            await using (measure.ConfigureAwait(false))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await measure.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hasher.AppendData(buffer, 0, read);
                    length += read;
                }
            }

            var actual = Digest.FromHash(layer.DiffId.Algorithm, hasher.GetHashAndReset());
            if (actual != layer.DiffId)
            {
                throw new DigestMismatchException($"The uncompressed {what}", layer.DiffId, actual);
            }
        }

        var content = new VerifyingReadStream(await layer.OpenUncompressedAsync(cancellationToken).ConfigureAwait(false), layer.DiffId, length, $"The uncompressed {what}");
        await using (content.ConfigureAwait(false))
        {
            await writer.WriteFileAsync(name, content, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] SerializeManifest(List<DockerArchiveEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var entry in entries)
            {
                json.WriteStartObject();
                json.WriteString("Config", entry.Config);
                json.WriteStartArray("RepoTags");
                foreach (var tag in entry.RepoTags)
                {
                    json.WriteStringValue(tag);
                }

                json.WriteEndArray();
                json.WriteStartArray("Layers");
                foreach (var layer in entry.Layers)
                {
                    json.WriteStringValue(layer);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return buffer.ToArray();
    }

    private static List<DockerArchiveEntry> ParseManifest(string path, byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var entries = new List<DockerArchiveEntry>();
            foreach (var item in document.RootElement.EnumerateArray())
            {
                var config = item.GetProperty("Config").GetString()
                    ?? throw new ImageStoreException(path, $"An entry of {path}!manifest.json has a null Config; expected the config file's name.");
                var tags = item.TryGetProperty("RepoTags", out var repoTags) && repoTags.ValueKind == JsonValueKind.Array
                    ? repoTags.EnumerateArray().Select(t => t.GetString() ?? string.Empty).ToArray()
                    : [];
                var layers = item.GetProperty("Layers").EnumerateArray().Select(l => l.GetString() ?? string.Empty).ToArray();
                entries.Add(new DockerArchiveEntry(config, tags, layers));
            }

            return entries;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ImageStoreException(path, $"{path}!manifest.json is not a docker archive manifest (expected [{{\"Config\":…,\"RepoTags\":[…],\"Layers\":[…]}}]): {ex.Message}", ex);
        }
    }

    internal static async Task<Digest> HashEntryAsync(TarFileIndex index, string name, CancellationToken cancellationToken)
    {
        var stream = index.Open(name);
        await using (stream.ConfigureAwait(false))
        {
            return Digest.FromHash(Digest.Sha256, await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
    }
}

/// <summary>A docker archive opened for reading.</summary>
public sealed class DockerArchiveFile
{
    private readonly TarFileIndex _index;

    internal DockerArchiveFile(TarFileIndex index, IReadOnlyList<DockerArchiveEntry> entries)
    {
        _index = index;
        Entries = entries;
    }

    /// <summary>The archive's path.</summary>
    public string FilePath => _index.FilePath;

    /// <summary>The images listed in manifest.json, in order.</summary>
    public IReadOnlyList<DockerArchiveEntry> Entries { get; }

    /// <summary>Every tag in the archive, in order.</summary>
    public IReadOnlyList<string> RepoTags => Entries.SelectMany(e => e.RepoTags).ToArray();

    /// <summary>
    /// Reads the image tagged <paramref name="repoTag"/>, or the only image when null. Uncompressed layers
    /// get media type <see cref="MediaTypes.OciLayer"/> with digest = diff id; layers stored compressed keep
    /// their compression. The manifest is an OCI manifest composed for the image.
    /// </summary>
    /// <exception cref="ImageStoreException">No image has that tag, or the archive is incomplete.</exception>
    public Task<IImage> ReadImageAsync(string? repoTag = null, CancellationToken cancellationToken = default)
    {
        if (repoTag is null)
        {
            if (Entries.Count != 1)
            {
                throw new ImageStoreException(FilePath, $"{FilePath} holds {Entries.Count} images; say which to read by tag ({string.Join(", ", RepoTags)}) or by position.");
            }

            return ReadImageAsync(0, cancellationToken);
        }

        var position = -1;
        for (var i = 0; i < Entries.Count && position < 0; i++)
        {
            if (Entries[i].RepoTags.Contains(repoTag, StringComparer.Ordinal)
                || Entries[i].RepoTags.Contains(repoTag + ":" + ImageReference.DefaultTag, StringComparer.Ordinal))
            {
                position = i;
            }
        }

        if (position < 0)
        {
            throw new ImageStoreException(FilePath, $"{FilePath} has no image tagged '{repoTag}'; it holds: {(RepoTags.Count == 0 ? "untagged images only" : string.Join(", ", RepoTags))}.");
        }

        return ReadImageAsync(position, cancellationToken);
    }

    /// <summary>Reads the image at <paramref name="position"/> in manifest.json.</summary>
    public async Task<IImage> ReadImageAsync(int position, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Entries.Count);
        var entry = Entries[position];
        var configBytes = await ReadEntryAsync(entry.Config, "config", cancellationToken).ConfigureAwait(false);
        var configDigest = Digest.Compute(configBytes);
        var namedHex = Path.GetFileNameWithoutExtension(entry.Config);
        if (namedHex.Length == configDigest.Hex.Length && namedHex.All(Uri.IsHexDigit) && !string.Equals(namedHex, configDigest.Hex, StringComparison.Ordinal))
        {
            throw new DigestMismatchException($"The config {FilePath}!{entry.Config}", Digest.Parse(Digest.Sha256 + ":" + namedHex), configDigest);
        }

        ImageConfig config;
        try
        {
            config = OciJson.DeserializeConfig(configBytes, $"config {FilePath}!{entry.Config}");
        }
        catch (OciException ex)
        {
            throw new ImageStoreException(FilePath, ex.Message, ex);
        }

        if (config.RootFs.DiffIds.Count != entry.Layers.Count)
        {
            throw new ImageStoreException(FilePath, $"The image {entry.Config} in {FilePath} lists {entry.Layers.Count} layers but its config has {config.RootFs.DiffIds.Count} diff ids; the archive is corrupt.");
        }

        var layers = new List<ILayer>();
        for (var i = 0; i < entry.Layers.Count; i++)
        {
            layers.Add(await ReadLayerAsync(entry.Layers[i], config.RootFs.DiffIds[i], cancellationToken).ConfigureAwait(false));
        }

        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = Descriptor.For(MediaTypes.OciConfig, configBytes),
            Layers = layers.Select(l => l.Descriptor).ToArray(),
        };
        var manifestBytes = OciJson.Serialize(manifest);
        var descriptor = Descriptor.For(MediaTypes.OciManifest, manifestBytes) with { Platform = config.Platform };
        return new StoredImage(descriptor, manifestBytes, manifest, configBytes, config, layers);
    }

    private async Task<ILayer> ReadLayerAsync(string name, Digest diffId, CancellationToken cancellationToken)
    {
        if (!_index.TryGetLength(name, out var length))
        {
            throw new ImageStoreException(FilePath, $"The layer {name} listed in {FilePath}!manifest.json is not in the archive; the archive is incomplete.");
        }

        var compression = await DetectCompressionAsync(name, cancellationToken).ConfigureAwait(false);
        var digest = compression == LayerCompression.None ? diffId : await DockerArchive.HashEntryAsync(_index, name, cancellationToken).ConfigureAwait(false);
        var descriptor = new Descriptor { MediaType = MediaTypes.LayerMediaType(compression), Digest = digest, Size = length };
        var index = _index;
        var what = $"layer {FilePath}!{name}";
        return new StoredLayer(descriptor, diffId, _ => Task.FromResult<Stream>(new VerifyingReadStream(index.Open(name), digest, length, what)));
    }

    private async Task<LayerCompression> DetectCompressionAsync(string name, CancellationToken cancellationToken)
    {
        var magic = new byte[4];
        int read;
        var stream = _index.Open(name);
        await using (stream.ConfigureAwait(false))
        {
            read = await stream.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }

        return read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b ? LayerCompression.Gzip
            : read >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd ? LayerCompression.Zstd
            : LayerCompression.None;
    }

    private async Task<byte[]> ReadEntryAsync(string name, string what, CancellationToken cancellationToken)
    {
        if (!_index.Contains(name))
        {
            throw new ImageStoreException(FilePath, $"The {what} {name} listed in {FilePath}!manifest.json is not in the archive; the archive is incomplete.");
        }

        return await _index.ReadAllAsync(name, ImageLayoutReader.MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
    }
}
