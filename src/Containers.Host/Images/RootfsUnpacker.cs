using System.Formats.Tar;
using Containers.Oci;
using Containers.Oci.Images;

namespace Containers.Host.Images;

/// <summary>
/// Applies image layers, base first, to a root filesystem directory: OCI whiteouts
/// (<c>.wh.&lt;name&gt;</c>) and opaque directories (<c>.wh..wh..opq</c>), regular files, directories,
/// symbolic links and hard links. Device nodes and FIFOs are skipped.
/// </summary>
/// <remarks>
/// Every path is resolved inside the root the way a chroot would: symbolic links met on the way are
/// followed with absolute targets re-rooted and <c>..</c> clamped at the root, so no write lands
/// outside it. Entry names with <c>..</c> components or absolute paths, and hard links that point
/// outside, are refused with <see cref="UnsafeLayerEntryException"/>.
/// </remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class RootfsUnpacker
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>True when the unpacker gives entries the owners their tar headers name: as root, as container engines do (a non-root image user must own its data directories).</summary>
    public static bool AppliesOwners => NativeMethods.GetEffectiveUserId() == 0;

    /// <summary>Unpacks every layer of <paramref name="image"/> into <paramref name="rootDirectory"/>.</summary>
    public static async Task UnpackAsync(IImage image, string rootDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var layer in image.Layers)
        {
            var stream = await layer.OpenUncompressedAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                await ApplyLayerAsync(stream, layer.Descriptor.Digest.ToString(), rootDirectory, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Applies one uncompressed layer tar to <paramref name="rootDirectory"/>.</summary>
    /// <param name="tar">The uncompressed tar stream.</param>
    /// <param name="layerName">How errors name the layer (its digest).</param>
    /// <param name="rootDirectory">The root filesystem; created when missing.</param>
    /// <param name="cancellationToken">Cancels the unpack.</param>
    public static async Task ApplyLayerAsync(Stream tar, string layerName, string rootDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        ArgumentNullException.ThrowIfNull(layerName);
        var root = Path.GetFullPath(rootDirectory);
        Directory.CreateDirectory(root);
        var reader = new TarReader(tar, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                var components = SplitEntryName(layerName, entry.Name);
                if (components.Count == 0)
                {
                    continue;
                }

                var parent = RootPath.Resolve(root, components.Take(components.Count - 1), createDirectories: true);
                var name = components[^1];
                if (string.Equals(name, OpaqueMarker, StringComparison.Ordinal))
                {
                    foreach (var child in new DirectoryInfo(parent).EnumerateFileSystemInfos())
                    {
                        Remove(child.FullName);
                    }

                    continue;
                }

                if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                {
                    Remove(Path.Combine(parent, name[WhiteoutPrefix.Length..]));
                    continue;
                }

                var target = Path.Combine(parent, name);
                await WriteEntryAsync(entry, layerName, root, target, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteEntryAsync(TarEntry entry, string layerName, string root, string target, CancellationToken cancellationToken)
    {
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (File.Exists(target) || IsSymlink(target))
                {
                    Remove(target);
                }

                Directory.CreateDirectory(target);
                SetOwner(target, entry);
                File.SetUnixFileMode(target, ModeOf(entry));
                break;
            case TarEntryType.RegularFile:
            case TarEntryType.V7RegularFile:
            case TarEntryType.ContiguousFile:
                Remove(target);
                var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                await using (output.ConfigureAwait(false))
                {
                    if (entry.DataStream is { } data)
                    {
                        await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                    }
                }

                // Owner before mode: chown(2) clears the set-user-ID and set-group-ID bits.
                SetOwner(target, entry);
                File.SetUnixFileMode(target, ModeOf(entry));
                break;
            case TarEntryType.SymbolicLink:
                Remove(target);
                File.CreateSymbolicLink(target, entry.LinkName);
                SetOwner(target, entry);
                break;
            case TarEntryType.HardLink:
                if (entry.LinkName.StartsWith('/') || entry.LinkName.Split('/').Contains("..", StringComparer.Ordinal))
                {
                    throw new UnsafeLayerEntryException(layerName, entry.Name, $"is a hard link to '{entry.LinkName}', which leaves the root filesystem");
                }

                var linkComponents = SplitEntryName(layerName, entry.LinkName);
                var source = linkComponents.Count == 0
                    ? root
                    : Path.Combine(RootPath.Resolve(root, linkComponents.Take(linkComponents.Count - 1), createDirectories: false), linkComponents[^1]);
                if (!(File.Exists(source) || IsSymlink(source)) || Directory.Exists(source))
                {
                    throw new UnsafeLayerEntryException(layerName, entry.Name, $"is a hard link to '{entry.LinkName}', which is not a file inside the root filesystem");
                }

                Remove(target);
                CreateHardLink(target, source);
                break;
            default:
                // Device nodes and FIFOs need privileges and are not used by application images; skipped.
                break;
        }
    }

    private static void SetOwner(string path, TarEntry entry)
    {
        if (AppliesOwners && (entry.Uid != 0 || entry.Gid != 0) && NativeMethods.LChown(path, (uint)entry.Uid, (uint)entry.Gid) != 0)
        {
            throw new OciException($"Could not give '{path}' the owner {entry.Uid}:{entry.Gid} of its layer entry (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
    }

    private static UnixFileMode ModeOf(TarEntry entry) =>
        entry.Mode & (UnixFileMode)0xFFF;

    private static List<string> SplitEntryName(string layerName, string entryName)
    {
        if (entryName.StartsWith('/'))
        {
            throw new UnsafeLayerEntryException(layerName, entryName, "is an absolute path");
        }

        var components = new List<string>();
        foreach (var part in entryName.Split('/'))
        {
            if (part.Length == 0 || string.Equals(part, ".", StringComparison.Ordinal))
            {
                continue;
            }

            if (string.Equals(part, "..", StringComparison.Ordinal))
            {
                throw new UnsafeLayerEntryException(layerName, entryName, "has a '..' component");
            }

            components.Add(part);
        }

        return components;
    }

    private static bool IsInside(string root, string path) =>
        string.Equals(path, root, StringComparison.Ordinal) || path.StartsWith(root + "/", StringComparison.Ordinal);

    private static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;

    private static void Remove(string path)
    {
        if (IsSymlink(path) || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static void CreateHardLink(string target, string source)
    {
        if (NativeMethods.Link(source, target) != 0)
        {
            throw new OciException($"Could not create the hard link '{target}' to '{source}' (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
    }
}
