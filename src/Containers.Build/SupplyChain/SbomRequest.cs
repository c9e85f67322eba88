using Containers.Oci.Digests;

namespace Containers.Build.SupplyChain;

/// <summary>What an SBOM is collected from: the app's publish files, the NuGet package folders and the image built.</summary>
public sealed record SbomRequest
{
    /// <summary>The app's assembly name (its library name in deps.json).</summary>
    public required string ApplicationName { get; init; }

    /// <summary>The publish output's <c>&lt;app&gt;.deps.json</c>: the runtime closure for the target framework and RID.</summary>
    public required string DepsFilePath { get; init; }

    /// <summary>The publish output's <c>&lt;app&gt;.runtimeconfig.json</c>, naming the shared frameworks; null for none (self-contained).</summary>
    public string? RuntimeConfigFilePath { get; init; }

    /// <summary>The project's <c>obj/project.assets.json</c>; its <c>packageFolders</c> are searched for nuspecs too.</summary>
    public string? ProjectAssetsFilePath { get; init; }

    /// <summary>NuGet package folders (NuGetPackageRoot, NuGetPackageFolders), searched for each package's nuspec and .nupkg.sha512.</summary>
    public IReadOnlyList<string> PackageFolders { get; init; } = [];

    /// <summary>The image's name, e.g. <c>127.0.0.1:5000/myapp</c>.</summary>
    public required string ImageName { get; init; }

    /// <summary>
    /// The image manifest's digest, written into the SBOM when given. The publisher leaves it out: an OCI referrer
    /// names its subject itself, and an SBOM without it stays byte-identical (and is not uploaded again) for every
    /// build with the same dependencies and base, such as a one-line code change.
    /// </summary>
    public Digest? ImageDigest { get; init; }

    /// <summary>The image's runtime identifier, e.g. <c>linux-x64</c>.</summary>
    public required string RuntimeIdentifier { get; init; }

    /// <summary>The base image's name as given, e.g. <c>mcr.microsoft.com/dotnet/runtime:10.0</c>.</summary>
    public string? BaseImageName { get; init; }

    /// <summary>The base image manifest's digest.</summary>
    public Digest? BaseImageDigest { get; init; }

    /// <summary>The base image's environment (<c>NAME=value</c>); DOTNET_VERSION and ASPNET_VERSION give the runtime versions.</summary>
    public IReadOnlyList<string> BaseImageEnvironment { get; init; } = [];

    /// <summary>The Debian packages of the image's os-packages layer.</summary>
    public IReadOnlyList<SbomOsPackage> OsPackages { get; init; } = [];

    /// <summary>The build timestamp, written as the document's creation time.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>The Containers.Sdk version named as the creating tool.</summary>
    public string ToolVersion { get; init; } = typeof(SbomRequest).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}

/// <summary>A Debian package of the os-packages layer, as an SBOM lists it.</summary>
/// <param name="Name">The package name.</param>
/// <param name="Version">The version.</param>
/// <param name="PackageUrl">Its package URL: <c>pkg:deb/debian/curl@7.88.1-10+deb12u8?arch=amd64</c>.</param>
/// <param name="Sha256">The .deb's SHA-256 (hex).</param>
/// <param name="SourcePackage">The source package, <c>name version</c>.</param>
public sealed record SbomOsPackage(string Name, string Version, string PackageUrl, string Sha256, string SourcePackage);
