using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Containers.Build.Publishing.Transfers;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;

namespace Containers.Build.Publishing;

/// <summary>
/// A content-addressed local cache of built layers and downloaded base-image blobs.
/// </summary>
/// <remarks>
/// A built layer is keyed by everything that determines its bytes: each entry's path, kind, mode, link
/// target and content hash, the write options (compression, level, format, owner, timestamp) and the
/// layer writer's build. An unchanged layer is therefore never re-tarred or re-compressed. Hashing every
/// file on every publish is avoided the way git's index does it: <c>fingerprints/</c> maps a hash of the
/// entries' source paths, sizes and modification times (plus everything else in the key) to the content
/// key, and is trusted only when no file changed in the last seconds before it was recorded (a file
/// rewritten within the same clock tick with the same size would otherwise go unnoticed). Blobs live
/// under <c>blobs/sha256/</c> and keys under <c>keys/</c>; all are written atomically (temp + rename),
/// so concurrent builds in several MSBuild nodes can share one cache; within one instance, a layer asked for by
/// two callers at once (two runtime identifiers with a layer in common) is written once. The cache is bounded: after a
/// publish, the least recently used blobs beyond <see cref="MaxBytes"/> are deleted.
/// </remarks>
public sealed class LayerCache
{
    private static readonly string WriterBuild =
        typeof(LayerWriter).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    private readonly ConcurrentDictionary<string, Task<StoredLayer>> _writing = new(StringComparer.Ordinal);

    /// <summary>Creates (or opens) the cache in <paramref name="directory"/>.</summary>
    public LayerCache(string directory, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        DirectoryPath = Path.GetFullPath(directory);
        MaxBytes = maxBytes;
        Directory.CreateDirectory(BlobDirectory);
        Directory.CreateDirectory(KeyDirectory);
    }

    /// <summary>The cache directory.</summary>
    public string DirectoryPath { get; }

    /// <summary>The size bound of the cached blobs.</summary>
    public long MaxBytes { get; }

    private string BlobDirectory => Path.Combine(DirectoryPath, "blobs", "sha256");

    private string KeyDirectory => Path.Combine(DirectoryPath, "keys");

    private string FingerprintDirectory => Path.Combine(DirectoryPath, "fingerprints");

    /// <summary>Files modified this recently are not trusted to be unchanged by size and time alone.</summary>
    private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Returns the layer for <paramref name="plan"/> written with <paramref name="options"/>: from the
    /// cache when an identical layer was built before, else built now and cached.
    /// </summary>
    public Task<(StoredLayer Layer, bool FromCache)> GetOrBuildAsync(LayerPlan plan, LayerWriteOptions options, CancellationToken cancellationToken) =>
        GetOrBuildAsync(plan, options, uploader: null, cancellationToken);

    /// <summary>As <see cref="GetOrBuildAsync(LayerPlan, LayerWriteOptions, CancellationToken)"/>; a layer written now is also streamed by <paramref name="uploader"/>.</summary>
    internal async Task<(StoredLayer Layer, bool FromCache)> GetOrBuildAsync(LayerPlan plan, LayerWriteOptions options, LayerUploader? uploader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var key = await GetKeyAsync(plan, options, cancellationToken).ConfigureAwait(false);
        var keyPath = Path.Combine(KeyDirectory, key + ".json");
        if (TryReadKey(keyPath) is { } cached)
        {
            var blobPath = Path.Combine(BlobDirectory, cached.Descriptor.Digest.Hex);
            if (new FileInfo(blobPath) is { Exists: true } blob && blob.Length == cached.Descriptor.Size)
            {
                Touch(blobPath);
                Touch(keyPath);
                return (StoredLayer.FromFile(cached.Descriptor, cached.DiffId, blobPath), true);
            }
        }

        // Two writes of one key at once (two runtime identifiers with a layer in common) write it once; the later
        // one waits for the first and takes its blob as a cached layer.
        var writing = new TaskCompletionSource<StoredLayer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = _writing.GetOrAdd(key, writing.Task);
        if (first != writing.Task)
        {
            return (await first.WaitAsync(cancellationToken).ConfigureAwait(false), true);
        }

        try
        {
            var layer = uploader is not null
                ? await uploader.WriteToDirectoryAsync(plan, BlobDirectory, options, cancellationToken).ConfigureAwait(false)
                : await LayerWriter.WriteToDirectoryAsync(plan, BlobDirectory, options, cancellationToken).ConfigureAwait(false);
            AtomicFile.Write(keyPath, JsonSerializer.SerializeToUtf8Bytes(new CachedLayerKey(layer.Descriptor.MediaType, layer.Descriptor.Digest.ToString(), layer.Descriptor.Size, layer.DiffId.ToString()), BuildCacheJsonContext.Default.CachedLayerKey));
            writing.SetResult(layer);
            return (layer, false);
        }
        catch (Exception ex)
        {
            // The next attempt writes it anew; one already waiting fails with the same cause.
            _writing.TryRemove(key, out _);
            writing.SetException(ex);
            _ = writing.Task.Exception;
            throw;
        }
    }

    /// <summary>
    /// Returns <paramref name="layer"/> backed by a local file: from the cache when its blob is there,
    /// else downloaded once (digest verified) into the cache. Used for base layers that a tarball or
    /// layout destination must contain.
    /// </summary>
    public async Task<ILayer> GetOrDownloadAsync(ILayer layer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var descriptor = layer.Descriptor;
        var blobPath = Path.Combine(BlobDirectory, descriptor.Digest.Hex);
        if (descriptor.Digest.Algorithm != Digest.Sha256)
        {
            return layer;
        }

        if (!(new FileInfo(blobPath) is { Exists: true } blob && blob.Length == descriptor.Size))
        {
            var temporaryPath = blobPath + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                using var hasher = descriptor.Digest.CreateHasher();
                var source = await layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    var target = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
                    await using (target.ConfigureAwait(false))
                    {
                        var buffer = new byte[256 * 1024];
                        int read;
                        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            hasher.AppendData(buffer, 0, read);
                            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                var actual = Digest.FromHash(descriptor.Digest.Algorithm, hasher.GetHashAndReset());
                if (actual != descriptor.Digest)
                {
                    throw new DigestMismatchException($"Base image layer {descriptor.Digest}", descriptor.Digest, actual);
                }

                File.Move(temporaryPath, blobPath, overwrite: true);
            }
            finally
            {
                File.Delete(temporaryPath);
            }
        }
        else
        {
            Touch(blobPath);
        }

        return StoredLayer.FromFile(descriptor, layer.DiffId, blobPath);
    }

    /// <summary>
    /// Deletes least recently used blobs (and keys pointing at them) until the cache fits in
    /// <see cref="MaxBytes"/>; blobs in <paramref name="inUse"/> are kept whatever their age.
    /// Returns the bytes freed.
    /// </summary>
    public long Prune(IReadOnlySet<Digest> inUse)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        var blobs = new DirectoryInfo(BlobDirectory).EnumerateFiles()
            .Where(f => !f.Name.EndsWith(".tmp", StringComparison.Ordinal))
            .ToList();
        var total = blobs.Sum(f => f.Length);
        long freed = 0;
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var blob in blobs.OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal))
        {
            if (total - freed <= MaxBytes)
            {
                break;
            }

            if (inUse.Any(d => d.Hex == blob.Name))
            {
                continue;
            }

            try
            {
                blob.Delete();
                freed += blob.Length;
                removed.Add(blob.Name);
            }
            catch (IOException)
            {
                // Another build is reading it right now; it stays until the next prune.
            }
        }

        if (removed.Count > 0)
        {
            foreach (var keyFile in new DirectoryInfo(KeyDirectory).EnumerateFiles("*.json"))
            {
                if (TryReadKey(keyFile.FullName) is { } key && removed.Contains(key.Descriptor.Digest.Hex))
                {
                    keyFile.Delete();
                }
            }

            // A fingerprint whose key is gone only costs a re-hash, but would pile up.
            if (Directory.Exists(FingerprintDirectory))
            {
                foreach (var fingerprintFile in new DirectoryInfo(FingerprintDirectory).EnumerateFiles())
                {
                    try
                    {
                        if (!File.Exists(Path.Combine(KeyDirectory, File.ReadAllText(fingerprintFile.FullName) + ".json")))
                        {
                            fingerprintFile.Delete();
                        }
                    }
                    catch (IOException)
                    {
                        // Being written by another build; the next prune looks again.
                    }
                }
            }
        }

        return freed;
    }

    /// <summary>The total size of the cached blobs.</summary>
    public long SizeInBytes => new DirectoryInfo(BlobDirectory).EnumerateFiles().Sum(f => f.Length);

    // The content key, from the fingerprint index when the files' sizes and times are as recorded.
    private async Task<string> GetKeyAsync(LayerPlan plan, LayerWriteOptions options, CancellationToken cancellationToken)
    {
        var (fingerprint, racy) = ComputeFingerprint(plan, options);
        var fingerprintPath = Path.Combine(FingerprintDirectory, fingerprint);
        try
        {
            if (File.Exists(fingerprintPath) && File.ReadAllText(fingerprintPath) is { Length: 64 } recorded)
            {
                return recorded;
            }
        }
        catch (IOException)
        {
            // Unreadable: compute the key from the content.
        }

        var key = await ComputeKeyAsync(plan, options, cancellationToken).ConfigureAwait(false);
        if (!racy)
        {
            Directory.CreateDirectory(FingerprintDirectory);
            AtomicFile.Write(fingerprintPath, Encoding.ASCII.GetBytes(key));
        }

        return key;
    }

    // Like the key, but with each source file's path, size and modification time in place of its content.
    private static (string Fingerprint, bool Racy) ComputeFingerprint(LayerPlan plan, LayerWriteOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AddHeader(text => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n")), options);
        var racyAfter = DateTime.UtcNow - RacyWindow;
        var racy = false;
        foreach (var entry in plan.Entries)
        {
            var line = string.Join('\u0000', entry.Path, entry.Kind.ToString(), ((int)entry.Mode).ToString(CultureInfo.InvariantCulture), entry.LinkTarget ?? string.Empty);
            if (entry.SourcePath is not null)
            {
                var file = new FileInfo(entry.SourcePath);
                var modified = file.LastWriteTimeUtc;
                racy |= modified >= racyAfter;
                line += "\u0000" + Path.GetFullPath(entry.SourcePath) + "\u0000" + file.Length.ToString(CultureInfo.InvariantCulture) + "\u0000" + modified.Ticks.ToString(CultureInfo.InvariantCulture);
            }

            hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
        }

        return (Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant(), racy);
    }

    private static void AddHeader(Action<string> add, LayerWriteOptions options)
    {
        add("containers-sdk-layer-v1");
        add(WriterBuild);
        add(options.Compression.ToString());
        add(options.Format.ToString());
        add(options.GzipLevel.ToString());
        add(options.ZstdLevel.ToString(CultureInfo.InvariantCulture));
        add(options.OwnerUid.ToString(CultureInfo.InvariantCulture) + ":" + options.OwnerGid.ToString(CultureInfo.InvariantCulture));
        add(options.ResolveTimestamp().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

        // Files copied from packages are members of their own: the blob differs from one compressed here.
        add("deflated-from:" + string.Join(';', options.DeflatedFileSources?.ArchivePaths ?? []));
    }

    private static async Task<string> ComputeKeyAsync(LayerPlan plan, LayerWriteOptions options, CancellationToken cancellationToken)
    {
        using var key = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => key.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        AddHeader(Add, options);
        foreach (var entry in plan.Entries)
        {
            Add(string.Join('\u0000', entry.Path, entry.Kind.ToString(), ((int)entry.Mode).ToString(CultureInfo.InvariantCulture), entry.LinkTarget ?? string.Empty));
            if (entry.SourcePath is not null)
            {
                var content = new FileStream(entry.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using (content.ConfigureAwait(false))
                {
                    var hash = await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false);
                    key.AppendData(hash);
                }
            }
        }

        return Convert.ToHexString(key.GetHashAndReset()).ToLowerInvariant();
    }

    private static (Descriptor Descriptor, Digest DiffId)? TryReadKey(string keyPath)
    {
        try
        {
            if (!File.Exists(keyPath))
            {
                return null;
            }

            var key = JsonSerializer.Deserialize(File.ReadAllBytes(keyPath), BuildCacheJsonContext.Default.CachedLayerKey);
            return key is not null && Digest.TryParse(key.Digest, out var digest) && Digest.TryParse(key.DiffId, out var diffId)
                ? (new Descriptor { MediaType = key.MediaType, Digest = digest, Size = key.Size }, diffId)
                : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // A damaged key is only a cache miss.
            return null;
        }
    }

    private static void Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (IOException)
        {
            // Only the LRU order suffers.
        }
    }

}

/// <summary>A cached layer's record: its descriptor and diff ID, under its content key.</summary>
internal sealed record CachedLayerKey(string MediaType, string Digest, long Size, string DiffId);
