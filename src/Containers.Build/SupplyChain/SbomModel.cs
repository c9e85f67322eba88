using Containers.Oci.Digests;

namespace Containers.Build.SupplyChain;

/// <summary>The SBOM formats written.</summary>
public enum SbomFormat
{
    /// <summary>SPDX 2.3 JSON (<c>application/spdx+json</c>), the default.</summary>
    Spdx,

    /// <summary>CycloneDX 1.6 JSON (<c>application/vnd.cyclonedx+json</c>).</summary>
    CycloneDx,
}

/// <summary>Media types and file extensions of the SBOM formats.</summary>
public static class SbomFormats
{
    /// <summary>The SPDX JSON media type, also the referrer's artifactType.</summary>
    public const string SpdxMediaType = "application/spdx+json";

    /// <summary>The CycloneDX JSON media type, also the referrer's artifactType.</summary>
    public const string CycloneDxMediaType = "application/vnd.cyclonedx+json";

    /// <summary>The media type of <paramref name="format"/>.</summary>
    public static string MediaType(SbomFormat format) => format == SbomFormat.CycloneDx ? CycloneDxMediaType : SpdxMediaType;

    /// <summary>The file extension (with leading dot) for an SBOM written beside a tarball.</summary>
    public static string FileExtension(SbomFormat format) => format == SbomFormat.CycloneDx ? ".cdx.json" : ".spdx.json";

    /// <summary>Parses <c>spdx</c> or <c>cyclonedx</c> (case-insensitive); empty means SPDX.</summary>
    public static bool TryParse(string? text, out SbomFormat format)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case null or "" or "SPDX":
                format = SbomFormat.Spdx;
                return true;
            case "CYCLONEDX" or "CDX":
                format = SbomFormat.CycloneDx;
                return true;
            default:
                format = SbomFormat.Spdx;
                return false;
        }
    }
}

/// <summary>What a component of the image is.</summary>
public enum SbomComponentKind
{
    /// <summary>The image that was built.</summary>
    Image,

    /// <summary>The app (the published project).</summary>
    Application,

    /// <summary>A project the app references.</summary>
    Project,

    /// <summary>A NuGet package of the app's runtime closure.</summary>
    Package,

    /// <summary>A .NET shared framework the app runs on.</summary>
    Runtime,

    /// <summary>The base image.</summary>
    BaseImage,

    /// <summary>A Debian package added by ContainerOsPackage (the os-packages layer).</summary>
    OsPackage,
}

/// <summary>One component of an SBOM.</summary>
/// <param name="Key">A stable identifier within the document (from kind, name and version).</param>
/// <param name="Kind">What it is.</param>
/// <param name="Name">Its name (package id, project name, image repository).</param>
/// <param name="Version">Its version (or the image digest), null when unknown.</param>
public sealed record SbomComponent(string Key, SbomComponentKind Kind, string Name, string? Version)
{
    /// <summary>The package URL, e.g. <c>pkg:nuget/Newtonsoft.Json@13.0.3</c>.</summary>
    public string? Purl { get; init; }

    /// <summary>The declared SPDX license expression, or null when the package declares none (or only a URL/file).</summary>
    public string? LicenseExpression { get; init; }

    /// <summary>The license URL a package declares instead of an expression.</summary>
    public string? LicenseUrl { get; init; }

    /// <summary>The authors, as the nuspec lists them.</summary>
    public string? Authors { get; init; }

    /// <summary>The SHA-512 of the .nupkg, lower-case hex.</summary>
    public string? Sha512 { get; init; }

    /// <summary>The digest of an image component, or the SHA-256 of an OS package's .deb.</summary>
    public Digest? Digest { get; init; }

    /// <summary>For an OS package: the source package it was built from, <c>name version</c>.</summary>
    public string? SourcePackage { get; init; }
}

/// <summary>A relationship between two components.</summary>
/// <param name="From">The key of the component the relationship starts at.</param>
/// <param name="Type">An SPDX relationship type: <c>CONTAINS</c>, <c>DEPENDS_ON</c>, <c>DESCENDANT_OF</c>.</param>
/// <param name="To">The key of the component it points to.</param>
public sealed record SbomRelationship(string From, string Type, string To);

/// <summary>A collected, format-neutral SBOM: what an image consists of. Components and relationships are sorted.</summary>
/// <param name="Name">The document name (the image name).</param>
/// <param name="Created">The build timestamp.</param>
/// <param name="ToolVersion">The Containers.Sdk version that wrote it.</param>
/// <param name="Image">The described image.</param>
/// <param name="Components">Every other component, sorted by kind, name and version.</param>
/// <param name="Relationships">The relationships, sorted.</param>
public sealed record SbomDocument(string Name, DateTimeOffset Created, string ToolVersion, SbomComponent Image, IReadOnlyList<SbomComponent> Components, IReadOnlyList<SbomRelationship> Relationships);
