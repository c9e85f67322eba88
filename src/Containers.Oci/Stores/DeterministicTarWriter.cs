using System.Formats.Tar;

namespace Containers.Oci;

/// <summary>
/// Writes archive entries the same way every time: root ownership with no user names, fixed
/// modification time, 0644 files and 0755 directories, and each parent directory exactly once,
/// before its first child. Callers write entries in sorted order.
/// </summary>
internal sealed class DeterministicTarWriter : IAsyncDisposable
{
    private const long UstarMaxSize = 077777777777;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly TarWriter _writer;
    private readonly DateTimeOffset _modificationTime;
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);

    public DeterministicTarWriter(Stream destination, DateTimeOffset modificationTime)
    {
        _writer = new TarWriter(destination, TarEntryFormat.Ustar, leaveOpen: true);
        _modificationTime = modificationTime;
    }

    /// <summary>Writes a file entry whose data is <paramref name="data"/>, which must report its Length.</summary>
    public async Task WriteFileAsync(string name, Stream data, CancellationToken cancellationToken)
    {
        await WriteParentsAsync(name, cancellationToken).ConfigureAwait(false);
        var entry = CreateEntry(TarEntryType.RegularFile, name, data.Length);
        entry.Mode = FileMode;
        entry.DataStream = data;
        await _writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
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
                var entry = CreateEntry(TarEntryType.Directory, directory, 0);
                entry.Mode = DirectoryMode;
                await _writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private PosixTarEntry CreateEntry(TarEntryType type, string name, long size)
    {
        // ustar fits every name this library writes (sha256 blob paths); GNU headers carry the rest
        // (long sha512 paths, entries of 8 GiB and more) without PAX's time-dependent records.
        PosixTarEntry entry = name.Length <= 100 && size <= UstarMaxSize
            ? new UstarTarEntry(type, name)
            : new GnuTarEntry(type, name) { AccessTime = _modificationTime, ChangeTime = _modificationTime };
        entry.ModificationTime = _modificationTime;
        entry.Uid = 0;
        entry.Gid = 0;
        entry.UserName = string.Empty;
        entry.GroupName = string.Empty;
        return entry;
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
