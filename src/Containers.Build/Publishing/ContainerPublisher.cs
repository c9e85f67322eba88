using System.Diagnostics;
using System.Globalization;
using System.Text;
using Containers.Build.Layering;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Referrers;
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
        var transfers = new TransferCounter(this, _registryOptions.Progress);
        using var registry = new RegistryClient(_registryOptions with { Progress = transfers });
        // Resolving runs git; the task has usually done it already for the config.
        var timestamp = request.Timestamp ?? BuildTimestamp.Resolve(request.ProjectDirectory, request.SourceDateEpoch);
        Report($"Image timestamp {timestamp.Value.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)} from {timestamp.Source}.{(timestamp == BuildTimestamp.FixedEpoch ? " " + BuildTimestamp.HowToSet : "")}");
        var cache = request.LayerCacheDirectory is null ? null : new LayerCache(request.LayerCacheDirectory, request.LayerCacheMaxBytes);
        var temporaryLayers = cache is null ? Directory.CreateTempSubdirectory("containers-sdk-layers-").FullName : null;
        try
        {
            var images = new List<BuiltImage>();
            foreach (var target in request.Targets)
            {
                images.Add(await BuildImageAsync(registry, request, target, timestamp, cache, temporaryLayers, cancellationToken).ConfigureAwait(false));
            }

            var result = await WriteAsync(registry, transfers, request, images, cache, timestamp, cancellationToken).ConfigureAwait(false);
            if (request.Sbom?.OutputDirectory is { } sbomDirectory)
            {
                result = result with { Sboms = WriteSbomFiles(result.Sboms, sbomDirectory, request.Destination.Repository, images.Count > 1) };
            }

            if (cache is not null)
            {
                var inUse = images.SelectMany(i => i.Image.Layers).Select(l => l.Descriptor.Digest).ToHashSet();
                var freed = cache.Prune(inUse);
                if (freed > 0)
                {
                    Report($"Layer cache pruned {FormatSize(freed)} to stay under {FormatSize(cache.MaxBytes)}.");
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

    /// <summary>One image built for one runtime identifier, with its SBOM (still being made, on another thread) when requested.</summary>
    private sealed record BuiltImage(Image Image, PublishedImageInfo Info, Task<PublishedSbom>? Sbom);

    private async Task<BuiltImage> BuildImageAsync(RegistryClient registry, ContainerPublishRequest request, ContainerPublishTarget target, BuildTimestamp timestamp, LayerCache? cache, string? temporaryLayers, CancellationToken cancellationToken)
    {
        var platform = RuntimeIdentifierPlatforms.ToPlatform(target.RuntimeIdentifier);
        var baseImage = await LoadBaseImageAsync(registry, request, platform, cancellationToken).ConfigureAwait(false);
        // The SBOM needs the base but not the image (the referrer's subject names the manifest, so the document
        // does not), so it is made on another thread while the layers are written.
        var sbomTask = request.Sbom is { } sbomOptions ? Task.Run(() => MakeSbom(request, target, baseImage, timestamp, sbomOptions), cancellationToken) : null;
        var format = request.Format ?? MediaTypes.FormatOf(baseImage.Manifest.MediaType ?? baseImage.ManifestDescriptor.MediaType);
        var options = new LayerWriteOptions
        {
            Compression = format == ManifestFormat.Docker ? LayerCompression.Gzip : request.Compression,
            Format = format,
            Timestamp = timestamp.Value,
        };

        var workingDirectory = "/" + request.WorkingDirectory.Trim('/') + "/";
        var groups = PublishLayering.Split(target.PublishDirectory, request.ApplicationName, request.CustomLayers);
        var appLayers = new List<(string Name, ILayer Layer, bool FromCache)>();
        foreach (var group in groups)
        {
            var plan = LayerPlan.Empty;
            foreach (var file in group.Files)
            {
                plan = new FileInfo(file.FullPath).LinkTarget is { } linkTarget
                    ? plan.AddSymlink(workingDirectory + file.RelativePath, linkTarget)
                    : plan.AddFile(file.FullPath, workingDirectory + file.RelativePath);
            }

            var stopwatch = Stopwatch.StartNew();
            var (layer, fromCache) = cache is not null
                ? await cache.GetOrBuildAsync(plan, options, cancellationToken).ConfigureAwait(false)
                : (await LayerWriter.WriteToDirectoryAsync(plan, temporaryLayers!, options, cancellationToken).ConfigureAwait(false), false);
            Report($"Layer '{group.Name}' ({group.Files.Count} files): {layer.Descriptor.Digest.Hex[..12]}, {FormatSize(layer.Descriptor.Size)}{(fromCache ? ", unchanged (cached)" : $", built in {stopwatch.ElapsedMilliseconds} ms")}.");
            appLayers.Add((group.Name, layer, fromCache));
        }

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
            layerInfos);
        // Not awaited here: the image's blobs can go up while the SBOM is still being made.
        var sbom = sbomTask is null ? null : FinishSbomAsync(sbomTask, request.Sbom!.Format, target.RuntimeIdentifier, image.ManifestDescriptor);
        return new BuiltImage(image, info, sbom);
    }

    private async Task<PublishedSbom> FinishSbomAsync(Task<(byte[] Content, bool Reused, long Milliseconds)> making, SbomFormat format, string runtimeIdentifier, Descriptor subject)
    {
        var (content, reused, milliseconds) = await making.ConfigureAwait(false);
        Report($"SBOM ({(format == SbomFormat.Spdx ? "SPDX 2.3" : "CycloneDX 1.6")}) for {runtimeIdentifier}: {FormatSize(content.Length)}, {(reused ? "unchanged" : $"made in {milliseconds} ms")}.");
        return new PublishedSbom(runtimeIdentifier, subject, SbomFormats.MediaType(format), content);
    }

    // No image digest in the document: the SBOM then only changes when dependencies, runtimes, base or timestamp
    // do, and an unchanged one is reused from the output directory and never uploaded again.
    private static (byte[] Content, bool Reused, long Milliseconds) MakeSbom(ContainerPublishRequest request, ContainerPublishTarget target, IImage baseImage, BuildTimestamp timestamp, ContainerSbomOptions options)
    {
        var stopwatch = Stopwatch.StartNew();
        var (content, reused) = SbomCache.GetOrGenerate(
            new SbomRequest
            {
                ApplicationName = request.ApplicationName,
                DepsFilePath = Path.Combine(target.PublishDirectory, request.ApplicationName + ".deps.json"),
                RuntimeConfigFilePath = Path.Combine(target.PublishDirectory, request.ApplicationName + ".runtimeconfig.json"),
                ProjectAssetsFilePath = options.ProjectAssetsFilePath,
                PackageFolders = options.PackageFolders,
                ImageName = ImageName(request.Destination),
                RuntimeIdentifier = target.RuntimeIdentifier,
                BaseImageName = request.BaseImage.ToString(),
                BaseImageDigest = baseImage.ManifestDescriptor.Digest,
                BaseImageEnvironment = baseImage.Config.Config?.Env ?? [],
                Created = timestamp.Value,
            },
            options.Format,
            options.OutputDirectory is { } directory ? Path.Combine(directory, ".cache") : null);
        return (content, reused, stopwatch.ElapsedMilliseconds);
    }

    // The generated annotations, then the caller's (which win). base.digest only on manifests: each platform has its own base.
    private static SortedDictionary<string, string> ManifestAnnotations(ContainerPublishRequest request, BuildTimestamp timestamp, Digest? baseDigest)
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

    private static string ImageName(ContainerDestination destination) =>
        destination is ContainerDestination.RegistryRepository r ? r.Registry + "/" + r.Repository : destination.Repository;

    private async Task<IImage> LoadBaseImageAsync(RegistryClient registry, ContainerPublishRequest request, Platform platform, CancellationToken cancellationToken)
    {
        if (request.BaseImageLayoutPath is { } layoutPath)
        {
            var refName = request.BaseImage.Digest?.ToString() ?? request.BaseImage.Tag ?? ImageReference.DefaultTag;
            return await new OciLayoutImageSource(layoutPath, refName).ReadImageAsync(platform, cancellationToken).ConfigureAwait(false);
        }

        Report($"Base image {request.BaseImage} for {PlatformMatching.Format(platform)}.");
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

    private async Task<ContainerPublishResult> WriteAsync(RegistryClient registry, TransferCounter transfers, ContainerPublishRequest request, List<BuiltImage> images, LayerCache? cache, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        var format = images[0].Image.Format;
        // Docker manifest lists have no annotations field; OCI indexes carry the same ones as their manifests, less base.digest.
        var index = images.Count > 1
            ? new ComposedImageIndex(images.Select(i => (IImage)i.Image).ToArray(), format, format == ManifestFormat.Oci ? ManifestAnnotations(request, timestamp, baseDigest: null) : null)
            : null;
        var sbomTasks = images.Where(i => i.Sbom is not null).Select(i => i.Sbom!).ToList();
        // A registry push starts before the SBOMs are made; every other destination writes them with the image.
        var sboms = request.Destination is ContainerDestination.RegistryRepository
            ? new List<PublishedSbom>()
            : [.. await Task.WhenAll(sbomTasks).ConfigureAwait(false)];
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
                    // Pulling the base image counted nothing as uploaded; count from here.
                    transfers.Reset();
                    Report($"Pushing to {registryDestination.Registry}/{registryDestination.Repository} ({string.Join(", ", tags)}).");
                    // Everything by digest first (no tag moves), the SBOMs' blobs alongside as soon as each is made, their
                    // referrer manifests once the image is complete, and the tags last: a push or an SBOM that fails
                    // moves no tag.
                    var push = new RegistryImageTarget(registry, registryDestination.Registry, registryDestination.Repository, [], mountFrom)
                        .WriteAsync(index is not null ? ImageContent.FromIndex(index) : ImageContent.FromImage(images[0].Image), cancellationToken);
                    var attachments = sbomTasks.Select(sbom => AttachSbomAsync(registry, registryDestination, sbom, push, timestamp, cancellationToken)).ToList();
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
                    await target.WriteAsync(Content(local, format), cancellationToken).ConfigureAwait(false);
                    var layout = target.Layout!;

                    for (var i = 0; i < sboms.Count; i++)
                    {
                        var entry = await layout.WriteReferrerAsync(SbomReferrer(sboms[i], timestamp), cancellationToken).ConfigureAwait(false);
                        sboms[i] = sboms[i] with { ReferrerDigest = entry.Digest };
                    }

                    layoutPath = layout.DirectoryPath;
                    break;
                }

            case ContainerDestination.Archive archive:
                {
                    var local = await LocalizeAsync(images, cache, cancellationToken).ConfigureAwait(false);
                    await WriteArchiveAsync(archive.FilePath, archive.Repository, archive.Format, local, tags, format, timestamp, cancellationToken).ConfigureAwait(false);
                    archivePath = archive.FilePath;
                    for (var i = 0; i < sboms.Count; i++)
                    {
                        var path = SbomFilePathBeside(archive.FilePath, sboms[i], sboms.Count > 1);
                        WriteSbomFile(path, sboms[i].Content);
                        sboms[i] = sboms[i] with { Files = [.. sboms[i].Files, path] };
                    }
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
                    Report($"containerd: {imported.Sent.Count} blobs sent ({FormatSize(uploaded)}), {imported.AlreadyPresent.Count} already present ({FormatSize(reused)}).");
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
            BytesUploaded = uploaded,
            BytesReused = reused,
            ArchivePath = archivePath,
            LayoutPath = layoutPath,
            Tags = tags,
            TimestampSource = timestamp.Source,
        };
    }

    private static async Task WriteArchiveAsync(string path, string repository, ArchiveFormat archiveFormat, IReadOnlyList<IImage> images, IReadOnlyList<string> tags, ManifestFormat format, BuildTimestamp timestamp, CancellationToken cancellationToken)
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
        await target.WriteAsync(Content(images, format), cancellationToken).ConfigureAwait(false);
    }

    // One image as itself, several as the index that lists them.
    private static ImageContent Content(IReadOnlyList<IImage> images, ManifestFormat format) =>
        images.Count > 1 ? ImageContent.FromIndex(new ComposedImageIndex(images, format)) : ImageContent.FromImage(images[0]);

    private async Task<PublishedSbom> AttachSbomAsync(RegistryClient registry, ContainerDestination.RegistryRepository destination, Task<PublishedSbom> making, Task subjectPushed, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        PublishedSbom sbom;
        try
        {
            sbom = await making.ConfigureAwait(false);
        }
        catch
        {
            // The image push's failure, if any, is the one to report.
            await subjectPushed.ConfigureAwait(false);
            throw;
        }

        // Not after the push: the referrer's blobs go up alongside it; its manifest waits for it.
        var pushed = await registry.PushReferrerAsync(destination.Registry, destination.Repository, SbomReferrer(sbom, timestamp), subjectPushed, cancellationToken).ConfigureAwait(false);
        Report($"SBOM for {sbom.RuntimeIdentifier} attached as referrer {pushed.ManifestDigest} ({(pushed.Recording == ReferrerRecording.ReferrersApi ? "referrers API" : "tag " + ReferrerArtifact.FallbackTag(sbom.Subject.Digest))}).");
        return sbom with { ReferrerDigest = pushed.ManifestDigest, Recording = pushed.Recording };
    }

    private static ReferrerArtifact SbomReferrer(PublishedSbom sbom, BuildTimestamp timestamp) =>
        ReferrerArtifact.Create(
            sbom.MediaType,
            sbom.Content,
            sbom.MediaType,
            sbom.Subject,
            new Dictionary<string, string>
            {
                ["org.opencontainers.image.created"] = timestamp.Text,
            });

    // app.tar.gz -> app.spdx.json (app.linux-x64.spdx.json for each image of a multi-platform tarball).
    private static string SbomFilePathBeside(string archivePath, PublishedSbom sbom, bool perRuntime)
    {
        var name = Path.GetFileName(archivePath);
        foreach (var extension in new[] { ".tar.gz", ".tgz", ".tar" })
        {
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^extension.Length];
                break;
            }
        }

        var format = sbom.MediaType == SbomFormats.CycloneDxMediaType ? SbomFormat.CycloneDx : SbomFormat.Spdx;
        var fileName = name + (perRuntime ? "." + sbom.RuntimeIdentifier : string.Empty) + SbomFormats.FileExtension(format);
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(archivePath)) ?? ".", fileName);
    }

    private static List<PublishedSbom> WriteSbomFiles(IReadOnlyList<PublishedSbom> sboms, string directory, string repository, bool perRuntime)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OciException($"ContainerSbomOutputDirectory '{directory}' cannot be created ({ex.Message}); choose a writable directory or set ContainerGenerateSbom=false.", ex);
        }

        var written = new List<PublishedSbom>();
        foreach (var sbom in sboms)
        {
            var path = SbomFilePathBeside(Path.Combine(directory, repository.Replace('/', '_') + ".tar"), sbom, perRuntime);
            WriteSbomFile(path, sbom.Content);
            written.Add(sbom with { Files = [.. sbom.Files, path] });
        }

        return written;
    }

    // A reader never sees half an SBOM.
    private static void WriteSbomFile(string path, ReadOnlyMemory<byte> content)
    {
        try
        {
            AtomicFile.Write(path, content.Span);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OciException($"The SBOM '{path}' cannot be written ({ex.Message}); choose a writable output path or set ContainerGenerateSbom=false.", ex);
        }
    }

    // Tarball and layout destinations must contain the base layers too: fetch each once into the cache.
    private static async Task<IReadOnlyList<IImage>> LocalizeAsync(List<BuiltImage> images, LayerCache? cache, CancellationToken cancellationToken)
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

    private void Report(string message) => _progress?.Report(new PublishProgress(message));

    internal static string FormatSize(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };

    /// <summary>
    /// Counts uploaded versus reused bytes from the registry client's progress events, reports each blob's
    /// outcome (and large uploads every 25%) to the log, and forwards events to the caller's own observer.
    /// </summary>
    private sealed class TransferCounter(ContainerPublisher owner, IProgress<TransferProgress>? forward) : IProgress<TransferProgress>
    {
        private readonly object _gate = new();
        private readonly Dictionary<Digest, int> _lastQuarter = [];

        public long Uploaded { get; private set; }

        public long Reused { get; private set; }

        public void Reset()
        {
            lock (_gate)
            {
                Uploaded = 0;
                Reused = 0;
                _lastQuarter.Clear();
            }
        }

        public void Report(TransferProgress value)
        {
            forward?.Report(value);
            string? message = null;
            lock (_gate)
            {
                if (value.IsComplete)
                {
                    switch (value.Operation)
                    {
                        case TransferOperation.Pushed:
                            Uploaded += value.TotalBytes;
                            message = $"Uploaded {value.Digest.Hex[..12]} ({FormatSize(value.TotalBytes)}).";
                            break;
                        case TransferOperation.Mounted:
                            Reused += value.TotalBytes;
                            message = $"Mounted {value.Digest.Hex[..12]} ({FormatSize(value.TotalBytes)}) from another repository.";
                            break;
                        case TransferOperation.SkippedExisting:
                            Reused += value.TotalBytes;
                            break;
                    }
                }
                else if (value.Operation == TransferOperation.Pushed && value.TotalBytes > 4 * 1024 * 1024)
                {
                    var quarter = (int)(value.BytesTransferred * 4 / value.TotalBytes);
                    if (quarter > _lastQuarter.GetValueOrDefault(value.Digest))
                    {
                        _lastQuarter[value.Digest] = quarter;
                        message = $"Uploading {value.Digest.Hex[..12]}: {FormatSize(value.BytesTransferred)} of {FormatSize(value.TotalBytes)}.";
                    }
                }
            }

            if (message is not null)
            {
                owner.Report(message);
            }
        }
    }
}
