using Containers.Oci.Descriptors;

namespace Containers.Oci.Layers;

/// <summary>
/// Writes a <see cref="LayerPlan"/> as a deterministic tar, compressed, in one streaming pass that also
/// computes the diff id (sha256 of the tar) and the digest and size of the blob.
/// </summary>
/// <remarks>
/// The same plan and options give the same bytes whatever the host: entries in the plan's ordinal order
/// with every parent directory first, every mtime the resolved timestamp, uid/gid from the options, no user
/// or group names, no access or change times, modes from the plan. Entries are USTAR headers; an entry
/// that USTAR cannot hold (a name or link target over 100 bytes, a file of 8 GiB or more, a uid or gid over
/// 2097151) is written in GNU format (a <c>././@LongLink</c> record for long names). PAX is not used because
/// System.Formats.Tar names every PAX extended header <c>PaxHeaders.&lt;process id&gt;</c>, which would make
/// the bytes differ from run to run. The tar is written by <see cref="TarEntryWriter"/>, so the diff id is the
/// same on every .NET runtime. Gzip is compressed in fixed 256 KiB blocks on up to
/// <see cref="LayerWriteOptions.GzipThreads"/> threads and joined into one gzip stream (as pigz does), so its
/// bytes do not depend on the thread count; they are stable for a given .NET runtime (its zlib), and zstd output
/// for a given ZstdSharp version; the diff id depends on neither.
/// </remarks>
public static class LayerWriter
{
    /// <summary>The size of the buffers between the tar writer, the compressor and the destination.</summary>
    public const int BufferSize = 256 * 1024;

    /// <summary>Writes the layer to <paramref name="destination"/>, which is left open.</summary>
    /// <exception cref="InvalidLayerPathException">The plan has an entry below a file or a symlink.</exception>
    /// <exception cref="OciException">The options are invalid (for example zstd with the Docker format).</exception>
    public static async Task<LayerWriteResult> WriteAsync(LayerPlan plan, Stream destination, LayerWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= new LayerWriteOptions();
        options.Validate();
        var entries = plan.Entries;
        var timestamp = options.ResolveTimestamp();

        var blob = new HashingStream(destination, leaveOpen: true);
        var blobBuffer = new BufferedStream(blob, BufferSize);
        var compressor = CreateCompressor(blobBuffer, options);
        var tar = new HashingStream(compressor, leaveOpen: true);
        var tarBuffer = new BufferedStream(tar, BufferSize);
        var completed = false;
        try
        {
            var writer = new TarEntryWriter(tarBuffer);
            var sources = compressor is BlockGzipStream ? options.DeflatedFileSources : null;
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (sources is null || !await TryWriteCopiedFileAsync(writer, entry, sources, timestamp, options, tarBuffer, tar, (BlockGzipStream)compressor, cancellationToken).ConfigureAwait(false))
                {
                    await WriteEntryAsync(writer, entry, timestamp, options, cancellationToken).ConfigureAwait(false);
                }
            }

            await writer.WriteEndAsync(cancellationToken).ConfigureAwait(false);

            await tarBuffer.FlushAsync(cancellationToken).ConfigureAwait(false);
            var diffId = tar.GetDigest();
            var uncompressedSize = tar.BytesHashed;
            await tarBuffer.DisposeAsync().ConfigureAwait(false);

            if (compressor is BlockGzipStream gzip)
            {
                // Writes the last blocks and the gzip trailer (CRC-32 and size).
                await gzip.FinishAsync(cancellationToken).ConfigureAwait(false);
                await gzip.DisposeAsync().ConfigureAwait(false);
            }
            else if (!ReferenceEquals(compressor, blobBuffer))
            {
                // Disposing the compressor writes its trailer (gzip CRC and size, zstd end of frame).
                await compressor.DisposeAsync().ConfigureAwait(false);
            }

            await blobBuffer.FlushAsync(cancellationToken).ConfigureAwait(false);
            var descriptor = new Descriptor { MediaType = options.MediaType, Digest = blob.GetDigest(), Size = blob.BytesHashed };
            await blobBuffer.DisposeAsync().ConfigureAwait(false);
            completed = true;
            return new LayerWriteResult(descriptor, diffId, uncompressedSize);
        }
        finally
        {
            if (!completed)
            {
                // After a failure the streams are only released; flushing half a layer into the destination helps no one.
                tar.Dispose();
                (compressor as ZstdSharp.CompressionStream)?.Dispose();
                (compressor as BlockGzipStream)?.Dispose();
                blob.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes the layer into <paramref name="directory"/> as a file named by the blob digest's hex (the layout
    /// of an OCI <c>blobs/sha256</c> folder) and returns it as a layer. The file appears atomically: the
    /// bytes go to a temporary file in the same directory that is renamed when complete.
    /// </summary>
    public static async Task<StoredLayer> WriteToDirectoryAsync(LayerPlan plan, string directory, LayerWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var temporaryPath = Path.Combine(directory, ".layer-" + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            LayerWriteResult result;
            var file = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                result = await WriteAsync(plan, file, options, cancellationToken).ConfigureAwait(false);
            }

            var finalPath = Path.Combine(directory, result.Descriptor.Digest.Hex);
            File.Move(temporaryPath, finalPath, overwrite: true);
            return StoredLayer.FromFile(result.Descriptor, result.DiffId, finalPath);
        }
        finally
        {
            File.Delete(temporaryPath);
        }
    }

    private static Stream CreateCompressor(Stream output, LayerWriteOptions options) => options.Compression switch
    {
        LayerCompression.None => output,
        LayerCompression.Gzip => new BlockGzipStream(output, options.GzipLevel, options.GzipThreads),
        LayerCompression.Zstd => CreateZstdCompressor(output, options),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Compression, "Unknown layer compression."),
    };

    private static ZstdSharp.CompressionStream CreateZstdCompressor(Stream output, LayerWriteOptions options)
    {
        var zstd = new ZstdSharp.CompressionStream(output, options.ZstdLevel, BufferSize, leaveOpen: true);

        // Always at least one worker: zstd's single-threaded mode (0 workers) frames the output differently,
        // while every worker count from 1 up produces identical bytes, and a worker overlaps compression with
        // reading the files even on one core.
        zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_nbWorkers, options.ZstdThreads);
        return zstd;
    }

    private static async Task WriteEntryAsync(TarEntryWriter writer, LayerEntry entry, DateTimeOffset timestamp, LayerWriteOptions options, CancellationToken cancellationToken)
    {
        FileStream? content = null;
        try
        {
            var (kind, name, size) = entry.Kind switch
            {
                LayerEntryKind.Directory => (TarEntryKind.Directory, entry.Path + "/", 0L),
                LayerEntryKind.Symlink => (TarEntryKind.Symlink, entry.Path, 0L),
                _ => (TarEntryKind.File, entry.Path, OpenContent(entry, out content)),
            };

            try
            {
                await writer.WriteEntryAsync(kind, name, entry.LinkTarget, (int)entry.Mode, options.OwnerUid, options.OwnerGid, timestamp.ToUnixTimeSeconds(), content, size, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException)
            {
                throw ChangedSize(entry);
            }

            if (content is not null && content.Length != size)
            {
                throw ChangedSize(entry);
            }
        }
        finally
        {
            if (content is not null)
            {
                await content.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Files smaller than this are compressed with their neighbours: a member of their own would cost more ratio than time saved.</summary>
    internal const int MinCopiedFileLength = 32 * 1024;

    // A file an archive has deflated already goes into the stream as its own gzip member with that data (the gzip
    // stream checks it inflates to the file's bytes). False, having written nothing, when no archive has a file of
    // that name and size; the file's CRC-32 decides among those that have.
    private static async Task<bool> TryWriteCopiedFileAsync(TarEntryWriter writer, LayerEntry entry, DeflatedFileSources sources, DateTimeOffset timestamp, LayerWriteOptions options, BufferedStream tarBuffer, HashingStream tar, BlockGzipStream gzip, CancellationToken cancellationToken)
    {
        if (entry.Kind != LayerEntryKind.File)
        {
            return false;
        }

        var fileName = Path.GetFileName(entry.SourcePath!);
        var length = new FileInfo(entry.SourcePath!) is { Exists: true } info ? info.Length : -1;
        if (length < MinCopiedFileLength || length > ZipDeflatedEntry.MaxLength || !sources.MayHave(fileName, length))
        {
            return false;
        }

        await writer.WriteFileHeaderAsync(entry.Path, (int)entry.Mode, options.OwnerUid, options.OwnerGid, timestamp.ToUnixTimeSeconds(), length, cancellationToken).ConfigureAwait(false);

        // Everything before the file goes to the compressor first. The file's bytes count for the diff id as they are
        // read; whether the compressor gets a copy or the bytes themselves depends on their CRC-32.
        await tarBuffer.FlushAsync(cancellationToken).ConfigureAwait(false);
        var crc = await ReadFileAsync(entry, length, chunk => HashOnly(tar, chunk), cancellationToken).ConfigureAwait(false);
        if (sources.TryFind(fileName, length, crc) is { } archived)
        {
            await gzip.WriteCopyAsync(new DeflatedCopy(entry.SourcePath!, length, crc, archived, sources), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // No archive has these bytes after all: the compressor gets them, read again, and they must be the same.
            var again = await ReadFileAsync(entry, length, chunk => gzip.WriteAsync(chunk, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (again != crc)
            {
                throw ChangedContent(entry);
            }
        }

        await writer.PadAsync(length, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static ValueTask HashOnly(HashingStream tar, ReadOnlyMemory<byte> chunk)
    {
        tar.HashWithoutWriting(chunk.Span);
        return ValueTask.CompletedTask;
    }

    // Reads the whole file, giving each chunk to take; returns the CRC-32 of its bytes.
    private static async Task<uint> ReadFileAsync(LayerEntry entry, long length, Func<ReadOnlyMemory<byte>, ValueTask> take, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var crc = new System.IO.Hashing.Crc32();
            OpenContent(entry, out var file);
            await using (file.ConfigureAwait(false))
            {
                long total = 0;
                for (int read; (read = await file.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0; total += read)
                {
                    if (total + read > length)
                    {
                        throw ChangedSize(entry);
                    }

                    crc.Append(buffer.AsSpan(0, read));
                    await take(buffer.AsMemory(0, read)).ConfigureAwait(false);
                }

                if (total != length)
                {
                    throw ChangedSize(entry);
                }
            }

            return crc.GetCurrentHashAsUInt32();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static OciException ChangedContent(LayerEntry entry) =>
        new($"'{entry.SourcePath}' changed while it was written to the layer at '{entry.Path}'; build the layer when the files are no longer being written.");

    private static OciException ChangedSize(LayerEntry entry) =>
        new($"'{entry.SourcePath}' changed size while it was written to the layer at '{entry.Path}'; build the layer when the files are no longer being written.");

    private static long OpenContent(LayerEntry entry, out FileStream content)
    {
        try
        {
            content = new FileStream(entry.SourcePath!, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new OciException($"Cannot read '{entry.SourcePath}' for the layer entry '{entry.Path}': {exception.Message}", exception);
        }

        return content.Length;
    }
}
