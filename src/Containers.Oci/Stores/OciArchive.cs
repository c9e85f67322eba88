using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Json;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Stores;

/// <summary>
/// OCI archives: an OCI image layout packed in a tar file, as read by <c>skopeo copy oci-archive:</c> and
/// <c>podman load</c>.
/// </summary>
/// <remarks>
/// Written deterministically (entries sorted, parent directories first, fixed time, root ownership,
/// fixed modes), so the same image gives the same bytes. Layers are streamed from their source and
/// verified against their digests on the way; nothing is buffered beyond a copy buffer.
/// </remarks>
/// <example>
/// <code>
/// await OciArchive.WriteToFileAsync("app.tar", image, ["app:1.0"], cancellationToken: ct);
/// var archive = await OciArchive.OpenAsync("app.tar", ct);
/// IImage read = await archive.ReadImageAsync("app:1.0", cancellationToken: ct);
/// </code>
/// </example>
public static class OciArchive
{
    private const string FormatName = "OCI archive";

    /// <summary>Writes an archive holding <paramref name="image"/>, named by each of <paramref name="refNames"/> (unnamed when empty).</summary>
    /// <param name="destination">Where the tar is written; need not be seekable.</param>
    /// <param name="image">The image.</param>
    /// <param name="refNames">The <c>org.opencontainers.image.ref.name</c> values, e.g. <c>1.0</c> or <c>registry.example/app:1.0</c>.</param>
    /// <param name="entryTime">The modification time of every entry; the Unix epoch when null.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The image's manifest descriptor.</returns>
    /// <exception cref="DigestMismatchException">A layer's content does not match its descriptor.</exception>
    public static async Task<Descriptor> WriteAsync(Stream destination, IImage image, IEnumerable<string> refNames, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(refNames);
        await WriteCoreAsync(destination, ImageBlobs.Of(image), image.ManifestDescriptor, refNames.ToArray(), entryTime, cancellationToken).ConfigureAwait(false);
        return image.ManifestDescriptor;
    }

    /// <summary>Writes an archive holding the multi-platform <paramref name="index"/>, named by each of <paramref name="refNames"/>.</summary>
    /// <returns>The index's descriptor.</returns>
    public static async Task<Descriptor> WriteAsync(Stream destination, IImageIndex index, IEnumerable<string> refNames, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(refNames);
        await WriteCoreAsync(destination, ImageBlobs.Of(index), index.IndexDescriptor, refNames.ToArray(), entryTime, cancellationToken).ConfigureAwait(false);
        return index.IndexDescriptor;
    }

    /// <summary>
    /// Writes the archive to <paramref name="path"/> through a temporary file that is renamed into place when
    /// complete, so a failed write leaves no partial archive. A path ending in <c>.tar.gz</c>, <c>.tgz</c> or
    /// <c>.gz</c> gets a gzip-compressed tar (skopeo's <c>oci-archive:</c> and <c>podman load</c> read both).
    /// </summary>
    public static async Task<Descriptor> WriteToFileAsync(string path, IImage image, IEnumerable<string> refNames, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(refNames);
        var names = refNames.ToArray();
        await ArchiveFiles.WriteAtomicallyAsync(path, FormatName, s => WriteAsync(s, image, names, entryTime, cancellationToken), cancellationToken, ArchiveFiles.NamesGzip(path)).ConfigureAwait(false);
        return image.ManifestDescriptor;
    }

    /// <summary>Writes an archive of <paramref name="index"/> to <paramref name="path"/> atomically (gzip-compressed for a <c>.tar.gz</c>/<c>.tgz</c> name).</summary>
    public static async Task<Descriptor> WriteToFileAsync(string path, IImageIndex index, IEnumerable<string> refNames, DateTimeOffset? entryTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(refNames);
        var names = refNames.ToArray();
        await ArchiveFiles.WriteAtomicallyAsync(path, FormatName, s => WriteAsync(s, index, names, entryTime, cancellationToken), cancellationToken, ArchiveFiles.NamesGzip(path)).ConfigureAwait(false);
        return index.IndexDescriptor;
    }

    /// <summary>Opens an OCI archive for reading (reads the tar headers once; blobs are read on demand).</summary>
    /// <exception cref="ImageStoreException">The file is missing, not a tar, or holds no OCI layout.</exception>
    public static async Task<OciArchiveFile> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var index = await TarFileIndex.LoadAsync(Path.GetFullPath(path), FormatName, cancellationToken).ConfigureAwait(false);
        var archive = new OciArchiveFile(index);
        await archive.GetEntriesAsync(cancellationToken).ConfigureAwait(false);
        return archive;
    }

    private static async Task WriteCoreAsync(Stream destination, IReadOnlyList<ImageBlob> blobs, Descriptor root, string[] refNames, DateTimeOffset? entryTime, CancellationToken cancellationToken)
    {
        var entry = new Descriptor { MediaType = root.MediaType, Digest = root.Digest, Size = root.Size, ArtifactType = root.ArtifactType };
        IReadOnlyList<Descriptor> manifests = refNames.Length == 0
            ? [entry]
            : refNames.Select(name =>
            {
                if (string.IsNullOrEmpty(name) || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                {
                    throw new ArgumentException($"'{name}' is not a valid ref name: it must be non-empty, without spaces or control characters.", nameof(refNames));
                }

                return entry with { Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [OciLayout.RefNameAnnotation] = name } };
            }).ToArray();
        var indexJson = OciJson.Serialize(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests });

        var writer = new DeterministicTarWriter(destination, entryTime ?? ArchiveFiles.DefaultEntryTime);
        await using (writer.ConfigureAwait(false))
        {
            foreach (var blob in blobs.OrderBy(b => ImageLayoutReader.BlobPath(b.Descriptor.Digest), StringComparer.Ordinal))
            {
                var content = await blob.OpenVerifiedAsync(cancellationToken).ConfigureAwait(false);
                await using (content.ConfigureAwait(false))
                {
                    await writer.WriteFileAsync(ImageLayoutReader.BlobPath(blob.Descriptor.Digest), content, cancellationToken).ConfigureAwait(false);
                }
            }

            await writer.WriteFileAsync("index.json", indexJson, cancellationToken).ConfigureAwait(false);
            await writer.WriteFileAsync("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>An OCI archive opened for reading: the same queries as <see cref="OciLayout"/>, blobs streamed from the tar.</summary>
public sealed class OciArchiveFile
{
    private readonly ImageLayoutReader _reader;

    internal OciArchiveFile(TarFileIndex index)
    {
        FilePath = index.FilePath;
        _reader = new ImageLayoutReader(new ArchiveFiles(index));
    }

    /// <summary>The archive's path.</summary>
    public string FilePath { get; }

    /// <summary>Every entry of the archive's index.json, in order.</summary>
    public Task<IReadOnlyList<OciLayoutEntry>> GetEntriesAsync(CancellationToken cancellationToken = default) => _reader.ReadEntriesAsync(cancellationToken);

    /// <summary>The ref names in the archive's index.json, each once.</summary>
    public async Task<IReadOnlyList<string>> GetRefNamesAsync(CancellationToken cancellationToken = default)
    {
        var entries = await GetEntriesAsync(cancellationToken).ConfigureAwait(false);
        return entries.Where(e => e.RefName is not null).Select(e => e.RefName!).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Reads the image named <paramref name="refNameOrDigest"/>, selecting <paramref name="platform"/> from an index.</summary>
    /// <remarks>Layers stream from the archive and are verified against their digests as they are read.</remarks>
    public Task<IImage> ReadImageAsync(string refNameOrDigest, Platform? platform = null, CancellationToken cancellationToken = default) =>
        _reader.ReadImageAsync(refNameOrDigest, platform, cancellationToken);

    /// <summary>Reads the index named <paramref name="refNameOrDigest"/> with its images.</summary>
    public Task<IImageIndex> ReadIndexAsync(string refNameOrDigest, CancellationToken cancellationToken = default) =>
        _reader.ReadIndexAsync(refNameOrDigest, cancellationToken);

    private sealed class ArchiveFiles(TarFileIndex index) : ILayoutFiles
    {
        public string StorePath => index.FilePath;

        public string Describe(string relativePath) => $"{index.FilePath}!{relativePath}";

        public bool TryGetLength(string relativePath, out long length) => index.TryGetLength(relativePath, out length);

        public Task<byte[]> ReadAllAsync(string relativePath, long maxBytes, CancellationToken cancellationToken) =>
            index.ReadAllAsync(relativePath, maxBytes, cancellationToken);

        public ILayer CreateLayer(Descriptor descriptor, Digest diffId, string relativePath) =>
            new StoredLayer(descriptor, diffId, _ => Task.FromResult<Stream>(
                new VerifyingReadStream(index.Open(relativePath), descriptor.Digest, descriptor.Size, $"layer {Describe(relativePath)}")));
    }
}
