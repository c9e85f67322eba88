using System.Diagnostics;
using System.Text;
using Containers.Build.Layering;
using Containers.Build.OsPackages;
using Containers.Build.Publishing.Sboms;
using Containers.Build.Publishing.Transfers;
using Containers.Build.Reproducibility;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Transports;

namespace Containers.Build.Publishing.Building;

/// <summary>One image built for one runtime identifier, with its SBOM (still being made, on another thread) when requested.</summary>
/// <param name="Image">The image: the base's layers, then the app's.</param>
/// <param name="Info">What the publish result reports about it.</param>
/// <param name="Sbom">Its SBOM, or null when none was requested.</param>
internal sealed record BuiltAppImage(Image Image, PublishedImageInfo Info, Task<PublishedSbom>? Sbom)
{
    /// <summary>The digest of the base image manifest the image was built on.</summary>
    public required Digest BaseDigest { get; init; }
}

/// <summary>
/// Builds an app's image for one runtime identifier: reads the base, writes the publish output as layers (through
/// the layer cache when there is one), and composes config, history and annotations over the base's. Writes
/// nothing to the destination; that is <see cref="ContainerPublisher"/>'s part.
/// </summary>
internal sealed class AppImageBuilder(RegistryClient registry, SbomPublisher sboms, SemaphoreSlim layerSlots, Action<string> report, OsPackageInstaller? osPackages = null)
{
    /// <summary>How many layers are written at once in one publish, over all its runtime identifiers: one per core.</summary>
    public static int LayerConcurrency => Environment.ProcessorCount;

    /// <summary>
    /// Builds the image for <paramref name="target"/>; its layers go to <paramref name="cache"/>, or to <paramref name="temporaryLayers"/>
    /// without one, and each layer written now also to <paramref name="uploader"/> (the destination registry) as it is written.
    /// </summary>
    public async Task<BuiltAppImage> BuildAsync(ContainerPublishRequest request, ContainerPublishTarget target, BuildTimestamp timestamp, LayerCache? cache, string? temporaryLayers, LayerUploader? uploader, CancellationToken cancellationToken)
    {
        var platform = RuntimeIdentifierPlatforms.ToPlatform(target.RuntimeIdentifier);
        var baseImage = await LoadBaseImageAsync(request, platform, cancellationToken).ConfigureAwait(false);
        var format = request.Format ?? MediaTypes.FormatOf(baseImage.Manifest.MediaType ?? baseImage.ManifestDescriptor.MediaType);
        var options = new LayerWriteOptions
        {
            Compression = format == ManifestFormat.Docker ? LayerCompression.Gzip : request.Compression,
            Format = format,
            Timestamp = timestamp.Value,
        };

        // The OS packages come first: the SBOM lists them, and their layer sits right on the base.
        (string Name, ILayer Layer, bool FromCache)? osPackagesEntry = null;
        OsPackageLayer? osPackageLayer = null;
        if (request.OsPackages is { } osPackageOptions && osPackages is not null && osPackageOptions.Requests.Count > 0)
        {
            var stopwatch = Stopwatch.StartNew();
            osPackageLayer = await osPackages.PlanAsync(osPackageOptions, baseImage, DebianArchitecture(platform, target.RuntimeIdentifier), cancellationToken).ConfigureAwait(false);
            var planned = stopwatch.ElapsedMilliseconds;
            var (layer, fromCache) = await WriteLayerAsync(osPackageLayer.Plan, options, cache, temporaryLayers, uploader, cancellationToken).ConfigureAwait(false);
            report($"Layer '{OsPackageInstaller.LayerName}' ({osPackageLayer.Packages.Count} packages{(osPackageLayer.Resolved ? ", resolved" : ", from the lock file")} in {planned} ms): {layer.Descriptor.Digest.Hex[..12]}, {ByteSizes.Format(layer.Descriptor.Size)}{(fromCache ? ", unchanged (cached)" : $", built in {stopwatch.ElapsedMilliseconds - planned} ms")}.");
            osPackagesEntry = (OsPackageInstaller.LayerName, layer, fromCache);
        }

        var osPackageList = osPackageLayer?.Packages.Select(p => new SupplyChain.SbomOsPackage(p.Locked.Name, p.Locked.Version, p.PackageUrl, p.Locked.Sha256, $"{p.Locked.SourcePackage} {p.Locked.SourceVersion}")).ToArray() ?? [];
        var making = SbomPublisher.StartMaking(request, target, baseImage, timestamp, osPackageList, cancellationToken);

        var workingDirectory = "/" + request.WorkingDirectory.Trim('/') + "/";
        var groups = PublishLayering.Split(target.PublishDirectory, request.ApplicationName, request.CustomLayers);

        // Most of a self-contained app is its runtime packs' files, already deflated in their packages: the layers copy
        // that data instead of compressing the files again.
        var archives = PackageArchives.Find(Path.Combine(target.PublishDirectory, request.ApplicationName + ".deps.json"), request.PackageFolders);
        if (archives.Count > 0 && options.Compression == LayerCompression.Gzip)
        {
            options = options with { DeflatedFileSources = new DeflatedFileSources(archives) };
        }

        // The layers are written at once, as many as there are layer slots (shared by every runtime identifier of
        // the publish); the first that fails stops the others.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writing = groups.Select(async group =>
        {
            var plan = LayerPlan.Empty;
            foreach (var file in group.Files)
            {
                plan = new FileInfo(file.FullPath).LinkTarget is { } linkTarget
                    ? plan.AddSymlink(workingDirectory + file.RelativePath, linkTarget)
                    : plan.AddFile(file.FullPath, workingDirectory + file.RelativePath);
            }

            await layerSlots.WaitAsync(failed.Token).ConfigureAwait(false);
            try
            {
                var stopwatch = Stopwatch.StartNew();
                var (layer, fromCache) = await WriteLayerAsync(plan, options, cache, temporaryLayers, uploader, failed.Token).ConfigureAwait(false);
                report($"Layer '{group.Name}' ({group.Files.Count} files){ForRuntime(request, target)}: {layer.Descriptor.Digest.Hex[..12]}, {ByteSizes.Format(layer.Descriptor.Size)}{(fromCache ? ", unchanged (cached)" : $", built in {stopwatch.ElapsedMilliseconds} ms")}.");
                return (group.Name, Layer: (ILayer)layer, FromCache: fromCache);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                layerSlots.Release();
            }
        }).ToArray();
        var publishLayers = await WhenAllOrFirstFailure(writing, cancellationToken).ConfigureAwait(false);
        if (options.DeflatedFileSources is { } sources)
        {
            ReportCopies(sources, request, target);
        }
        (string Name, ILayer Layer, bool FromCache)[] appLayers = osPackagesEntry is { } osPackagesLayer ? [osPackagesLayer, .. publishLayers] : publishLayers;

        var composedConfig = request.ComposeConfig(baseImage.Config, target.RuntimeIdentifier, baseImage.ManifestDescriptor.Digest) with { Created = timestamp.Value };
        var history = new List<HistoryEntry>(baseImage.Config.History ?? []);
        history.AddRange(appLayers.Select(l => new HistoryEntry { Created = timestamp.Value, CreatedBy = $"Containers.Sdk: {l.Name} layer", Comment = "Containers.Sdk" }));
        var annotations = ManifestAnnotations(request, timestamp, baseImage.ManifestDescriptor.Digest);

        var image = Image.Create(
            composedConfig with { History = history },
            [.. baseImage.Layers, .. appLayers.Select(l => l.Layer)],
            format,
            annotations);
        var layerInfos = baseImage.Layers.Select(l => new PublishedLayerInfo("base", l.Descriptor.Digest, l.Descriptor.Size, FromCache: true))
            .Concat(appLayers.Select(l => new PublishedLayerInfo(l.Name, l.Layer.Descriptor.Digest, l.Layer.Descriptor.Size, l.FromCache)))
            .ToArray();
        var info = new PublishedImageInfo(
            target.RuntimeIdentifier,
            image.ManifestDescriptor.Digest,
            image.Manifest.Config.Digest,
            Encoding.UTF8.GetString(image.ConfigBytes.Span),
            Encoding.UTF8.GetString(image.ManifestBytes.Span),
            layerInfos)
        {
            OsPackages = osPackageLayer?.Packages ?? [],
            OsPackagesWithScripts = osPackageLayer?.PackagesWithScripts ?? [],
        };
        // Not awaited here: the image's blobs can go up while the SBOM is still being made.
        var sbom = making is null ? null : sboms.FinishAsync(making, request.Sbom!.Format, target.RuntimeIdentifier, image.ManifestDescriptor);
        return new BuiltAppImage(image, info, sbom) { BaseDigest = baseImage.ManifestDescriptor.Digest };
    }

    // Through the layer cache when there is one, else into the publish's temporary directory; a layer written now goes
    // to the destination registry as it is written when there is an uploader.
    private static async Task<(StoredLayer Layer, bool FromCache)> WriteLayerAsync(LayerPlan plan, LayerWriteOptions options, LayerCache? cache, string? temporaryLayers, LayerUploader? uploader, CancellationToken cancellationToken) =>
        cache is not null
            ? await cache.GetOrBuildAsync(plan, options, uploader, cancellationToken).ConfigureAwait(false)
            : uploader is not null
                ? (await uploader.WriteToDirectoryAsync(plan, temporaryLayers!, options, cancellationToken).ConfigureAwait(false), false)
                : (await LayerWriter.WriteToDirectoryAsync(plan, temporaryLayers!, options, cancellationToken).ConfigureAwait(false), false);

    /// <summary>
    /// Awaits every task; when one fails, rethrows that failure rather than the cancellations it caused in the others.
    /// </summary>
    public static async Task<T[]> WhenAllOrFirstFailure<T>(Task<T>[] tasks, CancellationToken cancellationToken)
    {
        try
        {
            return await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }

            throw;
        }
    }

    // What the layers written now took from the packages, and any package entry whose data did not match its file
    // (a damaged package in the NuGet folder: the file was compressed instead, and the package is worth restoring anew).
    private void ReportCopies(DeflatedFileSources sources, ContainerPublishRequest request, ContainerPublishTarget target)
    {
        if (sources.CopiedFileCount > 0)
        {
            report($"Copied the deflate data of {sources.CopiedFileCount} files ({ByteSizes.Format(sources.CopiedBytes)}){ForRuntime(request, target)} from the app's NuGet packages instead of compressing them (ContainerReusePackageCompression=false turns this off).");
        }

        foreach (var file in sources.RejectedFiles.Order(StringComparer.Ordinal))
        {
            report($"A package entry for '{file}' has its name, size and CRC-32 but did not inflate to its bytes; the file was compressed instead. The package in the NuGet folder may be damaged: delete its folder there and restore again.");
        }
    }

    private static string ForRuntime(ContainerPublishRequest request, ContainerPublishTarget target) =>
        request.Targets.Count > 1 ? " for " + target.RuntimeIdentifier : "";

    /// <summary>
    /// The generated annotations, then the caller's (which win). base.digest only on manifests (null
    /// <paramref name="baseDigest"/> for an index): each platform has its own base.
    /// </summary>
    public static SortedDictionary<string, string> ManifestAnnotations(ContainerPublishRequest request, BuildTimestamp timestamp, Digest? baseDigest)
    {
        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["org.opencontainers.image.base.name"] = request.BaseImage.ToString(),
            ["org.opencontainers.image.created"] = timestamp.Text,
        };
        if (baseDigest is { } digest)
        {
            annotations["org.opencontainers.image.base.digest"] = digest.ToString();
        }

        foreach (var (key, value) in request.Annotations ?? new Dictionary<string, string>())
        {
            annotations[key] = value;
        }

        return annotations;
    }

    /// <summary>The Debian architecture of <paramref name="platform"/> (Go's names for most, Debian's own for the rest).</summary>
    /// <exception cref="OsPackageException">A platform Debian has no architecture for.</exception>
    internal static string DebianArchitecture(Platform platform, string runtimeIdentifier) => (platform.Architecture, platform.Variant) switch
    {
        ("amd64", _) => "amd64",
        ("arm64", _) => "arm64",
        ("arm", "v5") => "armel",
        ("arm", _) => "armhf",
        ("386", _) => "i386",
        ("ppc64le", _) => "ppc64el",
        ("s390x", _) => "s390x",
        ("riscv64", _) => "riscv64",
        ("mips64le", _) => "mips64el",
        ("loong64", _) => "loong64",
        _ => throw new OsPackageException(OsPackageErrorCodes.ArchitectureNotAvailable,
            $"ContainerOsPackage: the runtime identifier '{runtimeIdentifier}' ({platform.Architecture}) has no Debian architecture; drop it from ContainerRuntimeIdentifiers or remove the OS packages."),
    };

    private async Task<IImage> LoadBaseImageAsync(ContainerPublishRequest request, Platform platform, CancellationToken cancellationToken)
    {
        if (request.BaseImageLayoutPath is { } layoutPath)
        {
            var refName = request.BaseImage.Digest?.ToString() ?? request.BaseImage.Tag ?? ImageReference.DefaultTag;
            return await new OciLayoutImageSource(layoutPath, refName).ReadImageAsync(platform, cancellationToken).ConfigureAwait(false);
        }

        report($"Base image {request.BaseImage} for {PlatformMatching.Format(platform)}.");
        try
        {
            return await registry.GetImageAsync(request.BaseImage, platform, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryUnreachableException ex)
        {
            throw new RegistryUnreachableException(ex.Message + " " + UnreachableBaseHint(request), ex.Registry, ex);
        }
    }

    // Behind a mirror or without a network the base must come from elsewhere: say which setting does that.
    private static string UnreachableBaseHint(ContainerPublishRequest request)
    {
        var image = request.BaseImage;
        var layout = $"or ContainerBaseImageLayoutPath=<dir> to read it from an OCI image layout (copied on a connected machine, e.g. 'skopeo copy docker://{image} oci:<dir>:{image.Tag ?? ImageReference.DefaultTag}')";
        return request.BaseImageIsInferred
            ? $"The base image {image} was inferred for this project. Where {image.Registry} cannot be reached (a mirror, a proxy, an air-gapped machine): set ContainerBaseRegistry=<mirror host[:port][/path]> to pull the same repository ({image.Repository}) from a mirror, ContainerBaseImage=<registry/repository:tag> to use another image, {layout}."
            : $"The base image is ContainerBaseImage={image}. Point it at a registry this machine reaches (a mirror), {layout}.";
    }
}
