using System.Globalization;
using System.Text;
using Containers.Build.OsPackages;
using Containers.Build.Publishing.Building;
using Containers.Build.Publishing.Sboms;
using Containers.Build.Publishing.Signatures;
using Containers.Build.Publishing.Transfers;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain.Signing;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Registry;
using Containers.Oci.Stores;
using Containers.Oci.Transports;

namespace Containers.Build.Publishing;

/// <summary>
/// Builds an app's image from its publish output on a base image and writes it to a destination.
/// </summary>
/// <example>
/// <code>
/// var publisher = new ContainerPublisher(new RegistryClientOptions { CredentialProvider = credentials }, progress);
/// var result = await publisher.PublishAsync(new ContainerPublishRequest
/// {
///     Targets = [new("linux-x64", "bin/Release/net10.0/linux-x64/publish")], ApplicationName = "MyApp",
///     ProjectDirectory = ".", BaseImage = ImageReference.Parse("mcr.microsoft.com/dotnet/runtime:10.0"),
///     ComposeConfig = (config, rid, baseDigest) => config, Destination = new ContainerDestination.RegistryRepository("127.0.0.1:5000", "myapp") { Tags = ["1.0"] },
/// }, cancellationToken);
/// </code>
/// </example>
public sealed class ContainerPublisher
{
    private readonly RegistryClientOptions _registryOptions;
    private readonly IProgress<PublishProgress>? _progress;
    private readonly object _reportGate = new();

    /// <summary>Creates a publisher.</summary>
    /// <param name="registryOptions">How to reach registries (credentials, insecure hosts, retries); the publisher owns the client it makes from them.</param>
    /// <param name="progress">Receives one-line progress messages.</param>
    public ContainerPublisher(RegistryClientOptions? registryOptions = null, IProgress<PublishProgress>? progress = null)
    {
        _registryOptions = registryOptions ?? new RegistryClientOptions();
        _progress = progress;
    }

    /// <summary>Builds and writes the image. Nothing is tagged unless every blob was written.</summary>
    public async Task<ContainerPublishResult> PublishAsync(ContainerPublishRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Targets.Count == 0)
        {
            throw new OciException("No runtime identifier to build an image for; set ContainerRuntimeIdentifier or RuntimeIdentifier.");
        }

        if (request.Destination.Tags.Count == 0)
        {
            throw new OciException("No tag to write the image under; set ContainerImageTag or ContainerImageTags.");
        }

        if (request.Destination is ContainerDestination.LocalDaemon daemon)
        {
            // Before anything is built: an engine that does not answer fails the publish at once.
            EnsureEngineAnswers(daemon.Command);
        }

        if (request.Destination is ContainerDestination.Containerd containerdDestination)
        {
            // Likewise: a containerd that cannot be reached fails the publish before anything is built.
            using var containerd = new ContainerdStore(containerdDestination.Address, containerdDestination.Namespace);
            await containerd.EnsureReachableAsync(cancellationToken).ConfigureAwait(false);
        }

        // One client per publish, so its transfer counts are this publish's alone.
        var transfers = new TransferTally(_registryOptions.Progress, Report);
        using var registry = new RegistryClient(_registryOptions with { Progress = transfers });
        // Resolving runs git; the task has usually done it already for the config.
        var timestamp = request.Timestamp ?? BuildTimestamp.Resolve(request.ProjectDirectory, request.SourceDateEpoch);
        Report($"Image timestamp {timestamp.Value.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)} from {timestamp.Source}.{(timestamp == BuildTimestamp.FixedEpoch ? " " + BuildTimestamp.HowToSet : "")}");
        if (request.BaseImagePolicy is { } policy)
        {
            // Before anything is built or pushed: a refused base stops the publish here.
            await policy.EnforceAsync(registry, request.BaseImage, request.BaseImageLayoutPath, cancellationToken).ConfigureAwait(false);
            Report($"Base image {request.BaseImage} meets ContainerBaseImagePolicy ({policy}).");
        }

        if (request.Signing is { } signingOptions)
        {
            // A key that cannot be read fails the publish before anything is built, not after the push.
            using var key = SigningKey.Load(signingOptions.KeyLocation, request.ProjectDirectory, signingOptions.Environment);
        }

        var cache = request.LayerCacheDirectory is null ? null : new LayerCache(request.LayerCacheDirectory, request.LayerCacheMaxBytes);
        var temporaryLayers = cache is null ? Directory.CreateTempSubdirectory("containers-sdk-layers-").FullName : null;
        try
        {
            var sboms = new SbomPublisher(Report);
            // Every runtime identifier at once; their layers share one bound of concurrent writes, and a layer two of
            // them have in common (same paths and content) is written once through the layer cache.
            using var layerSlots = new SemaphoreSlim(AppImageBuilder.LayerConcurrency);
            using var osPackages = request.OsPackages is { } osPackageOptions ? new OsPackageInstaller(OsPackageHttp.Value, osPackageOptions.CacheDirectory, Report) : null;
            var builder = new AppImageBuilder(registry, sboms, layerSlots, Report, osPackages);
            // Pulling the base image counts nothing as uploaded; layers streamed while they are written count from here.
            transfers.Reset();
            var uploader = request.Destination is ContainerDestination.RegistryRepository pushTo && await IsFirstPushAsync(registry, pushTo, cancellationToken).ConfigureAwait(false)
                ? new LayerUploader(registry, pushTo.Registry, pushTo.Repository, Report)
                : null;
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var building = request.Targets.Select(async target =>
            {
                try
                {
                    return await builder.BuildAsync(request, target, timestamp, cache, temporaryLayers, uploader, failed.Token).ConfigureAwait(false);
                }
                catch
                {
                    await failed.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }).ToArray();
            var images = (await AppImageBuilder.WhenAllOrFirstFailure(building, cancellationToken).ConfigureAwait(false)).ToList();

            var result = await WriteAsync(registry, transfers, sboms, request, images, cache, timestamp, cancellationToken).ConfigureAwait(false);
            if (request.Sbom?.OutputDirectory is { } sbomDirectory)
            {
                result = result with { Sboms = SbomPublisher.WriteToDirectory(result.Sboms, sbomDirectory, request.Destination.Repository, images.Count > 1) };
            }

            if (cache is not null)
            {
                var inUse = images.SelectMany(i => i.Image.Layers).Select(l => l.Descriptor.Digest).ToHashSet();
                var freed = cache.Prune(inUse);
                if (freed > 0)
                {
                    Report($"Layer cache pruned {ByteSizes.Format(freed)} to stay under {ByteSizes.Format(cache.MaxBytes)}.");
                }
            }

            return result;
        }
        finally
        {
            if (temporaryLayers is not null)
            {
                Directory.Delete(temporaryLayers, recursive: true);
            }
        }
    }

    private async Task<ContainerPublishResult> WriteAsync(RegistryClient registry, TransferTally transfers, SbomPublisher sbomPublisher, ContainerPublishRequest request, List<BuiltAppImage> images, LayerCache? cache, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        var format = images[0].Image.Format;
        // Docker manifest lists have no annotations field; OCI indexes carry the same ones as their manifests, less base.digest.
        var indexAnnotations = format == ManifestFormat.Oci ? AppImageBuilder.ManifestAnnotations(request, timestamp, baseDigest: null) : null;
        var index = images.Count > 1
            ? new ComposedImageIndex(images.Select(i => (IImage)i.Image).ToArray(), format, indexAnnotations)
            : null;
        var sbomTasks = images.Where(i => i.Sbom is not null).Select(i => i.Sbom!).ToList();
        // A registry push starts before the SBOMs are made; every other destination writes them with the image.
        var sboms = request.Destination is ContainerDestination.RegistryRepository
            ? new List<PublishedSbom>()
            : [.. await Task.WhenAll(sbomTasks).ConfigureAwait(false)];
        var signer = new SignaturePublisher(Report);
        var signatures = request.Signing is { } signing ? signer.Sign(request, signing, images, index) : [];
        var digest = index?.IndexDescriptor.Digest ?? images[0].Image.ManifestDescriptor.Digest;
        var mediaType = index?.IndexDescriptor.MediaType ?? images[0].Image.ManifestDescriptor.MediaType;
        var manifestJson = Encoding.UTF8.GetString((index?.IndexBytes ?? images[0].Image.ManifestBytes).Span);
        var tags = request.Destination.Tags;
        long uploaded = 0, reused = 0;
        string? archivePath = null, layoutPath = null;

        switch (request.Destination)
        {
            case ContainerDestination.RegistryRepository registryDestination:
                {
                    var mountFrom = request.BaseImageLayoutPath is null
                        && string.Equals(request.BaseImage.Registry, registryDestination.Registry, StringComparison.OrdinalIgnoreCase)
                        && request.BaseImage.Repository != registryDestination.Repository
                            ? new[] { request.BaseImage.Repository }
                            : [];
                    Report($"Pushing to {registryDestination.Registry}/{registryDestination.Repository} ({string.Join(", ", tags)}).");
                    // Everything by digest first (no tag moves), the SBOMs' blobs alongside as soon as each is made, their
                    // referrer manifests once the image is complete, and the tags last: a push or an SBOM that fails
                    // moves no tag.
                    var push = new RegistryImageTarget(registry, registryDestination.Registry, registryDestination.Repository, [], mountFrom)
                        .WriteAsync(index is not null ? ImageContent.FromIndex(index) : ImageContent.FromImage(images[0].Image), cancellationToken);
                    var attachments = sbomTasks.Select(sbom => sbomPublisher.AttachAsync(registry, registryDestination, sbom, push, timestamp, cancellationToken)).ToList();
                    try
                    {
                        await push.ConfigureAwait(false);
                    }
                    finally
                    {
                        // Observed either way; after a failed push they fail with its exception, which is already on its way.
                        await ((Task)Task.WhenAll(attachments)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    }

                    sboms.AddRange(await Task.WhenAll(attachments).ConfigureAwait(false));
                    // After the image, before the tags: a signature that cannot be attached moves no tag.
                    if (signatures.Count > 0)
                    {
                        signatures = await signer.AttachAsync(registry, registryDestination, signatures, timestamp, cancellationToken).ConfigureAwait(false);
                    }

                    var manifestBytes = index?.IndexBytes ?? images[0].Image.ManifestBytes;
                    foreach (var tag in tags)
                    {
                        await registry.PutManifestAsync(registryDestination.Registry, registryDestination.Repository, tag, manifestBytes, mediaType, cancellationToken).ConfigureAwait(false);
                    }

                    uploaded = transfers.Uploaded;
                    reused = transfers.Reused;

                    break;
                }

            case ContainerDestination.OciLayoutDirectory layoutDestination:
                {
                    var local = await LocalizeAsync(images, cache, cancellationToken).ConfigureAwait(false);
                    // The target opens an existing layout as it is and makes a new one otherwise.
                    var target = new OciLayoutImageTarget(layoutDestination.DirectoryPath, tags);
                    await target.WriteAsync(Content(local, format, indexAnnotations), cancellationToken).ConfigureAwait(false);
                    var layout = target.Layout!;
                    sboms = await SbomPublisher.AttachAsync(layout, sboms, timestamp, cancellationToken).ConfigureAwait(false);
                    signatures = await SignaturePublisher.AttachAsync(layout, signatures, timestamp, cancellationToken).ConfigureAwait(false);
                    layoutPath = layout.DirectoryPath;
                    break;
                }

            case ContainerDestination.Archive archive:
                {
                    var local = await LocalizeAsync(images, cache, cancellationToken).ConfigureAwait(false);
                    await WriteArchiveAsync(archive.FilePath, archive.Repository, archive.Format, local, tags, format, indexAnnotations, timestamp, cancellationToken).ConfigureAwait(false);
                    archivePath = archive.FilePath;
                    sboms = SbomPublisher.WriteBesideArchive(archive.FilePath, sboms);
                    signatures = SignaturePublisher.WriteFiles(archive.FilePath, signatures, images.Count > 1);
                    break;
                }

            case ContainerDestination.LocalDaemon daemon:
                {
                    var engine = EnsureEngineAnswers(daemon.Command);
                    var local = await LocalizeAsync(images, cache, cancellationToken).ConfigureAwait(false);
                    if (local.Count > 1)
                    {
                        throw new OciException($"A local {Path.GetFileName(daemon.Command)} store holds one platform per tag; publish one ContainerRuntimeIdentifier for LocalRegistry, or push the multi-platform image to a registry.");
                    }

                    await new LocalEngineImageTarget(engine, tags.Select(t => daemon.Repository + ":" + t).ToArray(), timestamp.Value).WriteAsync(ImageContent.FromImage(local[0]), cancellationToken).ConfigureAwait(false);
                    break;
                }

            case ContainerDestination.Containerd containerdDestination:
                {
                    // Not localized: a base layer containerd already holds is never downloaded, one it lacks streams from the registry.
                    var names = containerdDestination.ImageNames;
                    Report($"Importing into containerd at {containerdDestination.Address} (namespace {containerdDestination.Namespace}) as {string.Join(", ", names)}.");
                    var target = new ContainerdImageTarget(containerdDestination.Address, containerdDestination.Namespace, names);
                    await target.WriteAsync(index is not null ? ImageContent.FromIndex(index) : ImageContent.FromImage(images[0].Image), cancellationToken).ConfigureAwait(false);
                    var imported = target.LastImport!;
                    uploaded = imported.BytesSent;
                    reused = imported.AlreadyPresent.Sum(d => d.Size);
                    Report($"containerd: {imported.Sent.Count} blobs sent ({ByteSizes.Format(uploaded)}), {imported.AlreadyPresent.Count} already present ({ByteSizes.Format(reused)}).");
                    break;
                }
        }

        return new ContainerPublishResult
        {
            Digest = digest,
            MediaType = mediaType,
            ManifestJson = manifestJson,
            Images = images.Select(i => i.Info).ToArray(),
            Sboms = sboms,
            Signatures = request.Signing?.OutputDirectory is { } signingDirectory
                ? SignaturePublisher.WriteFiles(Path.Combine(signingDirectory, request.Destination.Repository.Replace('/', '_')), signatures, images.Count > 1)
                : signatures,
            BytesUploaded = uploaded,
            BytesReused = reused,
            ArchivePath = archivePath,
            LayoutPath = layoutPath,
            Tags = tags,
            TimestampSource = timestamp.Source,
        };
    }

    private static async Task WriteArchiveAsync(string path, string repository, ArchiveFormat archiveFormat, IReadOnlyList<IImage> images, IReadOnlyList<string> tags, ManifestFormat format, IReadOnlyDictionary<string, string>? indexAnnotations, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new OciException($"ContainerArchiveOutputPath '{path}': the directory cannot be created ({ex.Message}); choose a writable path.", ex);
            }
        }

        if (archiveFormat == ArchiveFormat.Docker && images.Count > 1)
        {
            throw new OciException("A docker-archive tarball holds one platform per tag; set ContainerImageFormat=OCI for a multi-platform tarball, or publish one ContainerRuntimeIdentifier.");
        }

        IImageTarget target = archiveFormat == ArchiveFormat.Oci
            ? new OciArchiveImageTarget(path, tags, timestamp.Value)
            : new DockerArchiveImageTarget(path, tags.Select(t => repository + ":" + t).ToArray(), timestamp.Value);
        await target.WriteAsync(Content(images, format, indexAnnotations), cancellationToken).ConfigureAwait(false);
    }

    // One image as itself, several as the index that lists them, with the same annotations as the index pushed to a
    // registry: the digest reported, signed and named in the provenance is the one written.
    private static ImageContent Content(IReadOnlyList<IImage> images, ManifestFormat format, IReadOnlyDictionary<string, string>? indexAnnotations) =>
        images.Count > 1 ? ImageContent.FromIndex(new ComposedImageIndex(images, format, indexAnnotations)) : ImageContent.FromImage(images[0]);

    // Tarball and layout destinations must contain the base layers too: fetch each once into the cache.
    private static async Task<IReadOnlyList<IImage>> LocalizeAsync(List<BuiltAppImage> images, LayerCache? cache, CancellationToken cancellationToken)
    {
        if (cache is null)
        {
            return images.Select(i => (IImage)i.Image).ToArray();
        }

        var result = new List<IImage>();
        foreach (var (image, _, _) in images)
        {
            var layers = new List<ILayer>();
            foreach (var layer in image.Layers)
            {
                layers.Add(await cache.GetOrDownloadAsync(layer, cancellationToken).ConfigureAwait(false));
            }

            result.Add(Image.Create(image.Config, layers, image.Format, image.Manifest.Annotations));
        }

        return result;
    }

    // An explicit choice is never overridden, but a client without its engine fails here, before any archive is
    // written, with what to do instead.
    private static string EnsureEngineAnswers(string command)
    {
        var probe = LocalEngines.Probe(command);
        var name = Path.GetFileName(command);
        if (probe.ExecutablePath is null)
        {
            throw new OciException($"LocalRegistry is '{command}' but '{command}' is not on PATH; install it, set LocalRegistry to docker or podman, or set ContainerRegistry, ContainerOciLayoutPath or ContainerArchiveOutputPath instead.");
        }

        if (!probe.Answers)
        {
            var other = name == "podman" ? "docker" : "podman";
            throw new OciException($"LocalRegistry is '{command}' but the {name} engine is not running ({probe.Detail}). Start it ({(name == "docker" ? "the Docker daemon" : "'podman info' shows what is wrong")}), or choose another destination: LocalRegistry={other}, ContainerOciLayoutPath=<dir>, ContainerArchiveOutputPath=<file.tar> or ContainerRegistry=<host>; with none of them set, publishing picks the first engine that answers, else an OCI layout.");
        }

        return probe.ExecutablePath;
    }

    // Layers are streamed to the registry while they are compressed only when none of the tags exists there yet. A
    // streamed layer's digest is known only at its end, so the registry cannot be asked first whether it has it: a
    // republish (an ephemeral CI runner's empty layer cache, a publish without one) would upload every layer again,
    // where writing it first and asking uploads only what changed.
    private async Task<bool> IsFirstPushAsync(RegistryClient registry, ContainerDestination.RegistryRepository destination, CancellationToken cancellationToken)
    {
        foreach (var tag in destination.Tags)
        {
            if (await registry.HeadManifestAsync(destination.Registry, destination.Repository, tag, cancellationToken).ConfigureAwait(false) is not null)
            {
                Report($"{destination.Repository}:{tag} exists: new layers are written first and uploaded only when the registry lacks them.");
                return false;
            }
        }

        return true;
    }

    // One client for the process: apt repositories are plain HTTP(S) file servers, and MSBuild nodes live long.
    private static readonly Lazy<HttpClient> OsPackageHttp = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(5) });

    // Layers and runtime identifiers report from several threads; the receiver (an MSBuild logger) gets one at a time.
    private void Report(string message)
    {
        if (_progress is { } progress)
        {
            lock (_reportGate)
            {
                progress.Report(new PublishProgress(message));
            }
        }
    }
}
