using System.Runtime.InteropServices;

namespace Containers.Host.Images;

/// <summary>
/// A container's writable root filesystem over the cached, read-only unpacked image: an overlay mount
/// (one syscall, whatever the image's size) with the container's changes in its own upper directory, or,
/// where overlayfs cannot be mounted (no privilege, a file system that refuses to be a lower layer), a tree
/// of hard links to the cached files.
/// </summary>
internal static class ContainerRoot
{
    /// <summary>Makes <c>&lt;containerDirectory&gt;/rootfs</c> and returns its path.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static string Create(string cachedRootfs, string containerDirectory, Action<string> log)
    {
        var rootfs = Path.Combine(containerDirectory, "rootfs");
        var upper = Path.Combine(containerDirectory, "upper");
        var work = Path.Combine(containerDirectory, "work");
        Directory.CreateDirectory(rootfs);
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        var options = $"lowerdir={Escape(cachedRootfs)},upperdir={Escape(upper)},workdir={Escape(work)}";
        if (NativeMethods.Mount("overlay", rootfs, "overlay", 0, options) == 0)
        {
            return rootfs;
        }

        var error = Marshal.GetLastPInvokeErrorMessage();
        log($"overlayfs could not be mounted for {containerDirectory} ({error}); linking the image's files instead (read-only, so the container cannot change the cached image: files it replaces are its own).");
        Directory.Delete(upper);
        Directory.Delete(work);
        RootfsCache.LinkTree(cachedRootfs, rootfs, protectSource: true);
        return rootfs;
    }

    /// <summary>Unmounts the container's overlay (if it has one) so its directory can be deleted.</summary>
    public static void Remove(string containerDirectory)
    {
        var rootfs = Path.Combine(containerDirectory, "rootfs");
        if (Directory.Exists(Path.Combine(containerDirectory, "upper")))
        {
            // Detached: a process of a dying container may still hold it; the kernel finishes when it lets go.
            NativeMethods.Unmount(rootfs, NativeMethods.MntDetach);
        }
    }

    // overlayfs splits its options at ',' and lowerdir at ':'.
    private static string Escape(string path) => path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);
}
