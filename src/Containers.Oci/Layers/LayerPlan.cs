using System.Collections.Immutable;
using System.Text;

namespace Containers.Oci.Layers;

/// <summary>
/// An immutable plan of what goes into one layer. Adding returns a new plan; the plan reads only file
/// metadata (type and executable bits), never content, so it can be printed, compared and tested cheaply.
/// </summary>
/// <example>
/// <code>
/// var plan = LayerPlan.Empty
///     .AddDirectoryTree("/home/me/MyApp/bin/publish", "/app")
///     .AddSymlink("/usr/local/bin/myapp", "/app/MyApp");
/// var layer = await LayerWriter.WriteToDirectoryAsync(plan, "/tmp/blobs", new LayerWriteOptions { Compression = LayerCompression.Zstd });
/// </code>
/// </example>
/// <remarks>
/// A later addition at the same path replaces the earlier one (like a later COPY). <see cref="Entries"/>
/// lists every entry sorted ordinally by path, with every parent directory present exactly once; parents
/// that were not added explicitly get <see cref="LayerEntry.DirectoryMode"/>.
/// </remarks>
public sealed class LayerPlan : IEquatable<LayerPlan>
{
    private readonly ImmutableDictionary<string, LayerEntry> _byPath;
    private readonly Lazy<ImmutableArray<LayerEntry>> _entries;

    private LayerPlan(ImmutableDictionary<string, LayerEntry> byPath)
    {
        _byPath = byPath;
        _entries = new Lazy<ImmutableArray<LayerEntry>>(() => Complete(byPath));
    }

    /// <summary>A plan with no entries; it writes an empty tar.</summary>
    public static LayerPlan Empty { get; } = new(ImmutableDictionary.Create<string, LayerEntry>(StringComparer.Ordinal));

    /// <summary>Every entry of the layer, parents included, sorted ordinally by path.</summary>
    /// <exception cref="InvalidLayerPathException">An entry lies below a path that is a file or a symlink.</exception>
    public ImmutableArray<LayerEntry> Entries => _entries.Value;

    /// <summary>Adds <paramref name="entry"/>, replacing any entry at the same path.</summary>
    public LayerPlan Add(LayerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new(_byPath.SetItem(entry.Path, entry));
    }

    /// <summary>Adds <paramref name="entries"/> in order; later ones replace earlier ones at the same path.</summary>
    public LayerPlan AddRange(IEnumerable<LayerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var builder = _byPath.ToBuilder();
        foreach (var entry in entries)
        {
            builder[entry.Path] = entry;
        }

        return new(builder.ToImmutable());
    }

    /// <summary>
    /// Adds everything below the host directory <paramref name="sourceDirectory"/> at
    /// <paramref name="containerDirectory"/> (for example <c>/app</c>; <c>/</c> for the root). Symbolic links are
    /// kept as links and not followed; hard links become regular files; empty directories are kept.
    /// </summary>
    /// <remarks>
    /// A file is executable (<see cref="LayerEntry.ExecutableMode"/>) when, on Unix, its host mode has any
    /// execute bit; on Windows, which has no execute bits, when it starts with an ELF header or <c>#!</c>.
    /// Every other file gets <see cref="LayerEntry.FileMode"/> and every directory
    /// <see cref="LayerEntry.DirectoryMode"/>, whatever the host says, so that the layer does not depend on
    /// the umask or the file system it was built on. Add a file again with <see cref="AddFile"/> to override.
    /// </remarks>
    /// <exception cref="DirectoryNotFoundException"><paramref name="sourceDirectory"/> does not exist.</exception>
    public LayerPlan AddDirectoryTree(string sourceDirectory, string containerDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceDirectory);
        var root = new DirectoryInfo(Path.GetFullPath(sourceDirectory));
        if (!root.Exists)
        {
            throw new DirectoryNotFoundException($"The directory '{root.FullName}' to add to the layer at '{containerDirectory}' does not exist.");
        }

        var target = LayerPaths.NormalizeContainerPath(containerDirectory);
        var builder = _byPath.ToBuilder();
        if (target.Length > 0)
        {
            builder[target] = LayerEntry.Directory(target);
        }

        AddTree(root, target, builder);
        return new(builder.ToImmutable());
    }

    /// <summary>Adds the host file <paramref name="sourceFile"/> at <paramref name="containerPath"/>.</summary>
    /// <param name="sourceFile">The host file.</param>
    /// <param name="containerPath">The path in the image, such as <c>/app/appsettings.json</c>.</param>
    /// <param name="mode">Permission bits; when null, chosen as <see cref="AddDirectoryTree"/> describes.</param>
    /// <exception cref="FileNotFoundException"><paramref name="sourceFile"/> does not exist.</exception>
    public LayerPlan AddFile(string sourceFile, string containerPath, UnixFileMode? mode = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceFile);
        var file = new FileInfo(Path.GetFullPath(sourceFile));
        if (!file.Exists)
        {
            throw new FileNotFoundException($"The file '{file.FullName}' to add to the layer at '{containerPath}' does not exist.", file.FullName);
        }

        return Add(LayerEntry.File(containerPath, file.FullName, mode ?? DetectMode(file)));
    }

    /// <summary>Adds a symbolic link at <paramref name="containerPath"/> to <paramref name="target"/>, stored as given.</summary>
    public LayerPlan AddSymlink(string containerPath, string target) => Add(LayerEntry.Symlink(containerPath, target));

    /// <summary>Adds a directory at <paramref name="containerPath"/> (parents are added implicitly).</summary>
    public LayerPlan AddDirectory(string containerPath, UnixFileMode mode = LayerEntry.DirectoryMode) =>
        Add(LayerEntry.Directory(containerPath, mode));

    /// <summary>True when both plans have the same <see cref="Entries"/>.</summary>
    public bool Equals(LayerPlan? other) =>
        other is not null && (ReferenceEquals(this, other) || Entries.SequenceEqual(other.Entries));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as LayerPlan);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var entry in Entries)
        {
            hash.Add(entry);
        }

        return hash.ToHashCode();
    }

    /// <summary>One line per entry, in layer order.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var entry in Entries)
        {
            text.Append(entry).Append('\n');
        }

        return text.ToString();
    }

    private static void AddTree(DirectoryInfo directory, string containerDirectory, ImmutableDictionary<string, LayerEntry>.Builder builder)
    {
        foreach (var item in directory.EnumerateFileSystemInfos())
        {
            var path = LayerPaths.Combine(containerDirectory, item.Name);
            if (item.LinkTarget is { } linkTarget)
            {
                builder[path] = LayerEntry.Symlink(path, linkTarget);
            }
            else if (item is DirectoryInfo subdirectory)
            {
                builder[path] = LayerEntry.Directory(path);
                AddTree(subdirectory, path, builder);
            }
            else
            {
                var file = (FileInfo)item;
                builder[path] = LayerEntry.File(path, file.FullName, DetectMode(file));
            }
        }
    }

    private static UnixFileMode DetectMode(FileInfo file) => IsExecutable(file) ? LayerEntry.ExecutableMode : LayerEntry.FileMode;

    private static bool IsExecutable(FileInfo file)
    {
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return (file.UnixFileMode & anyExecute) != 0;
        }

        Span<byte> magic = stackalloc byte[4];
        using var stream = new FileStream(file.FullName, System.IO.FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        var read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        return (read >= 2 && magic[0] == '#' && magic[1] == '!')
            || (read == 4 && magic[0] == 0x7F && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F');
    }

    private static ImmutableArray<LayerEntry> Complete(ImmutableDictionary<string, LayerEntry> byPath)
    {
        var all = new Dictionary<string, LayerEntry>(byPath, StringComparer.Ordinal);
        foreach (var entry in byPath.Values)
        {
            var child = entry.Path;
            for (var parent = LayerPaths.Parent(child); parent is not null; child = parent, parent = LayerPaths.Parent(parent))
            {
                if (all.TryGetValue(parent, out var existing))
                {
                    if (existing.Kind != LayerEntryKind.Directory)
                    {
                        throw new InvalidLayerPathException(entry.Path,
                            $"its parent '{parent}' is a {(existing.Kind == LayerEntryKind.File ? "file" : "symbolic link")} in the same layer, not a directory");
                    }

                    if (byPath.ContainsKey(parent))
                    {
                        break;
                    }
                }
                else
                {
                    all[parent] = LayerEntry.Directory(parent);
                }
            }
        }

        var sorted = all.Values.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        return ImmutableArray.Create(sorted);
    }
}
