using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;
using Containers.Host.Storage;
using Containers.Oci;
using Containers.Oci.Models;

namespace Containers.Host.Runtimes;

/// <summary>
/// The runtime-spec bundle that the OCI runtime and namespaces backends run: the container's writable root over
/// the cached unpacked image (<c>rootfs/</c>) and <c>config.json</c>, in the container's directory.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class Bundle
{
    /// <summary>Makes the bundle unless it exists (a fallback runtime reuses the one made for the runtime before it).</summary>
    /// <param name="launch">The container.</param>
    /// <param name="rootless">Not root: a user namespace maps the caller to the container's root (and subordinate ids, where there are), a private network where one can be made.</param>
    /// <param name="applyLimits">The runtime applies the spec's cgroup resources (runc does, the namespaces backend does not).</param>
    /// <param name="cancellationToken">Cancels the preparation.</param>
    public static async Task PrepareAsync(ContainerLaunch launch, bool rootless, bool applyLimits, CancellationToken cancellationToken)
    {
        var directory = launch.Directory.Path;
        var configPath = Path.Combine(directory, "config.json");
        if (File.Exists(configPath))
        {
            return;
        }

        // Rootless, the private network (a keeper process to start, the first time) is made while the root is assembled.
        var makingPrivateNetwork = rootless ? Task.Run(() => MakePrivateNetworkAsync(launch, cancellationToken), cancellationToken) : Task.CompletedTask;
        var rootfsCache = new RootfsCache(Path.Combine(launch.Directory.CacheDirectory, "rootfs"));
        string rootfs;
        try
        {
            using (rootfsCache.AcquireUse())
            {
                // Under the use lock until the chain is recorded: no prune (of any process) can delete it in between.
                var cached = await rootfsCache.GetOrUnpackAsync(launch.Image, cancellationToken).ConfigureAwait(false);
                await File.WriteAllTextAsync(Path.Combine(directory, "image"), Path.GetFileName(cached), cancellationToken).ConfigureAwait(false);
                rootfs = ContainerRoot.Create(cached, directory, launch.Log);
            }
        }
        catch
        {
            // What it made is in the launch's resources, which the failed start disposes: it must be there first.
            await makingPrivateNetwork.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await makingPrivateNetwork.ConfigureAwait(false);

        PruneRootfsCache(rootfsCache, ContainerDirectory.ContainersDirectory(launch.Directory.CacheDirectory), launch.Log);

        foreach (var file in launch.Options.Files)
        {
            await FileCopy.CopyIntoRootAsync(rootfs, file, cancellationToken).ConfigureAwait(false);
        }

        var config = launch.Config;
        var user = ImageUser.Resolve(launch.Options.User ?? config.Config?.User, rootfs);
        var mapping = rootless ? RootlessIdMapping.Current : null;
        if (mapping is not null)
        {
            user = RootlessUser(user, mapping, launch);
        }

        var args = ProcessArguments(launch.Options, config);
        if (args.Count == 0)
        {
            throw new OciException($"The image {launch.Options.Image} has neither Entrypoint nor Cmd; pass ContainerStartOptions.Command.");
        }

        var workingDirectory = launch.Options.WorkingDirectory ?? (string.IsNullOrEmpty(config.Config?.WorkingDir) ? "/" : config.Config!.WorkingDir!);
        if (launch.Options.WorkingDirectory is not null)
        {
            // Docker creates a working directory the image lacks; the runtimes would refuse to start in it.
            var existing = RootPath.ResolveFully(rootfs, workingDirectory, createDirectories: false);
            if (!Directory.Exists(existing) && !File.Exists(existing))
            {
                RootPath.ResolveFully(rootfs, workingDirectory, createDirectories: true);
            }
        }

        var hostname = launch.Hostname;
        var spec = RuntimeSpec.Create(
            rootfs,
            hostname,
            args,
            RuntimeSpec.Environment(config, launch.Options.Environment, user),
            workingDirectory,
            user,
            mapping);
        if (launch.Options.Labels.Count > 0)
        {
            RuntimeSpec.SetAnnotations(spec, launch.Options.Labels);
        }

        if (launch.PrivateNetwork is { } privateNetwork)
        {
            // The keeper's user namespace (so the container's network namespace, made in it, can be joined) and that namespace.
            RuntimeSpec.JoinUserNamespace(spec, privateNetwork.Keeper.UserNamespacePath);
            RuntimeSpec.JoinNetworkNamespace(spec, privateNetwork.Path);
        }

        if (launch.Options.Networks.Count > 0)
        {
            NetworkNamespaceHandle networkNamespace = rootless
                ? launch.PrivateNetwork ?? throw new OciException($"Container networks need a private network, which a rootless container cannot get here: {launch.HostNetworkReason}. Run as root, or use the CLI backend (podman).")
                : launch.Resources.Add(await NamedNetworkNamespace.CreateAsync(launch.Id, ["link set lo up"], cancellationToken).ConfigureAwait(false));
            var endpoint = launch.Resources.Add(await ContainerEndpoint.CreateAsync(launch.Id, networkNamespace, directory, hostname, [.. launch.Options.Networks], cancellationToken).ConfigureAwait(false));
            RuntimeSpec.JoinNetworkNamespace(spec, networkNamespace.Path);
            RuntimeSpec.AddBindMount(spec, endpoint.HostsPath, "/etc/hosts", readOnly: false);
        }

        foreach (var mount in launch.Options.Mounts)
        {
            switch (mount)
            {
                case BindMount bind:
                    RuntimeSpec.AddBindMount(spec, bind.HostPath, bind.ContainerPath, bind.ReadOnly);
                    break;
                case VolumeMount volume:
                    CopyUpIntoEmptyVolume(volume, rootfs, launch.Log);
                    RuntimeSpec.AddBindMount(spec, volume.Source.DataDirectory, volume.ContainerPath, volume.ReadOnly);
                    break;
                case TmpfsMount tmpfs:
                    RuntimeSpec.AddTmpfs(spec, tmpfs.ContainerPath, tmpfs.Options);
                    break;
            }
        }

        if (launch.Options.MemoryLimitBytes is not null || launch.Options.CpuLimit is not null)
        {
            if (rootless || !applyLimits)
            {
                launch.Log($"Memory and CPU limits are not applied to container {launch.Id}: {(rootless ? "rootless, there is no cgroup this process may limit" : "the namespaces backend does not manage cgroups")}; run as root with runc (or podman) to have them.");
            }
            else
            {
                RuntimeSpec.SetLimits(spec, launch.Options.MemoryLimitBytes, launch.Options.CpuLimit);
            }
        }

        await File.WriteAllTextAsync(configPath, spec.ToJsonString(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The process: the Entrypoint (the options' or the image's) plus the Command (the options', else the image's Cmd unless the Entrypoint was replaced).</summary>
    internal static IReadOnlyList<string> ProcessArguments(ContainerStartOptions options, ImageConfig config)
    {
        var command = options.Command ?? (options.Entrypoint is null ? config.Config?.Cmd : null) ?? [];
        return [.. options.Entrypoint ?? config.Config?.Entrypoint ?? [], .. command];
    }

    // Rootless: the container's own network namespace in the keeper's user namespace, or why it shares the host's.
    private static async Task MakePrivateNetworkAsync(ContainerLaunch launch, CancellationToken cancellationToken)
    {
        var (privateNetwork, unavailable) = await UserNamespaceKeeper.CreateNetworkNamespaceAsync(launch.Directory.CacheDirectory, launch.Directory.Path, [], launch.Log, cancellationToken).ConfigureAwait(false);
        if (privateNetwork is null)
        {
            launch.HostNetworkReason = $"no private network: {unavailable}; {UserModeNetworking.WhyNotUsed()}";
            return;
        }

        launch.PrivateNetwork = launch.Resources.Add(privateNetwork);
        launch.Log($"Rootless: container {launch.Id} has a private network (a network namespace held by process {privateNetwork.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)} in the user namespace of process {privateNetwork.Keeper.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}); its ports are published on 127.0.0.1 through that process's forwarder.");
    }

    // Rootless, the image's user runs as itself where the user namespace maps it (subordinate ids), else as the container's root.
    private static ImageUser RootlessUser(ImageUser user, RootlessIdMapping mapping, ContainerLaunch launch)
    {
        if (user.Uid == 0 && user.Gid == 0)
        {
            return user with { AdditionalGids = [.. user.AdditionalGids.Where(mapping.MapsGid)] };
        }

        if (mapping.MapsUid(user.Uid) && mapping.MapsGid(user.Gid))
        {
            launch.Log($"Rootless: the app runs as uid {user.Uid} (gid {user.Gid}) inside container {launch.Id}, uid {mapping.SubordinateUids + user.Uid - 1} on the host: {mapping.Describe()}.");
            return user with { AdditionalGids = [.. user.AdditionalGids.Where(mapping.MapsGid)] };
        }

        var why = mapping.HasRanges
            ? $"uid {user.Uid} or gid {user.Gid} lies beyond the {mapping.UidCount} subordinate uids and {mapping.GidCount} gids mapped"
            : $"only your own user is mapped into the container, as {mapping.SingleReason}";
        launch.Log($"Rootless: the app runs as the container's root (uid {mapping.HostUid} on the host), not as uid {user.Uid}: {why}.");
        return user with { Uid = 0, Gid = 0, AdditionalGids = [] };
    }

    // An empty volume gets what the image has at its mount point first (content, owners, modes), as docker's volumes do:
    // a non-root database owns its fresh data directory.
    private static void CopyUpIntoEmptyVolume(VolumeMount mount, string rootfs, Action<string> log)
    {
        var data = mount.Source.DataDirectory;
        var initialized = Path.Combine(mount.Source.Directory, "initialized");
        if (File.Exists(initialized) || Directory.EnumerateFileSystemEntries(data).Any())
        {
            return;
        }

        var source = RootPath.ResolveFully(rootfs, mount.ContainerPath, createDirectories: false);
        if (Directory.Exists(source))
        {
            FileCopy.CopyTree(source, data, preserveOwners: true);
            log($"Volume {mount.Source.Name} got the image's {mount.ContainerPath} (it was empty).");
        }

        File.WriteAllText(initialized, "");
    }

    /// <summary>
    /// Reads a file of a bundle's container: while it runs through <c>/proc/&lt;pid&gt;/root</c> (its mount namespace, so
    /// bind mounts, volumes and tmpfs show), once it stopped from its root filesystem; symbolic links resolved inside the root.
    /// </summary>
    public static async Task<byte[]> ReadFileAsync(RunningContainer container, string path, CancellationToken cancellationToken)
    {
        var rootfs = Path.Combine(container.Directory.Path, "rootfs");
        var processRoot = $"/proc/{container.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/root";
        if (!container.Exited.IsCompleted && container.Pid > 0)
        {
            try
            {
                return await ReadInRootAsync(processRoot, container.Id, path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !Directory.Exists(processRoot + "/"))
            {
                // Exited meanwhile: its mount namespace is gone, its root filesystem is not.
            }
        }

        return await ReadInRootAsync(rootfs, container.Id, path, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadInRootAsync(string root, string id, string path, CancellationToken cancellationToken)
    {
        var file = RootPath.ResolveFully(root, path, createDirectories: false);
        if (Directory.Exists(file))
        {
            throw new OciException($"{path} in container {id} is a directory; name a file.");
        }

        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"Container {id} has no file {path}.", path);
        }

        return await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The user an exec runs as: <paramref name="user"/> resolved through the container's passwd and group files, else the bundle's process user.</summary>
    public static ImageUser ExecUser(RunningContainer container, string? user, bool rootless)
    {
        var spec = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(container.Directory.Path, "config.json")))!;
        if (user is null)
        {
            var process = spec["process"]!["user"]!;
            return new ImageUser((uint)process["uid"]!, (uint)process["gid"]!, process["additionalGids"]?.AsArray().Select(g => (uint)g!).ToList() ?? [], null);
        }

        var resolved = ImageUser.Resolve(user, Path.Combine(container.Directory.Path, "rootfs"));
        if (rootless && !RootlessIdMapping.SpecMaps(spec, resolved.Uid, resolved.Gid))
        {
            throw new OciException(RootlessIdMapping.SpecHasRanges(spec)
                ? $"Rootless, uid {resolved.Uid} (gid {resolved.Gid}) is not mapped into container {container.Id}: it lies beyond your subordinate ids; exec as '{user}' needs root."
                : $"Rootless, only the container's root (your own user) exists in container {container.Id}; exec as '{user}' needs root, or a range in /etc/subuid and /etc/subgid.");
        }

        return resolved with { AdditionalGids = [.. resolved.AdditionalGids.Where(gid => !rootless || RootlessIdMapping.SpecMaps(spec, 0, gid))] };
    }

    /// <summary>A bridge network: as root in a named network namespace, rootless in one held in the rootless user namespace (where its members' are).</summary>
    public static async Task<INetworkDriver> CreateNetworkAsync(string id, string cacheDirectory, string directory, bool rootless, Action<string> log, CancellationToken cancellationToken)
    {
        if (!rootless)
        {
            return await BridgeNetworkDriver.CreateAsync(id, async setup => await NamedNetworkNamespace.CreateAsync(id, setup, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }

        return await BridgeNetworkDriver.CreateAsync(
            id,
            async setup =>
            {
                var (made, unavailable) = await UserNamespaceKeeper.CreateNetworkNamespaceAsync(cacheDirectory, directory, setup, log, cancellationToken).ConfigureAwait(false);
                return made ?? throw new OciException($"Container networks need a private network, which rootless containers cannot get here: {unavailable}. Run as root, or use the CLI backend (podman).");
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The ports of a bundle's container: forwarders into its network namespace (rootless through the keeper's forwarder),
    /// or, rootless without a private network, the host's own.
    /// </summary>
    public static Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, bool rootless, CancellationToken cancellationToken) =>
        launch.PrivateNetwork is { } privateNetwork
            ? Task.FromResult(ForwardedPorts.Publish(container.Id, new HeldNamespaceConnector(privateNetwork), launch.Ports, launch.Options.HostPorts, launch.Log))
            : rootless
                ? Task.FromResult(DirectPorts.SharedHostNetwork(container.Id, launch.Ports, launch.Options.HostPorts, launch.HostNetworkReason ?? "no private network", launch.Log))
                : ForwardedPorts.PublishAsync(container, launch.Ports, launch.Options.HostPorts, launch.Log, cancellationToken);

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
