using Containers.Host.Images;

namespace Containers.Host.Storage;

/// <summary>Copies files into a container's root filesystem and trees between host directories, with modes and (as root) owners.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class FileCopy
{
    /// <summary>Writes <paramref name="file"/> into <paramref name="rootfs"/> at its container path (resolved inside the root), replacing what is there.</summary>
    public static async Task CopyIntoRootAsync(string rootfs, ContainerFile file, CancellationToken cancellationToken)
    {
        var target = RootPath.ResolveParentAndJoin(rootfs, file.ContainerPath, createDirectories: true);
        if (file.HostPath is { } source && Directory.Exists(source))
        {
            if (File.Exists(target) || new FileInfo(target).LinkTarget is not null)
            {
                File.Delete(target);
            }

            CopyTree(source, target, preserveOwners: false);
            SetOwnerTree(target, file.Uid, file.Gid);
            return;
        }

        // A new inode, never a write into the existing one: without overlayfs the root's files are hard links to the cache.
        if (Directory.Exists(target) && new FileInfo(target).LinkTarget is null)
        {
            Directory.Delete(target, recursive: true);
        }
        else if (File.Exists(target) || new FileInfo(target).LinkTarget is not null)
        {
            File.Delete(target);
        }

        if (file.HostPath is { } hostFile)
        {
            File.Copy(hostFile, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(hostFile));
        }
        else
        {
            await File.WriteAllBytesAsync(target, file.Content!.Value.ToArray(), cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(target, file.Mode ?? (UnixFileMode)Convert.ToInt32("644", 8));
        }

        SetOwner(target, file.Uid, file.Gid);
    }

    /// <summary>Where <see cref="CopyIntoRootAsync"/> put <paramref name="file"/> in the directory <paramref name="root"/>.</summary>
    public static string Staged(string root, ContainerFile file) => RootPath.ResolveParentAndJoin(root, file.ContainerPath, createDirectories: false);

    /// <summary>Copies the tree at <paramref name="source"/> into <paramref name="destination"/> (created; existing entries replaced), modes kept, owners too when asked and root.</summary>
    public static void CopyTree(string source, string destination, bool preserveOwners)
    {
        Directory.CreateDirectory(destination);
        if (preserveOwners)
        {
            CopyOwner(source, destination);
        }

        // Mode after owner: chown(2) clears the set-user-ID and set-group-ID bits.
        File.SetUnixFileMode(destination, File.GetUnixFileMode(source));

        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(destination, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                DeleteEntry(target);
                File.CreateSymbolicLink(target, link);
                if (preserveOwners)
                {
                    CopyOwner(entry.FullName, target);
                }
            }
            else if (entry is DirectoryInfo)
            {
                CopyTree(entry.FullName, target, preserveOwners);
            }
            else
            {
                DeleteEntry(target);
                File.Copy(entry.FullName, target);
                if (preserveOwners)
                {
                    CopyOwner(entry.FullName, target);
                }

                File.SetUnixFileMode(target, entry.UnixFileMode);
            }
        }
    }

    private static void DeleteEntry(string path)
    {
        if (new FileInfo(path).LinkTarget is not null || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static void SetOwnerTree(string path, uint uid, uint gid)
    {
        SetOwner(path, uid, gid);
        foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            SetOwner(entry.FullName, uid, gid);
        }
    }

    private static void SetOwner(string path, uint uid, uint gid)
    {
        if (RootfsUnpacker.AppliesOwners && NativeMethods.LChown(path, uid, gid) != 0)
        {
            throw new IOException($"Could not give '{path}' the owner {uid}:{gid} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
    }

    private static void CopyOwner(string source, string destination)
    {
        if (RootfsUnpacker.AppliesOwners && NativeMethods.LStat(source) is { } owner)
        {
            NativeMethods.LChown(destination, owner.Uid, owner.Gid);
        }
    }
}
