namespace Containers.Build.Configuration;

/// <summary>
/// What the container settings need to know about the project, taken from ordinary MSBuild properties
/// (named in each member's doc). Empty strings mean "not set".
/// </summary>
public sealed record ProjectFacts
{
    /// <summary>AssemblyName: the default repository and the self-contained app's executable name.</summary>
    public required string AssemblyName { get; init; }

    /// <summary>TargetFileName: the app's dll, e.g. <c>MyApp.dll</c>, for the framework-dependent command.</summary>
    public required string TargetFileName { get; init; }

    /// <summary>
    /// The target framework version without the <c>v</c>: <c>10.0</c> (MSBuild's
    /// <c>$(_TargetFrameworkVersionWithoutV)</c>); <c>v10.0</c> and <c>10.0.0</c> are accepted too.
    /// </summary>
    public required string TargetFrameworkVersion { get; init; }

    /// <summary>TargetFrameworkIdentifier, <c>.NETCoreApp</c> for .NET.</summary>
    public string TargetFrameworkIdentifier { get; init; } = ".NETCoreApp";

    /// <summary>NETCoreSdkVersion, e.g. <c>10.0.401</c> or <c>10.0.100-preview.7.25380.108</c>.</summary>
    public required string SdkVersion { get; init; }

    /// <summary>
    /// NETCoreSdkPortableRuntimeIdentifier, e.g. <c>linux-x64</c>: its architecture picks the default
    /// container RID when none is given.
    /// </summary>
    public string? SdkPortableRuntimeIdentifier { get; init; }

    /// <summary>SelfContained or PublishSelfContained is true.</summary>
    public bool IsSelfContained { get; init; }

    /// <summary>PublishAot is true (implies self-contained here).</summary>
    public bool IsAotPublished { get; init; }

    /// <summary>PublishTrimmed is true.</summary>
    public bool IsTrimmed { get; init; }

    /// <summary>InvariantGlobalization is true (no ICU needed, so no <c>-extra</c> image).</summary>
    public bool UsesInvariantGlobalization { get; init; }

    /// <summary>The project has <c>FrameworkReference Include="Microsoft.AspNetCore.App"</c>.</summary>
    public bool UsesAspNetCore { get; init; }

    /// <summary>RuntimeIdentifier of the build.</summary>
    public string? RuntimeIdentifier { get; init; }

    /// <summary>RuntimeIdentifiers of the build (drives restore for multi-RID images).</summary>
    public IReadOnlyList<string> RuntimeIdentifiers { get; init; } = [];

    /// <summary>IsRidAgnostic: when true, RuntimeIdentifiers does not become ContainerRuntimeIdentifiers.</summary>
    public bool IsRidAgnostic { get; init; }

    /// <summary>Description (default of ContainerDescription).</summary>
    public string? Description { get; init; }

    /// <summary>Authors (default of ContainerAuthors).</summary>
    public string? Authors { get; init; }

    /// <summary>PackageProjectUrl (default of ContainerInformationUrl and ContainerDocumentationUrl).</summary>
    public string? PackageProjectUrl { get; init; }

    /// <summary>PackageVersion (default of ContainerVersion).</summary>
    public string? PackageVersion { get; init; }

    /// <summary>PackageLicenseExpression (default of ContainerLicenseExpression).</summary>
    public string? PackageLicenseExpression { get; init; }

    /// <summary>Title (default of ContainerTitle).</summary>
    public string? Title { get; init; }

    /// <summary>PublishRepositoryUrl: opt-in for the source and revision labels, as for NuGet packages.</summary>
    public bool PublishRepositoryUrl { get; init; }

    /// <summary>PrivateRepositoryUrl (set by Source Link): the source label, <c>.git</c> trimmed for git.</summary>
    public string? RepositoryUrl { get; init; }

    /// <summary>RepositoryType, e.g. <c>git</c>.</summary>
    public string? RepositoryType { get; init; }

    /// <summary>SourceRevisionId (set by Source Link): the revision label.</summary>
    public string? SourceRevisionId { get; init; }
}
