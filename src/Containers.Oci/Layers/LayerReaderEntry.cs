using System.Formats.Tar;

namespace Containers.Oci.Layers;

/// <summary>One entry of a layer as read by <see cref="LayerReader"/>.</summary>
public sealed class LayerReaderEntry
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueWhiteoutName = ".wh..wh..opq";
    private readonly TarEntry _entry;

    internal LayerReaderEntry(TarEntry entry)
    {
        _entry = entry;
        Path = NormalizeName(entry.Name);
    }

    /// <summary>The name exactly as stored in the tar, such as <c>./app/</c> or <c>app/MyApp.dll</c>.</summary>
    public string Name => _entry.Name;

    /// <summary>The name without a leading <c>./</c> or <c>/</c> and without a trailing <c>/</c>: <c>app/MyApp.dll</c>.</summary>
    public string Path { get; }

    /// <summary>The tar entry type (regular file, directory, symbolic link, hard link, device...).</summary>
    public TarEntryType Type => _entry.EntryType;

    /// <summary>The permission bits.</summary>
    public UnixFileMode Mode => _entry.Mode;

    /// <summary>The owner's uid.</summary>
    public int Uid => _entry.Uid;

    /// <summary>The owner's gid.</summary>
    public int Gid => _entry.Gid;

    /// <summary>The owner's user name, usually empty in layers.</summary>
    public string UserName => (_entry as PosixTarEntry)?.UserName ?? string.Empty;

    /// <summary>The owner's group name, usually empty in layers.</summary>
    public string GroupName => (_entry as PosixTarEntry)?.GroupName ?? string.Empty;

    /// <summary>The size of the content in bytes (0 for anything but regular files).</summary>
    public long Size => _entry.Length;

    /// <summary>The modification time.</summary>
    public DateTimeOffset ModificationTime => _entry.ModificationTime;

    /// <summary>The target of a symbolic or hard link; empty otherwise.</summary>
    public string LinkTarget => _entry.LinkName;

    /// <summary>The tar format the entry was written in.</summary>
    public TarEntryFormat Format => _entry.Format;

    /// <summary>True for a whiteout (<c>.wh.name</c>), which deletes <c>name</c> from the layers below.</summary>
    public bool IsWhiteout => FileName.StartsWith(WhiteoutPrefix, StringComparison.Ordinal);

    /// <summary>True for an opaque whiteout (<c>.wh..wh..opq</c>), which hides the directory's content from the layers below.</summary>
    public bool IsOpaqueWhiteout => FileName == OpaqueWhiteoutName;

    /// <summary>The content of a regular file, readable until the next entry is read; null for other types.</summary>
    public Stream? Content => _entry.DataStream;

    private string FileName => Path[(Path.LastIndexOf('/') + 1)..];

    /// <inheritdoc/>
    public override string ToString() => $"{Type} {Path}";

    private static string NormalizeName(string name)
    {
        var path = name;
        while (path.StartsWith("./", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        return path.TrimStart('/').TrimEnd('/');
    }
}
