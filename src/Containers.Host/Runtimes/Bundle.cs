using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;
using Containers.Oci;

namespace Containers.Host.Runtimes;

/// <summary>
/// The runtime-spec bundle that the OCI runtime and namespaces backends run: the container's writable root over
/// the cached unpacked image (<c>rootfs/</c>) and <c>config.json</c>, in the container's directory.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class Bundle
{
    /// <summary>Makes the bundle unless it exists (a fallback runtime reuses the one made for the runtime before it).</summary>
    public static async Task PrepareAsync(ContainerLaunch launch, bool rootless, CancellationToken cancellationToken)
    {
        var directory = launch.Directory.Path;
        var configPath = Path.Combine(directory, "config.json");
        if (File.Exists(configPath))
        {
            return;
        }

        var rootfsCache = new RootfsCache(Path.Combine(launch.Directory.CacheDirectory, "rootfs"));
        string rootfs;
        using (rootfsCache.AcquireUse())
        {
            // Under the use lock until the chain is recorded: no prune (of any process) can delete it in between.
            var cached = await rootfsCache.GetOrUnpackAsync(launch.Image, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(directory, "image"), Path.GetFileName(cached), cancellationToken).ConfigureAwait(false);
            rootfs = ContainerRoot.Create(cached, directory, launch.Log);
        }

        PruneRootfsCache(rootfsCache, ContainerDirectory.ContainersDirectory(launch.Directory.CacheDirectory), launch.Log);

        var config = launch.Config;
        var user = ImageUser.Resolve(config.Config?.User, rootfs);
        if (rootless)
        {
            // Only the caller's own ids are mapped into the container (as its root): another uid could not run.
            if (user.Uid != 0 || user.Gid != 0)
            {
                launch.Log($"Rootless: the app runs as the container's root (uid {NativeMethods.GetEffectiveUserId()} on the host), not as uid {user.Uid}: only your own user is mapped into the container.");
            }

            user = user with { Uid = 0, Gid = 0, AdditionalGids = [] };
        }

        var command = launch.Options.Command ?? config.Config?.Cmd ?? [];
        IReadOnlyList<string> args = [.. config.Config?.Entrypoint ?? [], .. command];
        if (args.Count == 0)
        {
            throw new OciException($"The image {launch.Options.Image} has neither Entrypoint nor Cmd; pass ContainerStartOptions.Command.");
        }

        var spec = RuntimeSpec.Create(
            rootfs,
            launch.Id[ContainerHost.IdPrefix.Length..],
            args,
            RuntimeSpec.Environment(config, launch.Options.Environment, user),
            string.IsNullOrEmpty(config.Config?.WorkingDir) ? "/" : config.Config!.WorkingDir!,
            user,
            rootless ? (NativeMethods.GetEffectiveUserId(), NativeMethods.GetEffectiveGroupId()) : null);
        await File.WriteAllTextAsync(configPath, spec.ToJsonString(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The ports of a bundle's container: forwarders into its network namespace, or (rootless) the host's own.</summary>
    public static Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, bool rootless, CancellationToken cancellationToken) =>
        rootless
            ? Task.FromResult(DirectPorts.SharedHostNetwork(container.Id, launch.Ports, launch.Log))
            : ForwardedPorts.PublishAsync(container, launch.Ports, launch.Log, cancellationToken);

    // Every rebuilt app is a new layer chain: without a bound the cache would grow by an image per build.
    private static void PruneRootfsCache(RootfsCache cache, string containersDirectory, Action<string> log)
    {
        var deleted = cache.Prune(ContainerHost.CachedImages, () => ImagesInUse(containersDirectory));
        if (deleted > 0)
        {
            log($"Removed {deleted} unpacked image(s) from {cache.Directory}, keeping the {ContainerHost.CachedImages} most recently used.");
        }
    }

    // The chains the containers of this cache (live or not yet reaped) were made from.
    private static HashSet<string> ImagesInUse(string containersDirectory)
    {
        var inUse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(containersDirectory, ContainerHost.IdPrefix + "*"))
        {
            try
            {
                inUse.Add(File.ReadAllText(Path.Combine(directory, "image")).Trim());
            }
            catch (IOException)
            {
                // No image recorded yet: that start holds the use lock until it records one, so no prune runs meanwhile.
            }
        }

        return inUse;
    }
}
