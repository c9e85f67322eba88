using Containers.Host.Images;

namespace Containers.Host.Lifecycle;

/// <summary>
/// <c>&lt;cache&gt;/containers/&lt;id&gt;</c>: every backend's container has one, holding the owner stamp that reaping
/// goes by and whatever the backend keeps (bundle, root filesystem, pid file). It exists from before the
/// container's runtime state until after it.
/// </summary>
internal sealed class ContainerDirectory
{
    private ContainerDirectory(string id, string path, string cacheDirectory, string? owner = null)
    {
        Id = id;
        Path = path;
        CacheDirectory = cacheDirectory;
        Owner = owner ?? OwnerStamp.Current;
    }

    /// <summary>The container id, <see cref="ContainerHost.IdPrefix"/> and 12 hex digits.</summary>
    public string Id { get; }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>The host's cache directory it lives in.</summary>
    public string CacheDirectory { get; }

    /// <summary>The owner stamp written into it.</summary>
    public string Owner { get; }

    public static string ContainersDirectory(string cacheDirectory) => System.IO.Path.Combine(cacheDirectory, "containers");

    /// <summary>Makes a new container's directory with this process's owner stamp.</summary>
    public static async Task<ContainerDirectory> CreateAsync(string cacheDirectory, CancellationToken cancellationToken)
    {
        var containersDirectory = ContainersDirectory(cacheDirectory);
        Directory.CreateDirectory(containersDirectory);

        // Made under another name and renamed: a concurrent reaper (another test process) sees the directory only
        // with its complete owner stamp, never empty or half-written, which would read as a dead owner.
        var id = ContainerHost.IdPrefix + Guid.NewGuid().ToString("N")[..12];
        var path = System.IO.Path.Combine(containersDirectory, id);
        var staging = System.IO.Path.Combine(containersDirectory, ".new-" + id);
        Directory.CreateDirectory(staging);
        await File.WriteAllTextAsync(System.IO.Path.Combine(staging, "owner"), OwnerStamp.Current, cancellationToken).ConfigureAwait(false);
        Directory.Move(staging, path);
        return new ContainerDirectory(id, path, cacheDirectory);
    }

    /// <summary>The directory of a container that exists already (a reused graph's, which its supervisor owns).</summary>
    public static ContainerDirectory Open(string cacheDirectory, string id) =>
        new(id, System.IO.Path.Combine(ContainersDirectory(cacheDirectory), id), cacheDirectory, OwnerStamp.Read(System.IO.Path.Combine(ContainersDirectory(cacheDirectory), id, "owner")));

    /// <summary>Unmounts the container's root (if mounted) and deletes the directory.</summary>
    public void Remove() => Remove(Path);

    public static void Remove(string directory)
    {
        ContainerRoot.Remove(directory);
        DeleteDirectory(directory);
    }

    public static void DeleteDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A mount still held by a dying process: the next start's reaper tries again.
        }
    }
}
