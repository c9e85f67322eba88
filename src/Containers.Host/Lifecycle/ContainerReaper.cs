using Containers.Host.Runtimes;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Removes what test processes that are gone (killed test runs) left in a cache: their containers (stopped and
/// deleted from every runtime that might have run them) and directories, and runtime state of ours that has no
/// directory. Containers of live processes are never touched, even while they are being created.
/// </summary>
internal static class ContainerReaper
{
    public static async Task<int> ReapAsync(string cacheDirectory, Action<string>? log, CancellationToken cancellationToken)
    {
        var containersDirectory = ContainerDirectory.ContainersDirectory(cacheDirectory);
        var reaped = 0;
        var runtimes = RuntimeSelector.ForCleanup(cacheDirectory);

        var live = new HashSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(containersDirectory))
        {
            foreach (var directory in Directory.GetDirectories(containersDirectory, ContainerHost.IdPrefix + "*"))
            {
                var id = Path.GetFileName(directory);
                if (OwnerStamp.IsFileOwnerAlive(Path.Combine(directory, "owner")))
                {
                    live.Add(id);
                    continue;
                }

                foreach (var runtime in runtimes)
                {
                    await runtime.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                }

                ContainerDirectory.Remove(directory);
                reaped++;
                log?.Invoke($"Removed container {id}, left by a test process that is gone.");
            }

            // Directories of starts killed before they were renamed into place; a minute is far longer than that takes.
            foreach (var staging in new DirectoryInfo(containersDirectory).EnumerateDirectories(".new-" + ContainerHost.IdPrefix + "*"))
            {
                if (staging.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-1))
                {
                    ContainerDirectory.DeleteDirectory(staging.FullName);
                }
            }
        }

        // Runtime state without a directory: a crash between start and cleanup. A container's directory exists
        // from before its runtime state is created until after it is deleted, so the directory is looked for
        // again now: one started by another process since the scan above has one and is not touched.
        foreach (var runtime in runtimes)
        {
            foreach (var id in await runtime.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                if (id.StartsWith(ContainerHost.IdPrefix, StringComparison.Ordinal) && !live.Contains(id) && !Directory.Exists(Path.Combine(containersDirectory, id)))
                {
                    await runtime.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                    reaped++;
                }
            }
        }

        return reaped;
    }
}
