using Containers.Host.Lifecycle;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Stores;

namespace Containers.Host.Images;

/// <summary>
/// What the runtime host keeps between runs: the images pulled from registries (an OCI layout in
/// <c>&lt;cache&gt;/images</c>) and the root filesystems unpacked from images (<c>&lt;cache&gt;/rootfs</c>), read and filled
/// the way <see cref="ContainerHost.StartAsync"/> uses them, so that an image pulled here starts without a registry request.
/// </summary>
/// <example>
/// <code>
/// var cache = new HostImageCache();
/// await cache.PullAsync(ImageReference.Parse("127.0.0.1:5000/app:1.0"), ContainerImageSource.HostPlatform);
/// foreach (var image in await cache.ListImagesAsync()) Console.WriteLine($"{image.Name} {image.Size}");
/// </code>
/// </example>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class HostImageCache
{
    /// <summary>Opens the cache in <paramref name="cacheDirectory"/> (null: <see cref="ContainerHost.DefaultCacheDirectory"/>).</summary>
    public HostImageCache(string? cacheDirectory = null)
    {
        CacheDirectory = Path.GetFullPath(cacheDirectory ?? ContainerHost.DefaultCacheDirectory);
    }

    /// <summary>The host's cache directory.</summary>
    public string CacheDirectory { get; }

    /// <summary>The OCI layout of pulled images.</summary>
    public string ImagesDirectory => Path.Combine(CacheDirectory, "images");

    /// <summary>The directory of unpacked root filesystems.</summary>
    public string RootfsDirectory => Path.Combine(CacheDirectory, "rootfs");

    /// <summary>
    /// Pulls the image <paramref name="reference"/> names for <paramref name="platform"/> into the cache, as a start of it
    /// would (the same names, mirrors and credential sources): a later start by digest asks no registry, one by tag only
    /// which digest the tag names. An image already cached costs one HEAD request (none when pinned by digest).
    /// </summary>
    /// <param name="reference">The registry reference.</param>
    /// <param name="platform">The platform to select from an index.</param>
    /// <param name="options">Registry options (progress, insecure registries); credentials default to the configured sources.</param>
    /// <param name="log">Receives one line per step (cached or pulled, how much).</param>
    /// <param name="cancellationToken">Cancels the pull.</param>
    /// <returns>The cached image.</returns>
    public Task<IImage> PullAsync(ImageReference reference, Platform platform, RegistryClientOptions? options = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(platform);
        return new ImageStore(CacheDirectory).GetAsync(reference, platform, options, log ?? (_ => { }), cancellationToken);
    }

    /// <summary>
    /// The pulled images, one per manifest: the names it was pulled by (tags first), its platform and its size (manifest,
    /// config and compressed layers as stored).
    /// </summary>
    public async Task<IReadOnlyList<CachedImage>> ListImagesAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(ImagesDirectory, "oci-layout")))
        {
            return [];
        }

        var layout = OciLayout.Open(ImagesDirectory);
        var images = new List<CachedImage>();
        foreach (var group in (await layout.GetEntriesAsync(cancellationToken).ConfigureAwait(false)).GroupBy(e => e.Descriptor.Digest))
        {
            IImage image;
            try
            {
                image = await layout.ReadImageAsync(group.Key.ToString(), null, cancellationToken).ConfigureAwait(false);
            }
            catch (Oci.OciException)
            {
                // A blob went missing (deleted by hand): the next start pulls the image again; nothing to list.
                continue;
            }

            // Names are "<name>:<tag>+<platform>" and "<name>@<digest>+<platform>": the platform suffix is the store's own.
            var names = group.Select(e => e.RefName).OfType<string>().Select(StripPlatform).Distinct(StringComparer.Ordinal)
                .OrderBy(n => n.Contains('@', StringComparison.Ordinal)).ThenBy(n => n, StringComparer.Ordinal).ToList();
            var size = image.ManifestDescriptor.Size + image.Manifest.Config.Size + image.Manifest.Layers.Sum(l => l.Size);
            images.Add(new CachedImage(names, group.Key, image.Config.Platform, size));
        }

        return images;
    }

    /// <summary>The unpacked root filesystems: one per layer chain, with the bytes of its files and when a container last used it.</summary>
    public IReadOnlyList<UnpackedRootfs> ListUnpacked()
    {
        if (!Directory.Exists(RootfsDirectory))
        {
            return [];
        }

        return new DirectoryInfo(RootfsDirectory).EnumerateDirectories("sha256-*")
            .Select(d => new UnpackedRootfs(d.Name, d.FullName, TreeSize(d), d.LastWriteTimeUtc))
            .OrderByDescending(r => r.LastUsed)
            .ToList();
    }

    /// <summary>
    /// Frees the caches of what no container (running, detached or not yet reaped) uses: the unpacked root filesystems,
    /// and with <paramref name="images"/> also the pulled images and their blobs (a later start pulls them again). With
    /// <paramref name="dryRun"/> it only says what it would free.
    /// </summary>
    /// <param name="images">Also remove pulled images no container uses.</param>
    /// <param name="dryRun">Remove nothing; return what would be removed.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    public async Task<HostCachePruneResult> PruneAsync(bool images, bool dryRun, CancellationToken cancellationToken = default)
    {
        var used = ChainsInUse();
        var rootfs = ListUnpacked().Where(r => !used.Contains(r.ChainId)).ToList();
        if (!dryRun && rootfs.Count > 0)
        {
            // RootfsCache.Prune asks again under its lock, so a container that started meanwhile keeps its tree.
            new RootfsCache(RootfsDirectory).Prune(0, ChainsInUse);
        }

        var removedImages = new List<CachedImage>();
        long blobBytes = 0;
        if (images && File.Exists(Path.Combine(ImagesDirectory, "oci-layout")))
        {
            var layout = OciLayout.Open(ImagesDirectory);
            var entries = await layout.GetEntriesAsync(cancellationToken).ConfigureAwait(false);
            foreach (var image in await ListImagesAsync(cancellationToken).ConfigureAwait(false))
            {
                var chain = await ChainOfAsync(layout, image, cancellationToken).ConfigureAwait(false);
                if (used.Contains(chain) || used.Contains(chain + "-owned"))
                {
                    continue;
                }

                removedImages.Add(image);
                if (!dryRun)
                {
                    foreach (var refName in entries.Where(e => e.Descriptor.Digest == image.Digest).Select(e => e.RefName).OfType<string>())
                    {
                        await layout.RemoveRefAsync(refName, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            // A pull in flight writes its blobs minutes at most before it names them in index.json.
            blobBytes = dryRun
                ? removedImages.Sum(i => i.Size)
                : (await layout.CollectGarbageAsync(TimeSpan.FromMinutes(10), dryRun: false, cancellationToken).ConfigureAwait(false)).Sum(b => b.Size);
        }

        return new HostCachePruneResult(rootfs, removedImages, blobBytes, dryRun);
    }

    private static async Task<string> ChainOfAsync(OciLayout layout, CachedImage image, CancellationToken cancellationToken)
    {
        var read = await layout.ReadImageAsync(image.Digest.ToString(), null, cancellationToken).ConfigureAwait(false);
        return RootfsCache.ChainId(read.Layers.Select(l => l.DiffId)).Replace(':', '-');
    }

    // The chains the host's containers were made from (the same record the rootfs cache's own pruning reads).
    private HashSet<string> ChainsInUse()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var containers = ContainerDirectory.ContainersDirectory(CacheDirectory);
        if (!Directory.Exists(containers))
        {
            return used;
        }

        foreach (var directory in Directory.GetDirectories(containers, ContainerHost.IdPrefix + "*"))
        {
            try
            {
                used.Add(File.ReadAllText(Path.Combine(directory, "image")).Trim());
            }
            catch (IOException)
            {
                // No image recorded yet: that start holds the rootfs cache's use lock until it records one.
            }
        }

        return used;
    }

    private static string StripPlatform(string refName)
    {
        var plus = refName.LastIndexOf('+');
        return plus > 0 ? refName[..plus] : refName;
    }

    // Files only (a tree's directories and links are a rounding error); a file hard-linked twice inside one tree is rare.
    private static long TreeSize(DirectoryInfo directory)
    {
        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        foreach (var file in directory.EnumerateFiles("*", options))
        {
            total += file.Length;
        }

        return total;
    }
}

/// <summary>An image in the host's image cache.</summary>
/// <param name="Names">The references it was pulled by (<c>registry/repository:tag</c> first, then <c>…@digest</c>).</param>
/// <param name="Digest">The manifest digest.</param>
/// <param name="Platform">The platform its config names.</param>
/// <param name="Size">The bytes stored: manifest, config and compressed layers.</param>
public sealed record CachedImage(IReadOnlyList<string> Names, Digest Digest, Platform Platform, long Size);

/// <summary>A root filesystem unpacked from an image.</summary>
/// <param name="ChainId">The directory name: the image's layer ChainID (<c>sha256-…</c>, with <c>-owned</c> when unpacked with owners).</param>
/// <param name="Path">The directory.</param>
/// <param name="Size">The bytes of its files.</param>
/// <param name="LastUsed">When a container was last made from it.</param>
public sealed record UnpackedRootfs(string ChainId, string Path, long Size, DateTimeOffset LastUsed);

/// <summary>What <see cref="HostImageCache.PruneAsync"/> removed, or would remove in a dry run.</summary>
/// <param name="Unpacked">The unpacked root filesystems.</param>
/// <param name="Images">The pulled images.</param>
/// <param name="ImageBytes">The bytes of image blobs freed (in a dry run: the images' sizes, shared blobs counted once per image).</param>
/// <param name="DryRun">Whether nothing was removed.</param>
public sealed record HostCachePruneResult(IReadOnlyList<UnpackedRootfs> Unpacked, IReadOnlyList<CachedImage> Images, long ImageBytes, bool DryRun)
{
    /// <summary>All bytes freed (or that would be).</summary>
    public long TotalBytes => Unpacked.Sum(r => r.Size) + ImageBytes;
}
