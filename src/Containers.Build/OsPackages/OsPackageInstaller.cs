using System.Text;
using Containers.Oci.Images;
using Containers.Oci.Layers;

namespace Containers.Build.OsPackages;

/// <summary>What to install and how strictly.</summary>
/// <param name="Requests">The packages asked for.</param>
/// <param name="Sources">The apt sources in priority order; empty for the base image's own (its /etc/apt sources).</param>
/// <param name="LockFilePath">The lock file (<c>container-packages.lock.json</c> beside the project).</param>
/// <param name="CacheDirectory">Where .deb files, unpacked packages and verified indexes are kept.</param>
/// <param name="LockedMode">True (for CI): fail instead of writing a lock file that would change.</param>
/// <param name="ForceResolve">True: resolve from the sources again even when the lock covers the request.</param>
public sealed record OsPackageOptions(
    IReadOnlyList<OsPackageRequest> Requests,
    IReadOnlyList<AptSource> Sources,
    string LockFilePath,
    string CacheDirectory,
    bool LockedMode = false,
    bool ForceResolve = false);

/// <summary>An installed package as the image and its SBOM describe it.</summary>
/// <param name="Locked">The locked package.</param>
/// <param name="Distribution">The distribution ID for package URLs (<c>debian</c>, <c>ubuntu</c>).</param>
public sealed record InstalledOsPackage(LockedOsPackage Locked, string Distribution)
{
    /// <summary>The package URL: <c>pkg:deb/debian/curl@7.88.1-10+deb12u8?arch=amd64</c>.</summary>
    /// <remarks>Name and version as written (Debian allows only <c>a-z 0-9 . + - ~ :</c>), as syft and trivy print them.</remarks>
    public string PackageUrl => $"pkg:deb/{Distribution}/{Locked.Name}@{Locked.Version}?arch={Locked.Architecture}";
}

/// <summary>The os-packages layer of one architecture: its plan and what it holds.</summary>
/// <param name="Plan">The layer's entries (files from the .debs, status.d entries), ready for <see cref="LayerWriter"/>.</param>
/// <param name="Packages">The packages in it, sorted by name.</param>
/// <param name="PackagesWithScripts">Packages with maintainer scripts, which are not run.</param>
/// <param name="LockWritten">True when the lock file was written by this call.</param>
/// <param name="Resolved">True when the sources were read (no lock covered the request).</param>
public sealed record OsPackageLayer(LayerPlan Plan, IReadOnlyList<InstalledOsPackage> Packages, IReadOnlyList<string> PackagesWithScripts, bool LockWritten, bool Resolved);

/// <summary>
/// Turns <c>ContainerOsPackage</c> requests into the <c>os-packages</c> layer of one base image and architecture:
/// the lock file when it covers the request (no index is read), otherwise resolution against the sources' signed
/// indexes and a new lock file; then the .debs from the store, their files mapped through the base's directory
/// symlinks, and a dpkg <c>status.d</c> entry (plus <c>.md5sums</c>) per package. Maintainer scripts are not run.
/// </summary>
public sealed class OsPackageInstaller : IDisposable
{
    /// <summary>The name of the layer.</summary>
    public const string LayerName = "os-packages";

    private const string StatusDirectory = "var/lib/dpkg/status.d";
    private readonly SemaphoreSlim _lockFileGate = new(1, 1);
    private readonly AptRepositoryClient _client;
    private readonly DebPackageStore _store;
    private readonly Action<string> _report;

    /// <summary>Creates an installer whose downloads go through <paramref name="http"/> and whose cache is <paramref name="cacheDirectory"/>.</summary>
    public OsPackageInstaller(HttpClient http, string cacheDirectory, Action<string> report)
    {
        _client = new AptRepositoryClient(http, cacheDirectory);
        _store = new DebPackageStore(cacheDirectory, _client);
        _report = report;
    }

    /// <inheritdoc/>
    public void Dispose() => _lockFileGate.Dispose();

    /// <summary>Plans the os-packages layer for <paramref name="baseImage"/> and <paramref name="architecture"/> (a Debian architecture).</summary>
    /// <exception cref="OsPackageException">Any failure; the message names the package or the source.</exception>
    public async Task<OsPackageLayer> PlanAsync(OsPackageOptions options, IImage baseImage, string architecture, CancellationToken cancellationToken)
    {
        var facts = await BaseImageFacts.ReadSummaryAsync(baseImage, options.CacheDirectory, cancellationToken).ConfigureAwait(false);
        var distribution = facts.DistributionId ?? "debian";
        var sources = options.Sources.Count > 0 ? options.Sources : DefaultSources(facts);
        var requested = OsPackageLockFile.Describe(options.Requests);
        var lockedSources = OsPackageLockFile.Describe(sources);

        IReadOnlyList<LockedOsPackage> locked;
        bool written = false, resolved = false;
        await _lockFileGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var lockFile = OsPackageLockFile.Read(options.LockFilePath);
            if (lockFile is not null && !options.ForceResolve && lockFile.Covers(requested, lockedSources, architecture))
            {
                locked = lockFile.Packages[architecture];
            }
            else if (options.LockedMode && !options.ForceResolve)
            {
                throw LockOutOfDate(options, lockFile, lockFile is null ? null : Difference(lockFile, requested, lockedSources, architecture));
            }
            else
            {
                resolved = true;
                if (facts.IsSummary)
                {
                    facts = await BaseImageFacts.ReadAsync(baseImage, cancellationToken).ConfigureAwait(false);
                }

                locked = await ResolveAsync(options, sources, facts, architecture, cancellationToken).ConfigureAwait(false);
                var packages = new SortedDictionary<string, IReadOnlyList<LockedOsPackage>>(StringComparer.Ordinal);
                if (lockFile is not null && lockFile.Requested.SequenceEqual(requested, StringComparer.Ordinal)
                    && lockFile.Sources.Select(s => s.DisplayName).SequenceEqual(lockedSources.Select(s => s.DisplayName), StringComparer.Ordinal))
                {
                    foreach (var (arch, list) in lockFile.Packages)
                    {
                        packages[arch] = list;
                    }
                }

                packages[architecture] = locked;
                var updated = new OsPackageLockFile { Requested = requested, Sources = lockedSources, Packages = packages };
                if (lockFile is null || lockFile.ToJson() != updated.ToJson())
                {
                    if (options.LockedMode)
                    {
                        throw LockOutOfDate(options, lockFile, lockFile is null ? null : Difference(lockFile, requested, lockedSources, architecture) ?? $"the packages for {architecture} changed");
                    }

                    updated.Write(options.LockFilePath);
                    written = true;
                    _report($"OS packages: wrote {options.LockFilePath} ({locked.Count} packages for {architecture}).");
                }
            }
        }
        finally
        {
            _lockFileGate.Release();
        }

        var bySource = sources.ToDictionary(s => s.DisplayName, StringComparer.Ordinal);
        var stored = new List<(LockedOsPackage Locked, StoredDeb Deb)>();
        foreach (var package in locked)
        {
            if (!bySource.TryGetValue(package.Source, out var source))
            {
                throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration,
                    $"The lock file '{options.LockFilePath}' takes '{package.Name}' from the source '{package.Source}', which is not one of the ContainerOsPackageSource items; resolve again.");
            }

            stored.Add((package, await _store.GetAsync(package.Name, source, package.Filename, package.Sha256, package.Size, cancellationToken).ConfigureAwait(false)));
        }

        var plan = BuildPlan(stored, facts);
        var withScripts = stored.Where(s => s.Deb.Control.MaintainerScripts.Count > 0).Select(s => s.Locked.Name).ToArray();
        return new OsPackageLayer(plan, locked.Select(l => new InstalledOsPackage(l, distribution)).ToArray(), withScripts, written, resolved);
    }

    /// <summary>
    /// The base image's own apt sources: its /etc/apt/sources.list and sources.list.d (one-line and deb822 formats),
    /// binary (<c>deb</c>) entries only. Debian and Ubuntu images ship these pointing at their release's archive.
    /// </summary>
    /// <exception cref="OsPackageException">The base has no apt sources (distroless): name them with ContainerOsPackageSource.</exception>
    public static IReadOnlyList<AptSource> DefaultSources(BaseImageFacts facts)
    {
        if (facts.AptSources.Count == 0)
        {
            throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration,
                $"The base image ({facts.DistributionId ?? "unknown distribution"} {facts.Codename ?? string.Empty}) configures no apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d), so ContainerOsPackage has no default source; add a ContainerOsPackageSource item (Include=<archive URL>, Suite, Components, KeyFile).".Replace("  ", " ", StringComparison.Ordinal));
        }

        return facts.AptSources;
    }

    private async Task<IReadOnlyList<LockedOsPackage>> ResolveAsync(OsPackageOptions options, IReadOnlyList<AptSource> sources, BaseImageFacts facts, string architecture, CancellationToken cancellationToken)
    {
        var baseKeyring = new Lazy<OpenPgpKeyring>(() => OpenPgpKeyring.Load(facts.KeyFiles, "the base image's keyrings (/usr/share/keyrings, /etc/apt/trusted.gpg.d)", skipUnreadable: true));
        var indexes = new List<AptIndex>();
        foreach (var source in sources)
        {
            OpenPgpKeyring keyring;
            if (source.KeyFile is { } keyFile)
            {
                if (!File.Exists(keyFile))
                {
                    throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration,
                        $"The KeyFile '{keyFile}' of the source '{source.DisplayName}' does not exist; give the path of the repository's public key (.gpg or .asc).");
                }

                keyring = OpenPgpKeyring.Load([(keyFile, await File.ReadAllBytesAsync(keyFile, cancellationToken).ConfigureAwait(false))], $"the key file '{keyFile}'");
            }
            else
            {
                keyring = baseKeyring.Value;
            }

            _report($"OS packages: reading {source.DisplayName} ({architecture}).");
            indexes.Add(await _client.GetIndexAsync(source, architecture, keyring, cancellationToken).ConfigureAwait(false));
        }

        var resolved = new OsPackageResolver(architecture, facts.Installed, indexes).Resolve(options.Requests);
        return resolved.Select(r =>
        {
            var package = r.Package;
            if (package.Filename is null || package.Sha256 is null)
            {
                throw new OsPackageException(OsPackageErrorCodes.SignatureInvalid,
                    $"The index of the source '{r.Source.DisplayName}' lists '{package.Name}' {package.Version} without Filename or SHA256; it cannot be verified.");
            }

            return new LockedOsPackage
            {
                Name = package.Name,
                Version = package.Version.Text,
                Architecture = package.Architecture,
                Sha256 = package.Sha256,
                Size = package.Size,
                Filename = package.Filename,
                Source = r.Source.DisplayName,
                SourcePackage = package.SourceName,
                SourceVersion = package.SourceVersion.Text,
            };
        }).ToArray();
    }

    private LayerPlan BuildPlan(List<(LockedOsPackage Locked, StoredDeb Deb)> packages, BaseImageFacts facts)
    {
        var entries = new List<LayerEntry>();
        var statusFiles = Path.Combine(_store.Directory, "status.d");
        Directory.CreateDirectory(statusFiles);
        foreach (var (locked, deb) in packages.OrderBy(p => p.Locked.Name, StringComparer.Ordinal))
        {
            foreach (var entry in deb.Entries)
            {
                var path = facts.MapPath(entry.Path);
                if (facts.IsSymlink(path) && entry.Kind == 'd')
                {
                    continue; // The base's link (say lib64 -> usr/lib64) stays; the package's files went through it.
                }

                entries.Add(entry.Kind switch
                {
                    'd' => LayerEntry.Directory(path, entry.Mode),
                    'l' => LayerEntry.Symlink(path, entry.LinkTarget!),
                    _ => LayerEntry.File(path, Path.Combine(deb.Root, entry.Path), entry.Mode),
                });
            }

            var status = deb.Control.Control.WithAfter("Package", "Status", "install ok installed");
            entries.Add(LayerEntry.File($"{StatusDirectory}/{locked.Name}", WriteOnce(statusFiles, deb.Sha256 + ".status", status.ToString())));
            if (deb.Control.Md5Sums is { } md5sums)
            {
                entries.Add(LayerEntry.File($"{StatusDirectory}/{locked.Name}.md5sums", WriteOnce(statusFiles, deb.Sha256 + ".md5sums", md5sums)));
            }
        }

        return LayerPlan.Empty.AddRange(entries);
    }

    private static string WriteOnce(string directory, string name, string content)
    {
        var path = Path.Combine(directory, name);
        var bytes = Encoding.UTF8.GetBytes(content);
        if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            AtomicFile.Write(path, bytes);
        }

        return path;
    }

    private static OsPackageException LockOutOfDate(OsPackageOptions options, OsPackageLockFile? lockFile, string? difference) =>
        new(OsPackageErrorCodes.LockFileOutOfDate,
            lockFile is null
                ? $"ContainerOsPackagesLockedMode is true but there is no lock file '{options.LockFilePath}'; resolve once without locked mode (dotnet msbuild -t:ResolveContainerOsPackages) and commit the lock file."
                : $"ContainerOsPackagesLockedMode is true but the lock file '{options.LockFilePath}' would change ({difference}); run 'dotnet msbuild -t:ResolveContainerOsPackages' and commit the lock file.");

    private static string? Difference(OsPackageLockFile before, IReadOnlyList<string> requested, IReadOnlyList<LockedOsPackageSource> sources, string architecture)
    {
        if (!before.Requested.SequenceEqual(requested, StringComparer.Ordinal))
        {
            return $"requested [{string.Join(", ", before.Requested)}] -> [{string.Join(", ", requested)}]";
        }

        if (!before.Sources.Select(s => s.DisplayName).SequenceEqual(sources.Select(s => s.DisplayName), StringComparer.Ordinal))
        {
            return "the sources changed";
        }

        return before.Packages.ContainsKey(architecture) ? null : $"it has no packages for {architecture}";
    }
}
