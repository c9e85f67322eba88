namespace Containers.Oci.Stores;

/// <summary>Writing archives to a file: to a temporary file next to it, renamed into place only when complete.</summary>
internal static class ArchiveFiles
{
    /// <summary>The entry time used when the caller gives none: the Unix epoch, so output depends on content only.</summary>
    public static DateTimeOffset DefaultEntryTime => DateTimeOffset.UnixEpoch;

    /// <summary>True for a name that promises gzip: <c>.tar.gz</c>, <c>.tgz</c>, <c>.gz</c>.</summary>
    public static bool NamesGzip(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    public static async Task WriteAtomicallyAsync(string path, string formatName, Func<Stream, Task> write, CancellationToken cancellationToken, bool gzip = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                if (gzip)
                {
                    var compressed = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true);
                    await using (compressed.ConfigureAwait(false))
                    {
                        await write(compressed).ConfigureAwait(false);
                    }
                }
                else
                {
                    await write(file).ConfigureAwait(false);
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new ImageStoreException(full, $"Cannot write the {formatName} {full}: {ex.Message} Check that the directory is writable and the disk is not full.", ex);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort; the temporary name starts with a dot and ends in .tmp so it is recognizable.
        }
    }
}
