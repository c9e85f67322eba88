using System.Formats.Tar;

namespace Containers.Oci.Stores;

/// <summary>
/// The regular-file entries of a tar file and where their data lies, read once (headers only; data is
/// skipped by seeking) so that entries can then be opened directly, any number of times.
/// </summary>
internal sealed class TarFileIndex
{
    private const int BlockSize = 512;
    private readonly Dictionary<string, (long Offset, long Length)> _entries;

    private TarFileIndex(string path, Dictionary<string, (long Offset, long Length)> entries)
    {
        FilePath = path;
        _entries = entries;
    }

    public string FilePath { get; }

    public IEnumerable<string> Names => _entries.Keys;

    public static async Task<TarFileIndex> LoadAsync(string path, string formatName, CancellationToken cancellationToken)
    {
        path = await UncompressedAsync(path, formatName, cancellationToken).ConfigureAwait(false);
        var entries = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        FileStream file;
        try
        {
            file = OpenFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageStoreException(path, $"Cannot open the {formatName} '{path}': {ex.Message}", ex);
        }

        await using (file.ConfigureAwait(false))
        {
            try
            {
                var reader = new TarReader(file, leaveOpen: true);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                    {
                        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                        {
                            continue;
                        }

                        // The reader has skipped the data (and maybe its padding); data starts on a block boundary.
                        var offset = (file.Position - entry.Length) / BlockSize * BlockSize;
                        entries[Normalize(entry.Name)] = (offset, entry.Length);
                    }
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw new ImageStoreException(path, $"'{path}' is not a valid tar file, so it cannot be a {formatName}: {ex.Message}", ex);
            }
        }

        return new TarFileIndex(path, entries);
    }

    public bool TryGetLength(string name, out long length)
    {
        var found = _entries.TryGetValue(Normalize(name), out var entry);
        length = entry.Length;
        return found;
    }

    public bool Contains(string name) => _entries.ContainsKey(Normalize(name));

    /// <summary>Opens the data of entry <paramref name="name"/>.</summary>
    public Stream Open(string name)
    {
        if (!_entries.TryGetValue(Normalize(name), out var entry))
        {
            throw new ImageStoreException(FilePath, $"The archive '{FilePath}' has no entry '{name}'.");
        }

        return new BoundedReadStream(OpenFile(FilePath), entry.Offset, entry.Length);
    }

    /// <summary>Reads a small entry (JSON documents) fully.</summary>
    public async Task<byte[]> ReadAllAsync(string name, long maxBytes, CancellationToken cancellationToken)
    {
        if (!TryGetLength(name, out var length))
        {
            throw new ImageStoreException(FilePath, $"The archive '{FilePath}' has no entry '{name}'.");
        }

        if (length > maxBytes)
        {
            throw new ImageStoreException(FilePath, $"The entry '{name}' of '{FilePath}' is {length} bytes; a JSON document here is expected to be at most {maxBytes} bytes.");
        }

        var bytes = new byte[length];
        var stream = Open(name);
        await using (stream.ConfigureAwait(false))
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        return bytes;
    }

    // Entries are read by offset, which a gzip stream cannot do: a gzip-compressed archive (app.tar.gz) is read from an
    // uncompressed copy in the temporary directory, made once per archive content (path, size and time) and reused.
    private static async Task<string> UncompressedAsync(string path, string formatName, CancellationToken cancellationToken)
    {
        var magic = new byte[2];
        try
        {
            using var probe = OpenFile(path);
            if (await probe.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
            {
                return path;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reported by the caller when it opens the file.
            return path;
        }

        var info = new FileInfo(path);
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}")))[..32].ToLowerInvariant();
        var directory = Path.Combine(Path.GetTempPath(), "containers-sdk-gunzip");
        var copy = Path.Combine(directory, key + ".tar");
        if (File.Exists(copy))
        {
            return copy;
        }

        try
        {
            Directory.CreateDirectory(directory);
            var temporary = copy + "." + Guid.NewGuid().ToString("N") + ".tmp";
            var source = OpenFile(path);
            await using (source.ConfigureAwait(false))
            {
                var gzip = new System.IO.Compression.GZipStream(source, System.IO.Compression.CompressionMode.Decompress);
                var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
                await using (gzip.ConfigureAwait(false))
                await using (target.ConfigureAwait(false))
                {
                    await gzip.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
                }
            }

            File.Move(temporary, copy, overwrite: true);
            return copy;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new ImageStoreException(path, $"Cannot decompress the gzip-compressed {formatName} '{path}' into {directory}: {ex.Message}", ex);
        }
    }

    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);

    private static string Normalize(string name)
    {
        var trimmed = name.Replace('\\', '/');
        while (trimmed.StartsWith("./", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }

        return trimmed.TrimStart('/');
    }
}
