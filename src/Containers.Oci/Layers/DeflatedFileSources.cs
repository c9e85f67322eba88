using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Containers.Oci.Layers;

/// <summary>
/// Zip archives (NuGet packages, most often) whose deflated entries a gzip layer copies for files with the same
/// bytes, instead of compressing those bytes again. A self-contained app's publish directory is mostly the runtime
/// packs' files, and each is already deflated in its <c>.nupkg</c>.
/// </summary>
/// <remarks>
/// A file is copied only when an entry has its name, its size and its CRC-32, and only once the entry's deflate data,
/// framed as a gzip member, inflates to exactly the file's bytes (checked on the compressing threads); otherwise the
/// file is compressed as usual. docs/layers.md, "Deflate data copied from packages", says how the stream is formed.
/// An archive that cannot be read, or is not a zip, is passed over: the sources only ever save work.
/// One instance may serve every layer of a publish, on any number of threads; each archive's directory is read once.
/// </remarks>
public sealed class DeflatedFileSources
{
    private readonly Lazy<Dictionary<(string Name, long Length), List<ZipDeflatedEntry>>> _index;
    private readonly ConcurrentQueue<string> _rejectedFiles = new();
    private int _copiedFileCount;
    private long _copiedBytes;

    /// <summary>Sources from <paramref name="archivePaths"/>, read when the first layer needs them.</summary>
    public DeflatedFileSources(IEnumerable<string> archivePaths)
    {
        ArgumentNullException.ThrowIfNull(archivePaths);
        ArchivePaths = archivePaths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToArray();
        _index = new(BuildIndex, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The zip archives, full paths, in the order given (duplicates removed).</summary>
    public IReadOnlyList<string> ArchivePaths { get; }

    /// <summary>How many files the layers written with these sources have copied so far.</summary>
    public int CopiedFileCount => Volatile.Read(ref _copiedFileCount);

    /// <summary>The uncompressed bytes of those files.</summary>
    public long CopiedBytes => Interlocked.Read(ref _copiedBytes);

    /// <summary>
    /// Files an archive entry matched by name, size and CRC-32 but whose data did not inflate to their bytes (a damaged
    /// archive); each was compressed instead.
    /// </summary>
    public IReadOnlyCollection<string> RejectedFiles => _rejectedFiles.ToArray();

    /// <summary>Counts a copy the gzip stream checked: copied, or compressed instead.</summary>
    internal void Record(string filePath, long length, bool copied)
    {
        if (copied)
        {
            Interlocked.Increment(ref _copiedFileCount);
            Interlocked.Add(ref _copiedBytes, length);
        }
        else
        {
            _rejectedFiles.Enqueue(filePath);
        }
    }

    /// <summary>Whether some archive has a deflated entry named <paramref name="fileName"/> with <paramref name="length"/> bytes.</summary>
    internal bool MayHave(string fileName, long length) => _index.Value.ContainsKey((fileName, length));

    /// <summary>A deflated entry named <paramref name="fileName"/> whose size and CRC-32 are the file's, or null when no archive has one.</summary>
    internal ZipDeflatedEntry? TryFind(string fileName, long length, uint crc) =>
        _index.Value.TryGetValue((fileName, length), out var entries) ? entries.FirstOrDefault(e => e.Crc32 == crc) : null;

    private Dictionary<(string Name, long Length), List<ZipDeflatedEntry>> BuildIndex()
    {
        var index = new Dictionary<(string Name, long Length), List<ZipDeflatedEntry>>();
        foreach (var archive in ArchivePaths)
        {
            foreach (var entry in ZipDeflatedEntry.ReadDirectory(archive))
            {
                var key = (entry.FileName, entry.Length);
                if (!index.TryGetValue(key, out var list))
                {
                    index[key] = list = [];
                }

                list.Add(entry);
            }
        }

        return index;
    }
}

/// <summary>
/// A deflated entry of a zip archive, from its central directory: where its data starts (through its local header),
/// how long it is, and the size and CRC-32 of what it inflates to.
/// </summary>
internal sealed record ZipDeflatedEntry(string ArchivePath, string FileName, long LocalHeaderOffset, long CompressedLength, long Length, uint Crc32)
{
    private const uint EndOfCentralDirectorySignature = 0x06054b50;
    private const uint CentralDirectorySignature = 0x02014b50;
    private const uint LocalHeaderSignature = 0x04034b50;
    private const int EndOfCentralDirectoryLength = 22;
    private const ushort Deflate = 8;

    /// <summary>Entries bigger than this are not copied: a check that fails compresses the file in memory.</summary>
    public const long MaxLength = 64L * 1024 * 1024;

    /// <summary>
    /// The archive's deflated, unencrypted entries of 1 byte to <see cref="MaxLength"/>, by the last segment of their
    /// names (unescaped as NuGet escapes them); nothing for an archive that cannot be read or is not a zip (zip64 included).
    /// </summary>
    public static List<ZipDeflatedEntry> ReadDirectory(string archivePath)
    {
        var entries = new List<ZipDeflatedEntry>();
        try
        {
            using var file = File.OpenHandle(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read);
            var fileLength = RandomAccess.GetLength(file);
            if (fileLength < EndOfCentralDirectoryLength)
            {
                return entries;
            }

            // The end record is the last 22 bytes, unless the archive has a comment (up to 64 KiB) after it.
            var tail = new byte[(int)Math.Min(fileLength, EndOfCentralDirectoryLength + ushort.MaxValue)];
            RandomAccess.Read(file, tail, fileLength - tail.Length);
            var end = -1;
            for (var i = tail.Length - EndOfCentralDirectoryLength; i >= 0; i--)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndOfCentralDirectorySignature)
                {
                    end = i;
                    break;
                }
            }

            if (end < 0)
            {
                return entries;
            }

            var record = tail.AsSpan(end);
            var count = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
            var directoryLength = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
            var directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
            if (count == ushort.MaxValue || directoryOffset == uint.MaxValue || directoryOffset + (long)directoryLength > fileLength)
            {
                return entries; // zip64, or not a zip after all
            }

            var directory = new byte[directoryLength];
            RandomAccess.Read(file, directory, directoryOffset);
            var position = 0;
            for (var i = 0; i < count && position + 46 <= directory.Length; i++)
            {
                var header = directory.AsSpan(position);
                if (BinaryPrimitives.ReadUInt32LittleEndian(header) != CentralDirectorySignature)
                {
                    break;
                }

                var flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
                var method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
                var compressedLength = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
                var length = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
                var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
                var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
                var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
                var localHeaderOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
                if (position + 46 + nameLength > directory.Length)
                {
                    break;
                }

                var name = System.Text.Encoding.UTF8.GetString(header.Slice(46, nameLength));
                position += 46 + nameLength + extraLength + commentLength;
                var encrypted = (flags & 1) != 0;
                if (encrypted || method != Deflate || length == 0 || length > MaxLength || compressedLength == uint.MaxValue || localHeaderOffset == uint.MaxValue || name.EndsWith('/'))
                {
                    continue;
                }

                entries.Add(new ZipDeflatedEntry(archivePath, Uri.UnescapeDataString(name[(name.LastIndexOf('/') + 1)..]), localHeaderOffset, compressedLength, length, crc));
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            entries.Clear();
        }

        return entries;
    }

    /// <summary>Where the entry's deflate data starts in the archive open as <paramref name="archive"/>, from its local header; null when that is not a local header.</summary>
    public long? TryGetDataOffset(SafeFileHandle archive)
    {
        Span<byte> local = stackalloc byte[30];
        if (RandomAccess.Read(archive, local, LocalHeaderOffset) != local.Length
            || BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalHeaderSignature)
        {
            return null;
        }

        return LocalHeaderOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(local[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
    }
}
