using System.Globalization;
using Containers.Build.Configuration;
using Containers.Build.Layering;
using Containers.Build.Publishing;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain;
using Containers.Oci.Descriptors;
using Containers.Oci.Json;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Sdk.Tasks.BuildServer;
using Containers.Shared;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Builds the image (one RID) or image index (several) from the publish output and writes it to its
/// destination, through <see cref="ContainerPublisher"/>. Logs per-layer progress and a summary.
/// </summary>
public sealed class PublishContainerImage : ContainerSettingsTask
{
    /// <summary>The publish output directories, one per RID (metadata RuntimeIdentifier).</summary>
    [Required] public ITaskItem[] PublishDirectories { get; set; } = [];

    /// <summary>The project directory: its last git commit time is the image timestamp when SOURCE_DATE_EPOCH is unset.</summary>
    [Required] public string ProjectDirectory { get; set; } = "";

    /// <summary>ContainerArchiveOutputPath: a tarball path, or a directory to put <c>repository.tar.gz</c> in.</summary>
    public string? ContainerArchiveOutputPath { get; set; }

    /// <summary>Ours, ContainerOciLayoutPath: write into this OCI image layout directory.</summary>
    public string? ContainerOciLayoutPath { get; set; }

    /// <summary>Ours: the layout written when no destination is configured and no docker or podman CLI is found.</summary>
    public string? ContainerDefaultOciLayoutPath { get; set; }

    /// <summary>LocalRegistry: Docker or Podman; empty picks the first whose engine answers (<see cref="DefaultDestination"/>).</summary>
    public string? LocalRegistry { get; set; }

    /// <summary>Ours, ContainerBaseImageLayoutPath: read the base image from this OCI layout (its tag names the ref) instead of a registry.</summary>
    public string? ContainerBaseImageLayoutPath { get; set; }

    /// <summary>Ours: the layer cache directory; empty disables the cache.</summary>
    public string? ContainerLayerCacheDirectory { get; set; }

    /// <summary>Ours: the layer cache's size bound in bytes; empty keeps the default (4 GiB).</summary>
    public string? ContainerLayerCacheMaxBytes { get; set; }

    /// <summary>ContainerLayer items: Include is the layer name, Files and ExcludeFiles ';'-separated globs relative to the publish directory.</summary>
    public ITaskItem[] ContainerLayer { get; set; } = [];

    /// <summary>Ours, ContainerGenerateSbom: <c>false</c> turns the SBOM off (default on).</summary>
    public string? ContainerGenerateSbom { get; set; }

    /// <summary>Ours, ContainerSbomFormat: <c>spdx</c> (SPDX 2.3, default) or <c>cyclonedx</c> (CycloneDX 1.6).</summary>
    public string? ContainerSbomFormat { get; set; }

    /// <summary>Ours, ContainerSbomOutputDirectory: every SBOM is also written here (default under obj/).</summary>
    public string? ContainerSbomOutputDirectory { get; set; }

    /// <summary>ProjectAssetsFile: its package folders are searched for each package's nuspec.</summary>
    public string? ProjectAssetsFile { get; set; }

    /// <summary>NuGetPackageFolders and NuGetPackageRoot, ';'-separated.</summary>
    public string? NuGetPackageFolders { get; set; }

    /// <summary>The SOURCE_DATE_EPOCH environment variable (seconds since 1970), when set.</summary>
    public string? SourceDateEpoch { get; set; }

    /// <summary>The manifest (one RID) or one item per image of the index: metadata Manifest, Configuration, ManifestDigest, ConfigDigest, ManifestMediaType, RuntimeIdentifier.</summary>
    [Output] public ITaskItem[] GeneratedContainers { get; private set; } = [];

    /// <summary>The digest of what the tags point at: the manifest, or the index.</summary>
    [Output] public string? GeneratedContainerDigest { get; private set; }

    /// <summary>The media type of what the tags point at.</summary>
    [Output] public string? GeneratedContainerMediaType { get; private set; }

    /// <summary>The index JSON, for several RIDs.</summary>
    [Output] public string? GeneratedImageIndex { get; private set; }

    /// <summary>The tarball written, for archive destinations.</summary>
    [Output] public string? GeneratedArchiveOutputPath { get; private set; }

    /// <summary>The layout written, for layout destinations.</summary>
    [Output] public string? GeneratedOciLayoutPath { get; private set; }

    /// <summary>The SBOM files written, one per image: metadata RuntimeIdentifier, MediaType, Subject (the image manifest digest) and ReferrerDigest.</summary>
    [Output] public ITaskItem[] GeneratedContainerSboms { get; private set; } = [];

    /// <summary>The full names written: registry/repository:tag, or repository:tag locally.</summary>
    [Output] public ITaskItem[] GeneratedContainerNames { get; private set; } = [];

    /// <inheritdoc />
    protected override bool ExecuteCore(CancellationToken cancellationToken)
    {
        var settings = ResolveSettings();
        if (settings is null)
        {
            return false;
        }

        var targets = PublishDirectories
            .Select(item => new ContainerPublishTarget(item.GetMetadata("RuntimeIdentifier"), item.ItemSpec))
            .ToArray();
        var destination = ChooseDestination(settings, targets.Length);
        ContainerSbomOptions? sbom = null;
        if (Switch(ContainerGenerateSbom))
        {
            if (!SbomFormats.TryParse(ContainerSbomFormat, out var sbomFormat))
            {
                LogCodedError(ContainerErrorCodes.InvalidSbomFormat, $"ContainerSbomFormat is '{ContainerSbomFormat}'; expected 'spdx' (SPDX 2.3 JSON) or 'cyclonedx' (CycloneDX 1.6 JSON). Set one of them, or ContainerGenerateSbom=false for no SBOM.");
                return false;
            }

            sbom = new ContainerSbomOptions
            {
                Format = sbomFormat,
                ProjectAssetsFilePath = NullIfEmpty(ProjectAssetsFile),
                PackageFolders = (NuGetPackageFolders ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                OutputDirectory = NullIfEmpty(ContainerSbomOutputDirectory) is { } directory ? Path.GetFullPath(directory, ProjectDirectory) : null,
            };
        }

        var timestamp = BuildTimestamp.Resolve(ProjectDirectory, NullIfEmpty(SourceDateEpoch));
        var composeFindings = new List<ContainerDiagnostic>();
        void Report(ContainerDiagnostic diagnostic)
        {
            // Compositions of several RIDs find the same things; log each finding once, after the publish.
            lock (composeFindings)
            {
                if (!composeFindings.Contains(diagnostic))
                {
                    composeFindings.Add(diagnostic);
                }
            }
        }

        var request = new ContainerPublishRequest
        {
            Targets = targets,
            ApplicationName = AssemblyName,
            ProjectDirectory = ProjectDirectory,
            WorkingDirectory = settings.WorkingDirectory,
            CustomLayers = ContainerLayer.Select(ToLayerRule).ToArray(),
            BaseImage = settings.BaseImage,
            BaseImageIsInferred = settings.IsBaseImageInferred,
            BaseImageLayoutPath = NullIfEmpty(ContainerBaseImageLayoutPath),
            ComposeConfig = ImageConfigComposer.ForPublishing(settings, timestamp, Report),
            Destination = destination,
            Format = settings.ImageFormat ?? (destination is ContainerDestination.Archive { Format: ArchiveFormat.Oci } ? ManifestFormat.Oci : null),
            LayerCacheDirectory = NullIfEmpty(ContainerLayerCacheDirectory),
            LayerCacheMaxBytes = long.TryParse(ContainerLayerCacheMaxBytes, NumberStyles.None, CultureInfo.InvariantCulture, out var maxBytes) ? maxBytes : 4L * 1024 * 1024 * 1024,
            SourceDateEpoch = NullIfEmpty(SourceDateEpoch),
            Timestamp = timestamp,
            Annotations = settings.Annotations.ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal),
            Sbom = sbom,
        };

        Log.LogMessage(MessageImportance.High, $"Building image {DescribeDestination(destination)} from {settings.BaseImage} for {string.Join(", ", targets.Select(t => t.RuntimeIdentifier))}.");
        var credentials = new ConfiguredCredentialProvider(DotnetCredentialVariables.Apply(new CredentialProviderOptions
        {
            DestinationRegistry = settings.Registry,
            SourceRegistry = settings.BaseImage.Registry,
        }));
        // In the build server the next build reuses this one's registry connections.
        var publisher = new ContainerPublisher(new RegistryClientOptions { CredentialProvider = credentials, ShareConnections = BuildServerHost.IsServer }, new TaskLogProgress(Log));
        var result = publisher.PublishAsync(request, cancellationToken).GetAwaiter().GetResult();

        LogDiagnostics(composeFindings);
        ReportOutputs(result, destination);
        LogSummary(result, destination);
        return true;
    }

    private ContainerDestination ChooseDestination(ResolvedContainerSettings settings, int imageCount)
    {
        var tags = settings.Tags;
        if (!string.IsNullOrEmpty(ContainerArchiveOutputPath))
        {
            var format = settings.ImageFormat == ManifestFormat.Oci || (settings.ImageFormat is null && imageCount > 1) ? ArchiveFormat.Oci : ArchiveFormat.Docker;
            var path = ArchivePath(ContainerArchiveOutputPath, settings.Repository, format);
            if (format == ArchiveFormat.Docker && (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)))
            {
                // An OCI archive is gzip-compressed for such a name; a compressed docker-archive is one that podman load
                // (4.x) and skopeo's docker-archive: (1.9, both Debian 12) cannot read, so it stays a plain tar and says so.
                LogCodedWarning(ContainerErrorCodes.DockerArchiveNotCompressed, $"ContainerArchiveOutputPath '{ContainerArchiveOutputPath}' ends in a gzip extension, but the image is written as a docker-archive, which stays an uncompressed tar (podman load and skopeo do not read every compressed one). Name it '.tar', or set ContainerImageFormat=OCI to get a gzip-compressed OCI archive (docker load, podman load and skopeo oci-archive: read it).");
            }

            return new ContainerDestination.Archive(path, settings.Repository, format) { Tags = tags };
        }

        if (settings.Registry is { } registry)
        {
            return new ContainerDestination.RegistryRepository(registry, settings.Repository) { Tags = tags };
        }

        if (!string.IsNullOrEmpty(ContainerOciLayoutPath))
        {
            return new ContainerDestination.OciLayoutDirectory(Path.GetFullPath(ContainerOciLayoutPath, ProjectDirectory), settings.Repository) { Tags = tags };
        }

        if (!string.IsNullOrEmpty(LocalRegistry))
        {
            return new ContainerDestination.LocalDaemon(LocalRegistry.Trim().ToLowerInvariant(), settings.Repository) { Tags = tags };
        }

        // Nothing configured: the first local engine that answers (not merely a client on PATH), else an OCI layout.
        var layout = Path.GetFullPath(NullIfEmpty(ContainerDefaultOciLayoutPath) ?? Path.Combine("bin", "container"), ProjectDirectory);
        var choice = DefaultDestination.Choose(settings.Repository, tags, layout);
        Log.LogMessage(MessageImportance.High, choice.Explanation);
        return choice.Destination;
    }

    // As the SDK, a path that names a directory (trailing separator, or an existing directory) gets a file named after
    // the repository in it; unlike the SDK the name says what is inside: <repository>.tar.gz for a (compressed) OCI
    // archive, <repository>.tar for a docker-archive.
    private string ArchivePath(string given, string repository, ArchiveFormat format)
    {
        var full = Path.GetFullPath(given, ProjectDirectory);
        var namesDirectory = given.EndsWith('/') || given.EndsWith('\\') || Directory.Exists(full);
        return namesDirectory ? Path.Combine(full, repository.Replace('/', '_') + (format == ArchiveFormat.Oci ? ".tar.gz" : ".tar")) : full;
    }

    private void ReportOutputs(ContainerPublishResult result, ContainerDestination destination)
    {
        GeneratedContainerDigest = result.Digest.ToString();
        GeneratedContainerMediaType = result.MediaType;
        GeneratedImageIndex = result.Images.Count > 1 ? result.ManifestJson : "";
        GeneratedArchiveOutputPath = result.ArchivePath ?? "";
        GeneratedOciLayoutPath = result.LayoutPath ?? "";
        GeneratedContainers = result.Images.Select(image => (ITaskItem)new TaskItem("GeneratedContainer", new Dictionary<string, string>
        {
            ["Manifest"] = Escape(image.ManifestJson),
            ["Configuration"] = Escape(image.ConfigJson),
            ["ManifestDigest"] = image.ManifestDigest.ToString(),
            ["ConfigDigest"] = image.ConfigDigest.ToString(),
            ["ManifestMediaType"] = result.Images.Count > 1 ? OciJson.DetectManifestMediaType(System.Text.Encoding.UTF8.GetBytes(image.ManifestJson)) : result.MediaType,
            ["RuntimeIdentifier"] = image.RuntimeIdentifier,
        })).ToArray();
        var prefix = destination is ContainerDestination.RegistryRepository registry ? registry.Registry + "/" + registry.Repository : destination.Repository;
        GeneratedContainerNames = result.Tags.Select(tag => (ITaskItem)new TaskItem(prefix + ":" + tag)).ToArray();
        GeneratedContainerSboms = result.Sboms.SelectMany(sbom => sbom.Files.Select(file => (ITaskItem)new TaskItem(file, new Dictionary<string, string>
        {
            ["RuntimeIdentifier"] = sbom.RuntimeIdentifier,
            ["MediaType"] = sbom.MediaType,
            ["Subject"] = sbom.Subject.Digest.ToString(),
            ["ReferrerDigest"] = sbom.ReferrerDigest?.ToString() ?? "",
        }))).ToArray();
    }

    private void LogSummary(ContainerPublishResult result, ContainerDestination destination)
    {
        foreach (var image in result.Images)
        {
            var total = image.Layers.Sum(l => l.Size);
            Log.LogMessage(MessageImportance.High, $"  {image.RuntimeIdentifier}: manifest {image.ManifestDigest}, {image.Layers.Count} layers, {FormatSize(total)}");
            foreach (var layer in image.Layers)
            {
                Log.LogMessage(MessageImportance.High, $"    {layer.Name,-10} {FormatSize(layer.Size),10}  {layer.Digest}{(layer.FromCache ? "  (cached)" : "")}");
            }
        }

        var transfer = destination is ContainerDestination.RegistryRepository
            ? $", uploaded {FormatSize(result.BytesUploaded)}, reused {FormatSize(result.BytesReused)}"
            : "";
        // A layout's index.json also lists the SBOM referrer, so tools need the tag: say the exact reference.
        var reference = destination is ContainerDestination.OciLayoutDirectory layout
            ? $" Read it as {DefaultDestination.OciLayoutReference(result.LayoutPath ?? layout.DirectoryPath, result.Tags[0])} {(result.Sboms.Count > 0 ? " (with the tag: the layout's index.json also lists the image's SBOM, docs/stores.md)" : "")}."
            : "";
        Log.LogMessage(MessageImportance.High, $"Published {string.Join(", ", GeneratedContainerNames.Select(n => n.ItemSpec))} ({DescribeDestination(destination)}): {result.Digest}{transfer}. Timestamp from {result.TimestampSource}.{reference}");
    }

    private static string DescribeDestination(ContainerDestination destination) => destination switch
    {
        ContainerDestination.RegistryRepository r => $"for registry {r.Registry}",
        ContainerDestination.OciLayoutDirectory l => $"into OCI layout {l.DirectoryPath}",
        ContainerDestination.Archive a => $"into {(a.Format == ArchiveFormat.Oci ? "OCI" : "docker")} archive {a.FilePath}",
        ContainerDestination.LocalDaemon d => $"for local {Path.GetFileName(d.Command)}",
        _ => destination.GetType().Name,
    };

    private static CustomLayerRule ToLayerRule(ITaskItem item) =>
        new(item.ItemSpec, SplitGlobs(item.GetMetadata("Files")), SplitGlobs(item.GetMetadata("ExcludeFiles")));

    private static string[] SplitGlobs(string value) =>
        value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Escape(string value) => value.Replace("%", "%25", StringComparison.Ordinal);

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string FormatSize(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB"),
    };
}
