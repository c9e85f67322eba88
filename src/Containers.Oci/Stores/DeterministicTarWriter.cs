using Containers.Oci.Layers;

namespace Containers.Oci.Stores;

/// <summary>
/// Writes archive entries the same way every time: root ownership with no user names, fixed
/// modification time, 0644 files and 0755 directories, and each parent directory exactly once,
/// before its first child. Callers write entries in sorted order.
/// </summary>
internal sealed class DeterministicTarWriter : IAsyncDisposable
{
    private const int FileMode = 0b110_100_100;
    private const int DirectoryMode = 0b111_101_101;

    // ustar fits every name this library writes (sha256 blob paths); GNU headers carry the rest (long sha512
    // paths, entries of 8 GiB and more) without PAX's time-dependent records, their access and change times
    // being the modification time.
    private readonly TarEntryWriter _writer;
    private readonly long _modificationTime;
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);

    public DeterministicTarWriter(Stream destination, DateTimeOffset modificationTime)
    {
        _writer = new TarEntryWriter(destination, gnuEntriesCarryAccessAndChangeTimes: true);
        _modificationTime = modificationTime.ToUnixTimeSeconds();
    }

    /// <summary>Writes a file entry whose data is <paramref name="data"/>, which must report its Length.</summary>
    public async Task WriteFileAsync(string name, Stream data, CancellationToken cancellationToken)
    {
        await WriteParentsAsync(name, cancellationToken).ConfigureAwait(false);
        await _writer.WriteEntryAsync(TarEntryKind.File, name, linkTarget: null, FileMode, uid: 0, gid: 0, _modificationTime, data, data.Length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a file entry holding <paramref name="content"/>.</summary>
    public async Task WriteFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var stream = new MemoryStream(content.ToArray(), writable: false);
        await using (stream.ConfigureAwait(false))
        {
            await WriteFileAsync(name, stream, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WriteParentsAsync(string name, CancellationToken cancellationToken)
    {
        for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = name.IndexOf('/', slash + 1))
        {
            var directory = name[..(slash + 1)];
            if (_directories.Add(directory))
            {
                await _writer.WriteEntryAsync(TarEntryKind.Directory, directory, linkTarget: null, DirectoryMode, uid: 0, gid: 0, _modificationTime, content: null, size: 0, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Ends the archive.</summary>
    public async ValueTask DisposeAsync() => await _writer.WriteEndAsync(CancellationToken.None).ConfigureAwait(false);
}
