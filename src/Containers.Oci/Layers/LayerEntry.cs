namespace Containers.Oci.Layers;

/// <summary>What a <see cref="LayerEntry"/> puts into the layer.</summary>
public enum LayerEntryKind
{
    /// <summary>A directory.</summary>
    Directory,
    /// <summary>A regular file whose content is read from a host file when the layer is written.</summary>
    File,
    /// <summary>A symbolic link; its target is stored as given.</summary>
    Symlink,
}

/// <summary>
/// One entry of a <see cref="LayerPlan"/>: a path inside the image, what it is, and its permission bits.
/// A plan of entries is a value: it can be printed and compared without reading any file content.
/// </summary>
/// <remarks>
/// <see cref="Path"/> is the tar name without a leading or trailing slash (<c>app/MyApp.dll</c>), made of
/// segments that are neither empty, <c>.</c> nor <c>..</c>. Use the factory methods; they normalize a
/// container path such as <c>/app/MyApp.dll</c> and reject anything that could escape the root.
/// </remarks>
public sealed record LayerEntry
{
    /// <summary>Permission bits of directories: rwxr-xr-x.</summary>
    public const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101;

    /// <summary>Permission bits of regular files: rw-r--r--.</summary>
    public const UnixFileMode FileMode = (UnixFileMode)0b110_100_100;

    /// <summary>Permission bits of executable files: rwxr-xr-x.</summary>
    public const UnixFileMode ExecutableMode = (UnixFileMode)0b111_101_101;

    /// <summary>Permission bits of symbolic links: rwxrwxrwx (links have no permissions of their own).</summary>
    public const UnixFileMode SymlinkMode = (UnixFileMode)0b111_111_111;

    private LayerEntry(string path, LayerEntryKind kind, UnixFileMode mode, string? sourcePath, string? linkTarget)
    {
        Path = path;
        Kind = kind;
        Mode = mode;
        SourcePath = sourcePath;
        LinkTarget = linkTarget;
    }

    /// <summary>The path inside the image, relative to its root: <c>app/MyApp.dll</c>.</summary>
    public string Path { get; }

    /// <summary>What the entry is.</summary>
    public LayerEntryKind Kind { get; }

    /// <summary>The permission bits written to the tar header (file type bits excluded).</summary>
    public UnixFileMode Mode { get; }

    /// <summary>The host file the content is read from; only for <see cref="LayerEntryKind.File"/>.</summary>
    public string? SourcePath { get; }

    /// <summary>The link target, stored as given (relative or absolute); only for <see cref="LayerEntryKind.Symlink"/>.</summary>
    public string? LinkTarget { get; }

    /// <summary>A regular file at <paramref name="containerPath"/> whose content comes from <paramref name="sourcePath"/>.</summary>
    /// <param name="containerPath">The path in the image, such as <c>/app/MyApp.dll</c>.</param>
    /// <param name="sourcePath">The host file; it is read only when the layer is written.</param>
    /// <param name="mode">The permission bits; <see cref="FileMode"/> when omitted.</param>
    /// <exception cref="InvalidLayerPathException"><paramref name="containerPath"/> is empty, the root, or contains <c>..</c>.</exception>
    public static LayerEntry File(string containerPath, string sourcePath, UnixFileMode mode = FileMode)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        return new(LayerPaths.NormalizeEntryPath(containerPath), LayerEntryKind.File, CheckMode(mode, containerPath), System.IO.Path.GetFullPath(sourcePath), null);
    }

    /// <summary>A directory at <paramref name="containerPath"/>.</summary>
    /// <exception cref="InvalidLayerPathException"><paramref name="containerPath"/> is empty, the root, or contains <c>..</c>.</exception>
    public static LayerEntry Directory(string containerPath, UnixFileMode mode = DirectoryMode) =>
        new(LayerPaths.NormalizeEntryPath(containerPath), LayerEntryKind.Directory, CheckMode(mode, containerPath), null, null);

    /// <summary>A symbolic link at <paramref name="containerPath"/> pointing at <paramref name="target"/> (kept as given).</summary>
    /// <exception cref="InvalidLayerPathException"><paramref name="containerPath"/> is empty, the root, or contains <c>..</c>.</exception>
    public static LayerEntry Symlink(string containerPath, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        if (target.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidLayerPathException(containerPath, "its link target contains a NUL character, which tar cannot store");
        }

        return new(LayerPaths.NormalizeEntryPath(containerPath), LayerEntryKind.Symlink, SymlinkMode, null, target);
    }

    /// <summary>The same entry with other permission bits (ignored for symlinks, which are always rwxrwxrwx).</summary>
    public LayerEntry WithMode(UnixFileMode mode) =>
        Kind == LayerEntryKind.Symlink ? this : new(Path, Kind, CheckMode(mode, Path), SourcePath, LinkTarget);

    /// <summary>One line in the style of <c>ls -l</c>: <c>-rwxr-xr-x app/MyApp &lt;- /host/publish/MyApp</c>.</summary>
    public override string ToString() => Kind switch
    {
        LayerEntryKind.Directory => $"d{FormatMode(Mode)} {Path}/",
        LayerEntryKind.Symlink => $"l{FormatMode(Mode)} {Path} -> {LinkTarget}",
        _ => $"-{FormatMode(Mode)} {Path} <- {SourcePath}",
    };

    private static UnixFileMode CheckMode(UnixFileMode mode, string path)
    {
        const int allPermissionBits = 0b111_111_111_111;
        if (((int)mode & ~allPermissionBits) != 0)
        {
            throw new InvalidLayerPathException(path, $"its mode 0{Convert.ToString((int)mode, 8)} has bits outside the permission bits (07777)");
        }

        return mode;
    }

    private static string FormatMode(UnixFileMode mode)
    {
        Span<char> text = stackalloc char[9];
        const string letters = "rwxrwxrwx";
        for (var i = 0; i < 9; i++)
        {
            text[i] = ((int)mode & (1 << (8 - i))) != 0 ? letters[i] : '-';
        }

        if ((mode & UnixFileMode.SetUser) != 0) text[2] = text[2] == 'x' ? 's' : 'S';
        if ((mode & UnixFileMode.SetGroup) != 0) text[5] = text[5] == 'x' ? 's' : 'S';
        if ((mode & UnixFileMode.StickyBit) != 0) text[8] = text[8] == 'x' ? 't' : 'T';
        return new string(text);
    }
}
