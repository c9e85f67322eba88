using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Json;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Stores;

/// <summary>
/// An OCI image layout directory (image-spec <c>image-layout.md</c>): an <c>oci-layout</c> file,
/// <c>index.json</c> naming images by <c>org.opencontainers.image.ref.name</c>, and content-addressed
/// blobs under <c>blobs/&lt;algorithm&gt;/&lt;hex&gt;</c>.
/// </summary>
/// <remarks>
/// Writes are crash-safe: every blob is written to a temporary file, verified against its digest and
/// renamed into place, and index.json is replaced (also by rename) only after all blobs of the image
/// are present, so index.json never names an image whose blobs are missing. Concurrent writers (threads or
/// processes) are safe: blobs are content-addressed and index.json updates are serialized by a lock
/// (an in-process semaphore plus an exclusive <c>.index.json.lock</c> file); readers never wait.
/// </remarks>
/// <example>
/// <code>
/// var layout = OciLayout.Create("out/image");
/// await layout.WriteImageAsync(image, "1.0", cancellationToken);
/// IImage again = await layout.ReadImageAsync("1.0", cancellationToken: cancellationToken);
/// </code>
/// </example>
public sealed partial class OciLayout
{
    /// <summary>The annotation holding an entry's name in index.json.</summary>
    public const string RefNameAnnotation = ImageLayoutReader.RefNameAnnotation;

    private const string LayoutFileContent = "{\"imageLayoutVersion\":\"1.0.0\"}";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> IndexLocks = new(StringComparer.Ordinal);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    // How many layers are written at once.
    private const int LayerWriteConcurrency = 4;

    private readonly ImageLayoutReader _reader;

    private OciLayout(string directory)
    {
        DirectoryPath = directory;
        _reader = new ImageLayoutReader(new DirectoryFiles(directory));
    }

    /// <summary>The layout's directory (full path).</summary>
    public string DirectoryPath { get; }

    /// <summary>
    /// Opens the layout at <paramref name="directory"/>, creating the directory, <c>oci-layout</c> and an
    /// empty <c>index.json</c> when they do not exist yet.
    /// </summary>
    /// <exception cref="ImageStoreException">The directory cannot be created or written, or holds other files but no oci-layout.</exception>
    public static OciLayout Create(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var full = Path.GetFullPath(directory);
        var layoutFile = Path.Combine(full, "oci-layout");
        try
        {
            if (!File.Exists(layoutFile))
            {
                // Another process (or task) creating the same layout right now has only its temporary file here yet, or
                // has written oci-layout (always first) since the check above: other files then are its blobs/ and index.
                if (Directory.Exists(full)
                    && Directory.EnumerateFileSystemEntries(full).Any(entry => !Path.GetFileName(entry).StartsWith(".tmp-", StringComparison.Ordinal))
                    && !File.Exists(layoutFile))
                {
                    throw new ImageStoreException(full, $"{full} is not an OCI image layout: oci-layout file missing, and the directory is not empty; choose an empty or new directory.");
                }

                Directory.CreateDirectory(full);
                WriteAtomically(full, layoutFile, Encoding.UTF8.GetBytes(LayoutFileContent));
            }

            Directory.CreateDirectory(Path.Combine(full, "blobs", Digest.Sha256));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw NotWritable(full, ex);
        }

        var layout = new OciLayout(full);
        if (!File.Exists(Path.Combine(full, "index.json")))
        {
            layout.WriteEmptyIndexJsonIfAbsent();
        }

        layout.CheckVersion();
        return layout;
    }

    /// <summary>
    /// Writes an empty index.json unless one exists, under the lock every index.json update holds: a concurrent creator
    /// may have written one and added images to it since the caller looked, and it must not be replaced. (File.Move
    /// without overwrite is no guard on Unix: where the target is missing when it looks, it renames, which replaces a
    /// target written in between.)
    /// </summary>
    private void WriteEmptyIndexJsonIfAbsent()
    {
        try
        {
            // No synchronization context here, and no cancellation: waiting on the lock's retry loop is safe.
            using var held = HoldIndexLockAsync(CancellationToken.None).GetAwaiter().GetResult();
            var path = Path.Combine(DirectoryPath, "index.json");
            if (!File.Exists(path))
            {
                WriteAtomically(DirectoryPath, path, OciJson.Serialize(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [] }));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw NotWritable(DirectoryPath, ex);
        }
    }

    /// <summary>Opens an existing layout.</summary>
    /// <exception cref="ImageStoreException">The directory does not exist or is not an OCI layout; the message says which file is missing.</exception>
    public static OciLayout Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            throw new ImageStoreException(full, $"{full} is not an OCI image layout: the directory does not exist.");
        }

        if (!File.Exists(Path.Combine(full, "oci-layout")))
        {
            throw new ImageStoreException(full, $"{full} is not an OCI image layout: oci-layout file missing.");
        }

        var layout = new OciLayout(full);
        layout.CheckVersion();
        return layout;
    }

    private void CheckVersion()
    {
        var path = Path.Combine(DirectoryPath, "oci-layout");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageStoreException(DirectoryPath, $"Cannot read {path}: {ex.Message}", ex);
        }

        if (!text.Contains("\"imageLayoutVersion\"", StringComparison.Ordinal) || !text.Contains("\"1.0.0\"", StringComparison.Ordinal))
        {
            throw new ImageStoreException(DirectoryPath, $"{path} does not declare imageLayoutVersion 1.0.0 (it contains '{text.Trim()}'); this library reads version 1.0.0 layouts only.");
        }
    }

    /// <summary>The path of the blob with <paramref name="digest"/> (whether or not it exists).</summary>
    public string GetBlobPath(Digest digest) => Path.Combine(DirectoryPath, "blobs", digest.Algorithm, digest.Hex);

    /// <summary>True when the blob exists (and, when <paramref name="size"/> is given, has that size).</summary>
    public bool HasBlob(Digest digest, long? size = null)
    {
        var info = new FileInfo(GetBlobPath(digest));
        return info.Exists && (size is null || info.Length == size);
    }

    /// <summary>Opens a blob for reading.</summary>
    /// <exception cref="ImageStoreException">The blob is not in the layout.</exception>
    public Stream OpenBlob(Digest digest)
    {
        var path = GetBlobPath(digest);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageStoreException(DirectoryPath, $"The blob {digest} is not in the OCI layout {DirectoryPath} (expected {path}).", ex);
        }
    }

    /// <summary>
    /// Stores <paramref name="content"/> as the blob <paramref name="expected"/> describes, unless a blob of
    /// that digest and size is already present. The content is hashed while it is written and refused
    /// (nothing is left behind) when its digest or length differs.
    /// </summary>
    /// <returns>True when the blob was written, false when it was already present.</returns>
    /// <remarks><paramref name="content"/> is read to its end but not disposed.</remarks>
    /// <exception cref="DigestMismatchException">The content does not hash to the expected digest.</exception>
    public async Task<bool> WriteBlobAsync(Stream content, Descriptor expected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(expected);
        if (HasBlob(expected.Digest, expected.Size))
        {
            return false;
        }

        var verifying = new VerifyingReadStream(content, expected.Digest, expected.Size, $"blob {expected.Digest} written to {DirectoryPath}", leaveOpen: true);
        await WriteFileAtomicallyAsync(GetBlobPath(expected.Digest), verifying, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Stores <paramref name="content"/> as a blob of <paramref name="mediaType"/>; returns its descriptor.</summary>
    public async Task<Descriptor> WriteBlobAsync(ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken = default)
    {
        var descriptor = Descriptor.For(mediaType, content.Span);
        var stream = new MemoryStream(content.ToArray(), writable: false);
        await using (stream.ConfigureAwait(false))
        {
            await WriteBlobAsync(stream, descriptor, cancellationToken).ConfigureAwait(false);
        }

        return descriptor;
    }

    /// <summary>
    /// Writes the image's blobs, then names it <paramref name="refName"/> in index.json (replacing an entry of
    /// the same name, keeping the others). With no name, the image is listed unnamed unless already listed.
    /// Safe to call concurrently, also from several processes.
    /// </summary>
    /// <returns>The descriptor written to index.json.</returns>
    public Task<Descriptor> WriteImageAsync(IImage image, string? refName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        return WriteAsync(ImageBlobs.Of(image), image.ManifestDescriptor, refName is null ? [] : [refName], cancellationToken);
    }

    /// <summary>Writes the image's blobs, then names it by each of <paramref name="refNames"/> in index.json.</summary>
    public Task<Descriptor> WriteImageAsync(IImage image, IEnumerable<string> refNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(refNames);
        return WriteAsync(ImageBlobs.Of(image), image.ManifestDescriptor, refNames.ToArray(), cancellationToken);
    }

    /// <summary>Writes the index, its images and their blobs, then names the index <paramref name="refName"/> in index.json.</summary>
    public Task<Descriptor> WriteIndexAsync(IImageIndex index, string? refName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        return WriteAsync(ImageBlobs.Of(index), index.IndexDescriptor, refName is null ? [] : [refName], cancellationToken);
    }

    /// <summary>Writes the index, its images and their blobs, then names it by each of <paramref name="refNames"/>.</summary>
    public Task<Descriptor> WriteIndexAsync(IImageIndex index, IEnumerable<string> refNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(refNames);
        return WriteAsync(ImageBlobs.Of(index), index.IndexDescriptor, refNames.ToArray(), cancellationToken);
    }

    private async Task<Descriptor> WriteAsync(IReadOnlyList<ImageBlob> blobs, Descriptor root, string[] refNames, CancellationToken cancellationToken)
    {
        foreach (var refName in refNames)
        {
            ValidateRefName(refName);
        }

        // Layers a few at a time (from a registry each is its own download, as skopeo does it); then the documents in
        // order, so a manifest is never in the layout before what it references.
        var missing = blobs.Where(blob => !HasBlob(blob.Descriptor.Digest, blob.Descriptor.Size)).ToArray();
        await Parallel.ForEachAsync(
            missing.Where(blob => blob.Layer is not null),
            new ParallelOptions { MaxDegreeOfParallelism = LayerWriteConcurrency, CancellationToken = cancellationToken },
            async (blob, token) => await WriteFileAtomicallyAsync(GetBlobPath(blob.Descriptor.Digest), await blob.OpenVerifiedAsync(token).ConfigureAwait(false), token).ConfigureAwait(false)).ConfigureAwait(false);
        foreach (var blob in missing.Where(blob => blob.Layer is null))
        {
            var content = await blob.OpenVerifiedAsync(cancellationToken).ConfigureAwait(false);
            await WriteFileAtomicallyAsync(GetBlobPath(blob.Descriptor.Digest), content, cancellationToken).ConfigureAwait(false);
        }

        var entry = new Descriptor { MediaType = root.MediaType, Digest = root.Digest, Size = root.Size, Platform = null, ArtifactType = root.ArtifactType };
        await UpdateIndexJsonAsync(
            index =>
            {
                var manifests = index.Manifests.ToList();
                if (refNames.Length == 0)
                {
                    if (!manifests.Any(m => m.Digest == root.Digest))
                    {
                        manifests.Add(entry);
                    }
                }

                foreach (var refName in refNames)
                {
                    var named = entry with { Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [RefNameAnnotation] = refName } };
                    var existing = manifests.FindIndex(m => string.Equals(ImageLayoutReader.ToEntry(m).RefName, refName, StringComparison.Ordinal));
                    if (existing >= 0)
                    {
                        manifests[existing] = named;
                        manifests.RemoveAll(m => !ReferenceEquals(m, named) && string.Equals(ImageLayoutReader.ToEntry(m).RefName, refName, StringComparison.Ordinal));
                    }
                    else
                    {
                        manifests.Add(named);
                    }
                }

                return index with { MediaType = index.MediaType ?? MediaTypes.OciIndex, Manifests = manifests };
            },
            cancellationToken).ConfigureAwait(false);
        return refNames.Length == 0 ? entry : entry with { Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [RefNameAnnotation] = refNames[^1] } };
    }

    /// <summary>Every entry of index.json, in order.</summary>
    public Task<IReadOnlyList<OciLayoutEntry>> GetEntriesAsync(CancellationToken cancellationToken = default) =>
        _reader.ReadEntriesAsync(cancellationToken);

    /// <summary>The ref names (tags) in index.json, in order, each once.</summary>
    public async Task<IReadOnlyList<string>> GetRefNamesAsync(CancellationToken cancellationToken = default)
    {
        var entries = await GetEntriesAsync(cancellationToken).ConfigureAwait(false);
        return entries.Where(e => e.RefName is not null).Select(e => e.RefName!).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The descriptor of the manifest or index named <paramref name="refNameOrDigest"/> (a ref name, or a digest).</summary>
    public Task<Descriptor> ResolveAsync(string refNameOrDigest, CancellationToken cancellationToken = default) =>
        _reader.ResolveAsync(refNameOrDigest, cancellationToken);

    /// <summary>
    /// Reads the image named <paramref name="refNameOrDigest"/>. When it is an index, the manifest for
    /// <paramref name="platform"/> is selected (required unless the index lists a single manifest).
    /// Manifest and config are verified against their digests; layers are read from the blob files on demand.
    /// </summary>
    public Task<IImage> ReadImageAsync(string refNameOrDigest, Platform? platform = null, CancellationToken cancellationToken = default) =>
        _reader.ReadImageAsync(refNameOrDigest, platform, cancellationToken);

    /// <summary>Reads the index named <paramref name="refNameOrDigest"/> with all its images.</summary>
    public Task<IImageIndex> ReadIndexAsync(string refNameOrDigest, CancellationToken cancellationToken = default) =>
        _reader.ReadIndexAsync(refNameOrDigest, cancellationToken);

    /// <summary>
    /// Removes the entries named <paramref name="refName"/> from index.json. Blobs stay (another entry may
    /// share them).
    /// </summary>
    /// <returns>True when an entry was removed.</returns>
    public async Task<bool> RemoveRefAsync(string refName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(refName);
        var removed = false;
        await UpdateIndexJsonAsync(
            index =>
            {
                var kept = index.Manifests.Where(m => !string.Equals(ImageLayoutReader.ToEntry(m).RefName, refName, StringComparison.Ordinal)).ToArray();
                removed = kept.Length != index.Manifests.Count;
                return removed ? index with { Manifests = kept } : null;
            },
            cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>
    /// Reads index.json, applies <paramref name="change"/> and replaces the file (unless the change returns
    /// null), holding a lock so concurrent writers, in this process or another, do not lose each other's entries.
    /// </summary>
    private async Task UpdateIndexJsonAsync(Func<ImageIndex, ImageIndex?> change, CancellationToken cancellationToken)
    {
        using (await HoldIndexLockAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = await _reader.ReadIndexJsonAsync(cancellationToken).ConfigureAwait(false);
            if (change(index) is { } updated)
            {
                await WriteIndexJsonAsync(updated, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The lock every write of index.json holds: this process's semaphore for the layout, then the exclusive lock file
    /// for other processes. Disposing releases both, the file first.
    /// </summary>
    private async Task<IDisposable> HoldIndexLockAsync(CancellationToken cancellationToken)
    {
        var gate = IndexLocks.GetOrAdd(DirectoryPath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new HeldIndexLock(gate, await AcquireLockFileAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    private sealed class HeldIndexLock(SemaphoreSlim gate, FileStream lockFile) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                lockFile.Dispose();
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>An exclusive handle on <c>.index.json.lock</c>, the cross-process guard for index.json updates.</summary>
    private async Task<FileStream> AcquireLockFileAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(DirectoryPath, ".index.json.lock");
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ImageStoreException(DirectoryPath, $"Cannot lock {path} to update index.json within {LockTimeout.TotalSeconds} seconds: {ex.Message} Another process may be writing to the layout; retry when it has finished.", ex);
            }
        }
    }

    private async Task WriteIndexJsonAsync(ImageIndex index, CancellationToken cancellationToken)
    {
        var stream = new MemoryStream(OciJson.Serialize(index), writable: false);
        await using (stream.ConfigureAwait(false))
        {
            await WriteFileAtomicallyAsync(Path.Combine(DirectoryPath, "index.json"), stream, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void ValidateRefName(string refName)
    {
        if (string.IsNullOrEmpty(refName) || refName.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException($"'{refName}' is not a valid ref name: it must be non-empty, without spaces or control characters (for example '1.0' or 'registry.example/app:1.0').", nameof(refName));
        }
    }

    /// <summary>Copies <paramref name="content"/> to a temporary file in the layout, then renames it to <paramref name="path"/>.</summary>
    private async Task WriteFileAtomicallyAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(DirectoryPath, $".tmp-{Guid.NewGuid():N}");
        try
        {
            await using (content.ConfigureAwait(false))
            {
                var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
                await using (file.ConfigureAwait(false))
                {
                    await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                }
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw NotWritable(DirectoryPath, ex);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void WriteAtomically(string directory, string path, byte[] content)
    {
        var temporary = Path.Combine(directory, $".tmp-{Guid.NewGuid():N}");
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover .tmp- file is ignored by every reader of the layout.
        }
    }

    private static ImageStoreException NotWritable(string directory, Exception ex) =>
        new(directory, $"Cannot write the OCI layout {directory}: {ex.Message} Check that the directory is writable and the disk is not full.", ex);

    private sealed class DirectoryFiles(string directory) : ILayoutFiles
    {
        public string StorePath => directory;

        public string Describe(string relativePath) => Path.Combine(directory, relativePath);

        public bool TryGetLength(string relativePath, out long length)
        {
            var info = new FileInfo(Path.Combine(directory, relativePath));
            length = info.Exists ? info.Length : -1;
            return info.Exists;
        }

        public async Task<byte[]> ReadAllAsync(string relativePath, long maxBytes, CancellationToken cancellationToken)
        {
            var path = Path.Combine(directory, relativePath);
            try
            {
                var length = new FileInfo(path).Length;
                if (length > maxBytes)
                {
                    throw new ImageStoreException(directory, $"{path} is {length} bytes; a JSON document here is expected to be at most {maxBytes} bytes.");
                }

                return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ImageStoreException(directory, $"Cannot read {path}: {ex.Message}", ex);
            }
        }

        public ILayer CreateLayer(Descriptor descriptor, Digest diffId, string relativePath) =>
            StoredLayer.FromFile(descriptor, diffId, Path.Combine(directory, relativePath));
    }
}
