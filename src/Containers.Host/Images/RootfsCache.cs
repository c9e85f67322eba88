using System.Text;
using Containers.Oci;
using Containers.Oci.Digests;
using Containers.Oci.Images;

namespace Containers.Host.Images;

/// <summary>
/// Keeps unpacked root filesystems keyed by the image's layer chain (the OCI ChainID of its diff ids),
/// so an image is unpacked once; container roots are then assembled from the cache with hard links.
/// </summary>
/// <remarks>
/// A container root made by <see cref="CreateContainerRootAsync"/> shares file inodes with the cache,
/// like <c>cp -al</c>: replacing or deleting a file in the container root is safe, writing into an
/// existing file in place also changes the cached copy. Roots are meant for read-mostly application
/// containers; delete the cache directory to start over.
/// </remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RootfsCache
{
    /// <summary>Creates a cache stored under <paramref name="directory"/> (created when missing).</summary>
    public RootfsCache(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The cache directory.</summary>
    public string Directory { get; }

    /// <summary>The OCI ChainID of a list of diff ids: sha256 of "parentChain diffId", chained.</summary>
    public static string ChainId(IEnumerable<Digest> diffIds)
    {
        ArgumentNullException.ThrowIfNull(diffIds);
        string? chain = null;
        foreach (var diffId in diffIds)
        {
            var text = diffId.ToString();
            chain = chain is null
                ? text
                : Digest.Compute(Encoding.UTF8.GetBytes(chain + " " + text)).ToString();
        }

        return chain ?? Digest.Compute([]).ToString();
    }

    /// <summary>
    /// Returns the cached root filesystem of <paramref name="image"/>, unpacking it first when it is not
    /// cached yet. The returned directory must not be modified.
    /// </summary>
    public async Task<string> GetOrUnpackAsync(IImage image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var chainId = ChainId(image.Layers.Select(layer => layer.DiffId));
        // Trees unpacked with the layers' owners (as root) are kept apart from those without (a cache made by an older
        // version, or rootless): a non-root image user must own its data directories.
        var final = Path.Combine(Directory, chainId.Replace(':', '-') + (RootfsUnpacker.AppliesOwners ? "-owned" : ""));
        if (System.IO.Directory.Exists(final))
        {
            // The directory's time orders the chains for Prune: most recently used last to go.
            System.IO.Directory.SetLastWriteTimeUtc(final, DateTime.UtcNow);
            return final;
        }

        var staging = Path.Combine(Directory, ".staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            await RootfsUnpacker.UnpackAsync(image, staging, cancellationToken).ConfigureAwait(false);
            try
            {
                System.IO.Directory.Move(staging, final);
            }
            catch (IOException) when (System.IO.Directory.Exists(final))
            {
                // Another process unpacked the same chain first; its copy is equivalent.
            }
        }
        finally
        {
            if (System.IO.Directory.Exists(staging))
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }
        }

        return final;
    }

    /// <summary>
    /// Makes <paramref name="destination"/> a root filesystem of <paramref name="image"/> by hard-linking
    /// the cached copy (unpacking it first when needed).
    /// </summary>
    public async Task<string> CreateContainerRootAsync(IImage image, string destination, CancellationToken cancellationToken = default)
    {
        var cached = await GetOrUnpackAsync(image, cancellationToken).ConfigureAwait(false);
        LinkTree(cached, Path.GetFullPath(destination));
        return destination;
    }

    /// <summary>
    /// Deletes the least recently used unpacked images beyond the <paramref name="keep"/> most recent ones,
    /// except those <paramref name="inUse"/> names (directory names, e.g. of running containers' images).
    /// Returns how many were deleted. It runs only while nobody holds <see cref="AcquireUse"/> (and returns 0
    /// when somebody does: the next prune sees the same chains again); <paramref name="inUse"/> is asked under
    /// that lock, so a chain recorded as used before the lock was released is never taken. Chains are
    /// renamed out of the way under the lock and deleted after it, so a <see cref="GetOrUnpackAsync"/>
    /// never sees half of one and never waits for a deletion.
    /// </summary>
    public int Prune(int keep, Func<IReadOnlySet<string>> inUse)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        var trash = new List<string>();
        using (var exclusive = FileLock.TryExclusive(LockPath))
        {
            if (exclusive is null)
            {
                return 0;
            }

            var used = inUse();
            var chains = new DirectoryInfo(Directory).EnumerateDirectories("sha256-*")
                .OrderByDescending(d => d.LastWriteTimeUtc)
                .ToList();
            foreach (var chain in chains.Skip(keep).Where(d => !used.Contains(d.Name)))
            {
                var renamed = Path.Combine(Directory, ".trash-" + Guid.NewGuid().ToString("N"));
                try
                {
                    chain.MoveTo(renamed);
                    trash.Add(renamed);
                }
                catch (IOException)
                {
                    // Gone already (another cache object of this process): nothing to delete.
                }
            }
        }

        foreach (var renamed in trash)
        {
            System.IO.Directory.Delete(renamed, recursive: true);
        }

        return trash.Count;
    }

    /// <summary>
    /// Keeps <see cref="Prune"/> (of any process) from deleting chains until disposed: hold it from before
    /// <see cref="GetOrUnpackAsync"/> until the chain is recorded as in use, so a chain cannot be deleted
    /// between being found and being used. Waits while a prune is renaming chains (milliseconds).
    /// </summary>
    public IDisposable AcquireUse() => FileLock.Shared(LockPath);

    private string LockPath => Path.Combine(Directory, ".lock");

    /// <summary>Recreates the tree under <paramref name="source"/> at <paramref name="destination"/>: directories and symbolic links anew, files as hard links.</summary>
    /// <param name="source">The cached tree.</param>
    /// <param name="destination">The new tree of links.</param>
    /// <param name="protectSource">
    /// Takes the write permission off every linked file (the inode is the cache's): a process without
    /// CAP_DAC_OVERRIDE — every container process here — then cannot change a cached file in place; replacing it
    /// (unlink, create, rename) only changes the container's own tree.
    /// </param>
    public static void LinkTree(string source, string destination, bool protectSource = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        System.IO.Directory.CreateDirectory(destination);
        CopyOwner(source, destination);
        File.SetUnixFileMode(destination, File.GetUnixFileMode(source));
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(destination, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(target, link);
                CopyOwner(entry.FullName, target);
            }
            else if (entry is DirectoryInfo)
            {
                LinkTree(entry.FullName, target, protectSource);
            }
            else
            {
                const UnixFileMode anyWrite = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
                if (protectSource && (entry.UnixFileMode & anyWrite) != 0)
                {
                    File.SetUnixFileMode(entry.FullName, entry.UnixFileMode & ~anyWrite);
                }

                if (NativeMethods.Link(entry.FullName, target) != 0)
                {
                    throw new OciException($"Could not hard-link '{entry.FullName}' to '{target}' (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); the cache and the container root must be on the same filesystem.");
                }
            }
        }
    }

    // As root the tree's directories and links get the cached entries' owners (files are the same inodes).
    private static void CopyOwner(string source, string destination)
    {
        if (!RootfsUnpacker.AppliesOwners)
        {
            return;
        }

        var status = NativeMethods.LStat(source);
        if (status is { } owner && (owner.Uid != 0 || owner.Gid != 0))
        {
            NativeMethods.LChown(destination, owner.Uid, owner.Gid);
        }
    }
}
