using System.Diagnostics;
using Containers.Build.Publishing.Transfers;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Referrers;
using Containers.Oci.Registry;
using Containers.Oci.Stores;

namespace Containers.Build.Publishing.Sboms;

/// <summary>An SBOM document as made for one runtime identifier, before it knows the image it describes.</summary>
/// <param name="Content">The document.</param>
/// <param name="Reused">True when the unchanged document was taken from the cache.</param>
/// <param name="Milliseconds">How long making it took.</param>
internal sealed record MadeSbom(byte[] Content, bool Reused, long Milliseconds);

/// <summary>
/// Makes each image's SBOM and puts it where the destination keeps it: attached as a referrer in a registry or an
/// OCI layout, in a file beside a tarball, and in the SBOM output directory.
/// </summary>
internal sealed class SbomPublisher(Action<string> report)
{
    /// <summary>
    /// Starts making the SBOM of one image on another thread, or returns null when none was requested.
    /// The SBOM needs the base but not the image (the referrer's subject names the manifest, so the document
    /// does not), so it can be made while the layers are written.
    /// </summary>
    public static Task<MadeSbom>? StartMaking(ContainerPublishRequest request, ContainerPublishTarget target, IImage baseImage, BuildTimestamp timestamp, IReadOnlyList<SbomOsPackage> osPackages, CancellationToken cancellationToken) =>
        request.Sbom is { } options ? Task.Run(() => Make(request, target, baseImage, timestamp, options, osPackages), cancellationToken) : null;

    /// <summary>Waits for the document and ties it to the image manifest it describes.</summary>
    public async Task<PublishedSbom> FinishAsync(Task<MadeSbom> making, SbomFormat format, string runtimeIdentifier, Descriptor subject)
    {
        var (content, reused, milliseconds) = await making.ConfigureAwait(false);
        report($"SBOM ({(format == SbomFormat.Spdx ? "SPDX 2.3" : "CycloneDX 1.6")}) for {runtimeIdentifier}: {ByteSizes.Format(content.Length)}, {(reused ? "unchanged" : $"made in {milliseconds} ms")}.");
        return new PublishedSbom(runtimeIdentifier, subject, SbomFormats.MediaType(format), content);
    }

    /// <summary>Pushes the SBOM as a referrer of its image once <paramref name="subjectPushed"/> completes.</summary>
    public async Task<PublishedSbom> AttachAsync(RegistryClient registry, ContainerDestination.RegistryRepository destination, Task<PublishedSbom> making, Task subjectPushed, BuildTimestamp timestamp, CancellationToken cancellationToken)
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
        var pushed = await registry.PushReferrerAsync(destination.Registry, destination.Repository, Referrer(sbom, timestamp), subjectPushed, cancellationToken).ConfigureAwait(false);
        report($"SBOM for {sbom.RuntimeIdentifier} attached as referrer {pushed.ManifestDigest} ({(pushed.Recording == ReferrerRecording.ReferrersApi ? "referrers API" : "tag " + ReferrerArtifact.FallbackTag(sbom.Subject.Digest))}).");
        return sbom with { ReferrerDigest = pushed.ManifestDigest, Recording = pushed.Recording };
    }

    /// <summary>Writes each SBOM into the layout as a referrer of its image.</summary>
    public static async Task<List<PublishedSbom>> AttachAsync(OciLayout layout, IReadOnlyList<PublishedSbom> sboms, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        var attached = new List<PublishedSbom>();
        foreach (var sbom in sboms)
        {
            var entry = await layout.WriteReferrerAsync(Referrer(sbom, timestamp), cancellationToken).ConfigureAwait(false);
            attached.Add(sbom with { ReferrerDigest = entry.Digest });
        }

        return attached;
    }

    /// <summary>Writes each SBOM to a file beside the tarball: app.tar.gz -> app.spdx.json.</summary>
    public static List<PublishedSbom> WriteBesideArchive(string archivePath, IReadOnlyList<PublishedSbom> sboms)
    {
        var written = new List<PublishedSbom>();
        foreach (var sbom in sboms)
        {
            var path = FilePathBeside(archivePath, sbom, sboms.Count > 1);
            WriteFile(path, sbom.Content);
            written.Add(sbom with { Files = [.. sbom.Files, path] });
        }

        return written;
    }

    /// <summary>Writes each SBOM to the SBOM output directory, named after the repository.</summary>
    public static List<PublishedSbom> WriteToDirectory(IReadOnlyList<PublishedSbom> sboms, string directory, string repository, bool perRuntime)
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
            var path = FilePathBeside(Path.Combine(directory, repository.Replace('/', '_') + ".tar"), sbom, perRuntime);
            WriteFile(path, sbom.Content);
            written.Add(sbom with { Files = [.. sbom.Files, path] });
        }

        return written;
    }

    // No image digest in the document: the SBOM then only changes when dependencies, runtimes, base or timestamp
    // do, and an unchanged one is reused from the output directory and never uploaded again.
    private static MadeSbom Make(ContainerPublishRequest request, ContainerPublishTarget target, IImage baseImage, BuildTimestamp timestamp, ContainerSbomOptions options, IReadOnlyList<SbomOsPackage> osPackages)
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
                OsPackages = osPackages,
                Created = timestamp.Value,
            },
            options.Format,
            options.OutputDirectory is { } directory ? Path.Combine(directory, ".cache") : null);
        return new MadeSbom(content, reused, stopwatch.ElapsedMilliseconds);
    }

    private static string ImageName(ContainerDestination destination) =>
        destination is ContainerDestination.RegistryRepository r ? r.Registry + "/" + r.Repository : destination.Repository;

    private static ReferrerArtifact Referrer(PublishedSbom sbom, BuildTimestamp timestamp) =>
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
    private static string FilePathBeside(string archivePath, PublishedSbom sbom, bool perRuntime)
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

    // A reader never sees half an SBOM.
    private static void WriteFile(string path, ReadOnlyMemory<byte> content)
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
}
