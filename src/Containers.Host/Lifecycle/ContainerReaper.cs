using Containers.Host.Networking;
using Containers.Host.Runtimes;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Removes what processes that are gone (killed test runs, a reused graph's killed supervisor) left in a cache: their
/// containers (stopped and deleted from every runtime that might have run them) and directories, runtime state of ours
/// that has no directory, networks, volumes and reused graphs' state. Containers of live processes are never touched,
/// even while they are being created.
/// </summary>
internal static class ContainerReaper
{
    /// <param name="cacheDirectory">The cache.</param>
    /// <param name="log">Receives a line per removal.</param>
    /// <param name="cancellationToken">Cancels the reaping.</param>
    /// <param name="reclaimOwner">An owner stamp whose things go too although it lives: a reused graph's supervisor removing its own.</param>
    public static async Task<int> ReapAsync(string cacheDirectory, Action<string>? log, CancellationToken cancellationToken, string? reclaimOwner = null)
    {
        var containersDirectory = ContainerDirectory.ContainersDirectory(cacheDirectory);
        var reaped = 0;
        bool OwnerLives(string ownerFile) =>
            (reclaimOwner is null || OwnerStamp.Read(ownerFile) != reclaimOwner) && OwnerStamp.IsFileOwnerAlive(ownerFile);
        var gone = reclaimOwner is null ? "left by a process that is gone" : "of the stopped graph";

        // Owners are judged once: the runtimes asked below depend on which containers are reaped.
        var live = new HashSet<string>(StringComparer.Ordinal);
        var dead = new List<string>();
        foreach (var directory in Directory.Exists(containersDirectory) ? Directory.GetDirectories(containersDirectory, ContainerHost.IdPrefix + "*") : [])
        {
            if (OwnerLives(Path.Combine(directory, "owner")))
            {
                live.Add(Path.GetFileName(directory));
            }
            else
            {
                dead.Add(directory);
            }
        }

        var runtimes = RuntimeSelector.ForCleanup(cacheDirectory, OwnerLives, dead, out var cliMarkers);
        if (Directory.Exists(containersDirectory))
        {
            foreach (var directory in dead)
            {
                var id = Path.GetFileName(directory);
                foreach (var runtime in runtimes)
                {
                    await runtime.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
                }

                // A detached container's waiting shell writes its exit code into the directory as the container ends.
                await DetachedRun.WaitForWaiterAsync(directory, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                await IpRoute.DeleteNamespaceAsync(id, cancellationToken).ConfigureAwait(false);
                UserNamespaceKeeper.KillStamped(Path.Combine(directory, HeldNetworkNamespace.StampFile));
                ContainerDirectory.Remove(directory);
                reaped++;
                log?.Invoke($"Removed container {id}, {gone}.");
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

        reaped += await ReapNetworksAsync(cacheDirectory, OwnerLives, gone, log, cancellationToken).ConfigureAwait(false);
        reaped += ReapVolumes(cacheDirectory, OwnerLives, gone, log);
        reaped += ReapReusedGraphs(cacheDirectory, log);
        reaped += UserNamespaceKeeper.Reap(cacheDirectory, log);
        foreach (var runtime in runtimes)
        {
            reaped += await runtime.ReapOrphansAsync(cancellationToken).ConfigureAwait(false);
        }

        // The CLI has been asked about those owners; a failure above leaves their markers for the next start.
        foreach (var marker in cliMarkers)
        {
            File.Delete(marker);
        }

        // Named network namespaces are host-wide, not per cache: one is reaped with its container's (or network's)
        // directory, which exists from before the namespace is made until after it is deleted. Rootless, a namespace's
        // holder and the user namespace keeper end by themselves when their process does (their stdin closes); the
        // stamps recorded in those directories make sure.
        return reaped;
    }

    // Volumes that are not kept and whose owner is gone.
    private static int ReapVolumes(string cacheDirectory, Func<string, bool> ownerLives, string gone, Action<string>? log)
    {
        var volumesDirectory = Storage.ContainerVolume.VolumesDirectory(cacheDirectory);
        var reaped = 0;
        foreach (var directory in Directory.Exists(volumesDirectory) ? Directory.GetDirectories(volumesDirectory) : [])
        {
            if (!File.Exists(Path.Combine(directory, "keep")) && !ownerLives(Path.Combine(directory, "owner")))
            {
                ContainerDirectory.DeleteDirectory(directory);
                reaped++;
                log?.Invoke($"Removed volume {Path.GetFileName(directory)}, {gone}.");
            }
        }

        return reaped;
    }

    // Bridge networks whose owner is gone: their namespace (with the bridge and the veth ends: named as root, held rootless) and directory.
    private static async Task<int> ReapNetworksAsync(string cacheDirectory, Func<string, bool> ownerLives, string gone, Action<string>? log, CancellationToken cancellationToken)
    {
        var networksDirectory = ContainerNetwork.NetworksDirectory(cacheDirectory);
        var reaped = 0;
        if (Directory.Exists(networksDirectory))
        {
            foreach (var directory in Directory.GetDirectories(networksDirectory, ContainerNetwork.IdPrefix + "*"))
            {
                var id = Path.GetFileName(directory);
                if (ownerLives(Path.Combine(directory, "owner")))
                {
                    continue;
                }

                await IpRoute.DeleteNamespaceAsync(id, cancellationToken).ConfigureAwait(false);
                UserNamespaceKeeper.KillStamped(Path.Combine(directory, HeldNetworkNamespace.StampFile));
                ContainerDirectory.DeleteDirectory(directory);
                reaped++;
                log?.Invoke($"Removed network {id}, {gone}.");
            }

            foreach (var staging in new DirectoryInfo(networksDirectory).EnumerateDirectories(".new-*"))
            {
                if (staging.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-1))
                {
                    ContainerDirectory.DeleteDirectory(staging.FullName);
                }
            }
        }

        return reaped;
    }

    // Reused graphs whose supervisor is gone (killed): their directory and lock (what they ran carried the supervisor's
    // stamp and is reaped above). A graph being started or stopped holds its lock and is left alone.
    private static int ReapReusedGraphs(string cacheDirectory, Action<string>? log)
    {
        var root = ReusePaths.RootOf(cacheDirectory);
        if (!OperatingSystem.IsLinux() || !Directory.Exists(root))
        {
            return 0;
        }

        var reaped = 0;
        foreach (var directory in Directory.GetDirectories(root).Where(d => !Path.GetFileName(d).StartsWith('.')))
        {
            var paths = new ReusePaths(cacheDirectory, Path.GetFileName(directory));
            if (OwnerStamp.IsFileOwnerAlive(paths.SupervisorStamp))
            {
                continue;
            }

            using var held = FileLock.TryExclusiveCurrent(paths.Lock);
            if (held is null || OwnerStamp.IsFileOwnerAlive(paths.SupervisorStamp))
            {
                continue;
            }

            var stamp = OwnerStamp.Read(paths.SupervisorStamp);
            ContainerDirectory.DeleteDirectory(directory);
            held.DeleteFile();
            reaped++;
            log?.Invoke($"Removed reused graph {paths.Graph}, whose supervisor{(stamp is null ? "" : " (pid " + stamp.Split(' ')[0] + ")")} is gone.");
        }

        // Locks of graphs that are gone, left by a start that was killed.
        foreach (var lockFile in Directory.GetFiles(root, "*.lock"))
        {
            if (!Directory.Exists(lockFile[..^".lock".Length]) && FileLock.TryExclusiveCurrent(lockFile) is { } held)
            {
                using (held)
                {
                    if (!Directory.Exists(lockFile[..^".lock".Length]))
                    {
                        held.DeleteFile();
                    }
                }
            }
        }

        return reaped;
    }
}
