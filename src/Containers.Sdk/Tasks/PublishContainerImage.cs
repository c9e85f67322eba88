using System.Globalization;
using Containers.Build.Configuration;
using Containers.Build.Layering;
using Containers.Build.OsPackages;
using Containers.Build.Publishing;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain;
using Containers.Build.SupplyChain.Signing;
using Containers.Oci.Descriptors;
using Containers.Oci.Json;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Stores;
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

    /// <summary>LocalRegistry: Docker, Podman (or a path to either CLI) or containerd; empty picks the first of docker and podman whose engine answers (<see cref="DefaultDestination"/>).</summary>
    public string? LocalRegistry { get; set; }

    /// <summary>Ours, ContainerContainerdAddress: containerd's socket for LocalRegistry=containerd; empty for <see cref="ContainerdStore.DefaultAddress"/>.</summary>
    public string? ContainerContainerdAddress { get; set; }

    /// <summary>Ours, ContainerContainerdNamespace: the containerd namespace for LocalRegistry=containerd; empty for <see cref="ContainerdStore.DefaultNamespace"/>.</summary>
    public string? ContainerContainerdNamespace { get; set; }

    /// <summary>Ours, ContainerBaseImageLayoutPath: read the base image from this OCI layout (its tag names the ref) instead of a registry.</summary>
    public string? ContainerBaseImageLayoutPath { get; set; }

    /// <summary>Ours: the layer cache directory; empty disables the cache.</summary>
    public string? ContainerLayerCacheDirectory { get; set; }

    /// <summary>Ours: the layer cache's size bound in bytes; empty keeps the default (4 GiB).</summary>
    public string? ContainerLayerCacheMaxBytes { get; set; }

    /// <summary>
    /// Ours: whether gzip layers copy the deflate data the app's NuGet packages and runtime packs hold for its files
    /// instead of compressing those files again; true (or empty) by default, false compresses every file.
    /// </summary>
    public string? ContainerReusePackageCompression { get; set; }

    /// <summary>ContainerLayer items: Include is the layer name, Files and ExcludeFiles ';'-separated globs relative to the publish directory.</summary>
    public ITaskItem[] ContainerLayer { get; set; } = [];

    /// <summary>Ours, ContainerGenerateSbom: <c>false</c> turns the SBOM off (default on).</summary>
    public string? ContainerGenerateSbom { get; set; }

    /// <summary>Ours, ContainerSbomFormat: <c>spdx</c> (SPDX 2.3, default) or <c>cyclonedx</c> (CycloneDX 1.6).</summary>
    public string? ContainerSbomFormat { get; set; }

    /// <summary>Ours, ContainerSbomOutputDirectory: every SBOM is also written here (default under obj/).</summary>
    public string? ContainerSbomOutputDirectory { get; set; }

    /// <summary>
    /// Ours, ContainerSigningKey: where the ECDSA P-256 private key is, the path of a PEM file or the name of an
    /// environment variable holding one. Only the location is a parameter (MSBuild logs parameters); the key is
    /// read where it signs. Empty signs nothing.
    /// </summary>
    public string? ContainerSigningKey { get; set; }

    /// <summary>Ours, ContainerSigningOutputDirectory: every bundle is also written here, and remembered for the next publish (default under obj/).</summary>
    public string? ContainerSigningOutputDirectory { get; set; }

    /// <summary>Ours, ContainerBaseImagePolicy: rules the base must meet, checked before anything is built (<see cref="BaseImagePolicy"/>).</summary>
    public string? ContainerBaseImagePolicy { get; set; }

    /// <summary>Configuration, an external parameter of the provenance.</summary>
    public string? Configuration { get; set; }

    /// <summary>The signature and provenance bundle files written: metadata Name (a RID or index), Subject, PredicateType and ReferrerDigest.</summary>
    [Output] public ITaskItem[] GeneratedContainerSignatures { get; private set; } = [];

    /// <summary>ProjectAssetsFile: its package folders are searched for each package's nuspec.</summary>
    public string? ProjectAssetsFile { get; set; }

    /// <summary>NuGetPackageFolders and NuGetPackageRoot, ';'-separated.</summary>
    public string? NuGetPackageFolders { get; set; }

    /// <summary>Ours, ContainerImageReferencesFile: after a successful publish, the digest-pinned reference is written here (relative to the project directory).</summary>
    public string? ContainerImageReferencesFile { get; set; }

    /// <summary>The SOURCE_DATE_EPOCH environment variable (seconds since 1970), when set.</summary>
    public string? SourceDateEpoch { get; set; }

    /// <summary>Debian packages to add (ItemSpec: the package name; metadata Version: an exact version).</summary>
    public ITaskItem[] ContainerOsPackage { get; set; } = [];

    /// <summary>apt sources (ItemSpec: the repository URL; metadata Suite, Components, KeyFile); none: the base image's own.</summary>
    public ITaskItem[] ContainerOsPackageSource { get; set; } = [];

    /// <summary>The lock file; container-packages.lock.json in the project directory when empty.</summary>
    public string? ContainerOsPackagesLockFile { get; set; }

    /// <summary>true: fail (CONTAINER8128) instead of writing a lock file that would change.</summary>
    public string? ContainerOsPackagesLockedMode { get; set; }

    /// <summary>true: resolve from the sources again even when the lock file covers the request.</summary>
    public string? ContainerOsPackagesForceResolve { get; set; }

    /// <summary>Where .debs, unpacked packages and verified indexes are cached.</summary>
    public string? ContainerOsPackagesCacheDirectory { get; set; }


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

    /// <summary>
    /// The reference a deployment uses, one item per publish (<see cref="ContainerImageReference"/>): metadata Repository,
    /// Digest, MediaType, Tags (';'-separated), IsDigestPinned and DestinationKind (Registry, Containerd, LocalDaemon, OciLayout, Archive).
    /// </summary>
    [Output] public ITaskItem[] GeneratedContainerImageReferences { get; private set; } = [];

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
        if (destination is null)
        {
            return false;
        }

        var packageFolders = (NuGetPackageFolders ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
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
                PackageFolders = packageFolders,
                OutputDirectory = NullIfEmpty(ContainerSbomOutputDirectory) is { } directory ? Path.GetFullPath(directory, ProjectDirectory) : null,
            };
        }

        var basePolicy = NullIfEmpty(ContainerBaseImagePolicy) is { } policyText ? BaseImagePolicy.Parse(policyText, ProjectDirectory) : null;
        var signing = NullIfEmpty(ContainerSigningKey) is { } keyLocation
            ? new ContainerSigningOptions
            {
                KeyLocation = keyLocation,
                Project = Path.GetFileName(ProjectFullPath ?? ProjectDirectory),
                Configuration = NullIfEmpty(Configuration),
                ContainerProperties = ProvenanceProperties(settings),
                OutputDirectory = NullIfEmpty(ContainerSigningOutputDirectory) is { } signingDirectory ? Path.GetFullPath(signingDirectory, ProjectDirectory) : null,
            }
            : null;
        OsPackageOptions? osPackages = null;
        if (ContainerOsPackage.Length > 0)
        {
            osPackages = OsPackageSettings();
            if (osPackages is null)
            {
                return false;
            }
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
            PackageFolders = Switch(ContainerReusePackageCompression) ? packageFolders : [],
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
            Signing = signing,
            BaseImagePolicy = basePolicy,
            OsPackages = osPackages,
        };

        var referencesFile = NullIfEmpty(ContainerImageReferencesFile) is { } file ? Path.GetFullPath(file, ProjectDirectory) : null;
        if (referencesFile is not null)
        {
            ContainerImageReferences.DeleteStale(referencesFile);
        }

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
        var withScripts = result.Images.SelectMany(i => i.OsPackagesWithScripts).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (withScripts.Length > 0)
        {
            LogCodedWarning(OsPackageErrorCodes.MaintainerScriptsNotRun, $"ContainerOsPackage: {string.Join(", ", withScripts)} {(withScripts.Length == 1 ? "has" : "have")} maintainer scripts, which are not run in the os-packages layer (their files are in place; what a postinst would set up is not). Check that the app does not depend on it, or use a base image that has the package installed.");
        }

        ReportOutputs(result, destination);
        LogSummary(result, destination);
        if (referencesFile is not null)
        {
            var reference = ContainerImageReferences.For(destination, result);
            ContainerImageReferences.WriteFile(referencesFile, [reference]);
            Log.LogMessage(MessageImportance.High, $"Wrote {reference.Reference} to {referencesFile}.");
        }

        return true;
    }

    // What shaped the image's config, for the provenance's external parameters: values a reader can compare with the
    // project, but environment variables by name only (their values may be secrets).
    private static Dictionary<string, string> ProvenanceProperties(ResolvedContainerSettings settings)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ContainerRepository"] = settings.Repository,
            ["ContainerImageTags"] = string.Join(';', settings.Tags),
            ["ContainerBaseImage"] = settings.BaseImage.ToString(),
            ["ContainerWorkingDirectory"] = settings.WorkingDirectory,
        };
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                properties[name] = value;
            }
        }

        Add("ContainerRegistry", settings.Registry);
        Add("ContainerUser", settings.User);
        Add("ContainerImageFormat", settings.ImageFormat?.ToString());
        Add("ContainerEntrypoint", settings.Command.Entrypoint is { } entrypoint ? string.Join(' ', entrypoint) : null);
        Add("ContainerAppCommandArgs", string.Join(' ', settings.Command.Cmd));
        Add("ContainerPort", string.Join(';', settings.Ports.Select(p => p.Key)));
        Add("ContainerEnvironmentVariable", string.Join(';', settings.EnvironmentVariables.Select(e => e.Name)));
        Add("ContainerLabel", string.Join(';', settings.Labels.Select(l => l.Name + "=" + l.Value)));
        return properties;
    }

    private OsPackageOptions? OsPackageSettings()
    {
        var requests = new List<OsPackageRequest>();
        foreach (var item in ContainerOsPackage)
        {
            var name = item.ItemSpec.Trim();
            var version = NullIfEmpty(item.GetMetadata("Version"))?.Trim();
            if (!IsDebianPackageName(name))
            {
                LogCodedError(OsPackageErrorCodes.InvalidConfiguration, $"ContainerOsPackage '{item.ItemSpec}' is not a Debian package name (lowercase letters, digits, '+', '-', '.'; at least two characters, starting with a letter or digit), e.g. <ContainerOsPackage Include=\"libgdiplus\" />.");
                return null;
            }

            if (version is not null && !DebianVersion.TryParse(version, out _))
            {
                LogCodedError(OsPackageErrorCodes.InvalidConfiguration, $"ContainerOsPackage '{name}' has Version='{version}', which is not a Debian version ([epoch:]upstream[-revision], e.g. 7.88.1-10+deb12u8); fix it or remove the Version.");
                return null;
            }

            requests.Add(new OsPackageRequest(name, version));
        }

        var sources = new List<AptSource>();
        foreach (var item in ContainerOsPackageSource)
        {
            var suite = item.GetMetadata("Suite").Trim();
            var components = item.GetMetadata("Components").Split([' ', ';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (!Uri.TryCreate(item.ItemSpec.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || suite.Length == 0 || components.Length == 0)
            {
                LogCodedError(OsPackageErrorCodes.InvalidConfiguration, $"ContainerOsPackageSource '{item.ItemSpec}' needs an http(s) repository URL as Include, a Suite and Components, e.g. <ContainerOsPackageSource Include=\"https://archive.example/debian\" Suite=\"bookworm\" Components=\"main\" KeyFile=\"keys/archive.gpg\" />.");
                return null;
            }

            var keyFile = NullIfEmpty(item.GetMetadata("KeyFile"))?.Trim() is { } key ? Path.GetFullPath(key, ProjectDirectory) : null;
            sources.Add(new AptSource(uri, suite, components, keyFile));
        }

        return new OsPackageOptions(
            requests,
            sources,
            Path.GetFullPath(NullIfEmpty(ContainerOsPackagesLockFile) ?? OsPackageLockFile.FileName, ProjectDirectory),
            NullIfEmpty(ContainerOsPackagesCacheDirectory) is { } cache ? Path.GetFullPath(cache, ProjectDirectory) : Path.Combine(Path.GetTempPath(), "containers-sdk", "os-packages"),
            IsTrue(ContainerOsPackagesLockedMode),
            IsTrue(ContainerOsPackagesForceResolve));
    }

    private static bool IsTrue(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    private static bool IsDebianPackageName(string name) =>
        name.Length >= 2 && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '+' or '-' or '.');

    private ContainerDestination? ChooseDestination(ResolvedContainerSettings settings, int imageCount)
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

        if (!string.IsNullOrWhiteSpace(LocalRegistry))
        {
            var engine = LocalRegistry.Trim();
            if (string.Equals(engine, "containerd", StringComparison.OrdinalIgnoreCase))
            {
                return ContainerdDestination(settings.Repository, tags);
            }

            // A path names a docker or podman CLI as it is; only the well-known names are case-insensitive.
            if (Path.IsPathRooted(engine))
            {
                return new ContainerDestination.LocalDaemon(engine, settings.Repository) { Tags = tags };
            }

            var name = engine.ToLowerInvariant();
            if (name is not ("docker" or "podman"))
            {
                LogCodedError(ContainerErrorCodes.InvalidLocalRegistry, $"LocalRegistry is '{LocalRegistry}'; expected docker, podman (or the absolute path of either CLI) or containerd. Set one of them, or leave LocalRegistry empty to use the first engine that answers.");
                return null;
            }

            return new ContainerDestination.LocalDaemon(name, settings.Repository) { Tags = tags };
        }

        // Nothing configured: the first local engine that answers (not merely a client on PATH), else an OCI layout.
        var layout = Path.GetFullPath(NullIfEmpty(ContainerDefaultOciLayoutPath) ?? Path.Combine("bin", "container"), ProjectDirectory);
        var choice = DefaultDestination.Choose(settings.Repository, tags, layout);
        Log.LogMessage(MessageImportance.High, choice.Explanation);
        return choice.Destination;
    }

    private ContainerDestination.Containerd? ContainerdDestination(string repository, IReadOnlyList<string> tags)
    {
        var address = NullIfEmpty(ContainerContainerdAddress)?.Trim() ?? ContainerdStore.DefaultAddress;
        var path = address.StartsWith("unix://", StringComparison.Ordinal) ? address["unix://".Length..] : address;
        if (!Path.IsPathRooted(path))
        {
            LogCodedError(ContainerErrorCodes.InvalidContainerdSetting, $"ContainerContainerdAddress is '{ContainerContainerdAddress}'; expected the absolute path of containerd's socket (e.g. {ContainerdStore.DefaultAddress}, or unix:///run/k3s/containerd/containerd.sock).");
            return null;
        }

        var @namespace = NullIfEmpty(ContainerContainerdNamespace)?.Trim() ?? ContainerdStore.DefaultNamespace;
        if (!ContainerdStore.IsValidNamespace(@namespace))
        {
            LogCodedError(ContainerErrorCodes.InvalidContainerdSetting, $"ContainerContainerdNamespace is '{ContainerContainerdNamespace}'; expected a containerd namespace name: letters and digits separated by single '.', '_' or '-' ({ContainerdStore.DefaultNamespace} for Kubernetes nodes, default for ctr's own).");
            return null;
        }

        return new ContainerDestination.Containerd(path, @namespace, repository) { Tags = tags };
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
        var prefix = destination switch
        {
            ContainerDestination.RegistryRepository registry => registry.Registry + "/" + registry.Repository,
            ContainerDestination.Containerd containerd => containerd.NormalizedRepository,
            _ => destination.Repository,
        };
        GeneratedContainerNames = result.Tags.Select(tag => (ITaskItem)new TaskItem(prefix + ":" + tag)).ToArray();
        var reference = ContainerImageReferences.For(destination, result);
        GeneratedContainerImageReferences =
        [
            new TaskItem(reference.Reference, new Dictionary<string, string>
            {
                ["Repository"] = reference.Repository,
                ["Digest"] = reference.Digest.ToString(),
                ["MediaType"] = reference.MediaType,
                ["Tags"] = string.Join(';', reference.Tags),
                ["IsDigestPinned"] = reference.IsDigestPinned ? "true" : "false",
                ["DestinationKind"] = DestinationKind(destination),
            }),
        ];
        GeneratedContainerSignatures = result.Signatures.SelectMany(signature => signature.Files.Select(file => (ITaskItem)new TaskItem(file, new Dictionary<string, string>
        {
            ["Name"] = signature.Name,
            ["Subject"] = signature.Subject.Digest.ToString(),
            ["PredicateType"] = signature.PredicateType,
            ["ReferrerDigest"] = signature.ReferrerDigest?.ToString() ?? "",
        }))).ToArray();
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

        var transfer = destination switch
        {
            ContainerDestination.RegistryRepository => $", uploaded {FormatSize(result.BytesUploaded)}, reused {FormatSize(result.BytesReused)}",
            ContainerDestination.Containerd => $", sent {FormatSize(result.BytesUploaded)}, already in containerd {FormatSize(result.BytesReused)}",
            _ => "",
        };
        // A layout's index.json also lists the SBOM referrer, so tools need the tag: say the exact reference.
        var reference = destination is ContainerDestination.OciLayoutDirectory layout
            ? $" Read it as {DefaultDestination.OciLayoutReference(result.LayoutPath ?? layout.DirectoryPath, result.Tags[0])} {(result.Sboms.Count > 0 ? " (with the tag: the layout's index.json also lists the image's SBOM, docs/stores.md)" : "")}."
            : "";
        Log.LogMessage(MessageImportance.High, $"Published {string.Join(", ", GeneratedContainerNames.Select(n => n.ItemSpec))} ({DescribeDestination(destination)}): {result.Digest}{transfer}. Timestamp from {result.TimestampSource}.{reference}");
    }

    // The same words as the targets' _ContainerDestinationKind.
    private static string DestinationKind(ContainerDestination destination) => destination switch
    {
        ContainerDestination.RegistryRepository => "Registry",
        ContainerDestination.Containerd => "Containerd",
        ContainerDestination.LocalDaemon => "LocalDaemon",
        ContainerDestination.OciLayoutDirectory => "OciLayout",
        ContainerDestination.Archive => "Archive",
        _ => destination.GetType().Name,
    };

    private static string DescribeDestination(ContainerDestination destination) => destination switch
    {
        ContainerDestination.RegistryRepository r => $"for registry {r.Registry}",
        ContainerDestination.OciLayoutDirectory l => $"into OCI layout {l.DirectoryPath}",
        ContainerDestination.Archive a => $"into {(a.Format == ArchiveFormat.Oci ? "OCI" : "docker")} archive {a.FilePath}",
        ContainerDestination.LocalDaemon d => $"for local {Path.GetFileName(d.Command)}",
        ContainerDestination.Containerd c => $"for containerd at {c.Address} (namespace {c.Namespace})",
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
