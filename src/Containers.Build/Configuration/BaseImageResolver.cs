using System.Globalization;
using Containers.Oci.References;

namespace Containers.Build.Configuration;

/// <summary>The base image chosen for the app.</summary>
/// <param name="Image">The base image; null when there were errors.</param>
/// <param name="Name">The name as the <c>org.opencontainers.image.base.name</c> label shows it: ContainerBaseImage as given, or the inferred reference.</param>
/// <param name="IsInferred">True when ContainerBaseImage was empty and the image was inferred from the project.</param>
/// <param name="Diagnostics">What was wrong or noteworthy.</param>
public sealed record BaseImageResolution(ImageReference? Image, string? Name, bool IsInferred, IReadOnlyList<ContainerDiagnostic> Diagnostics);

/// <summary>
/// Chooses the base image the way the .NET SDK's <c>ComputeDotnetBaseImageAndTag</c> task does:
/// ContainerBaseImage when given, else <c>mcr.microsoft.com/dotnet/{runtime-deps|aspnet|runtime}</c> with a tag
/// made of the .NET version (from the target framework, or the SDK's version and preview channel when the
/// project targets the SDK's own preview), ContainerFamily, and the <c>-alpine</c>, <c>-{distro}-chiseled</c>
/// and <c>-extra</c> variants for musl, trimmed/AOT and globalization-dependent apps.
/// Ours: ContainerBaseRegistry replaces <c>mcr.microsoft.com</c> in the inferred name.
/// </summary>
public static class BaseImageResolver
{
    /// <summary>The registry of the inferred base images.</summary>
    public const string MicrosoftRegistry = "mcr.microsoft.com";

    /// <summary>Repository of the base image for self-contained and AOT apps.</summary>
    public const string RuntimeDepsRepository = "dotnet/runtime-deps";

    /// <summary>Repository of the base image for ASP.NET Core apps.</summary>
    public const string AspNetRepository = "dotnet/aspnet";

    /// <summary>Repository of the base image for other framework-dependent apps.</summary>
    public const string RuntimeRepository = "dotnet/runtime";

    // From .NET 8 on, image tags carry the preview channel and the -extra/-chiseled variants exist.
    private const int FirstVersionWithNewTaggingScheme = 8;

    private static readonly DotnetVersion FirstSdkOnNoble = new(8, 0, 300, []);

    /// <summary>Resolves the base image for <paramref name="targetRuntimeIdentifiers"/> (the RIDs the image is built for).</summary>
    public static BaseImageResolution Resolve(ContainerSettings settings, ProjectFacts project, IReadOnlyList<string> targetRuntimeIdentifiers)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(targetRuntimeIdentifiers);
        var diagnostics = new List<ContainerDiagnostic>();

        if (!string.IsNullOrWhiteSpace(settings.ContainerBaseImage))
        {
            if (!string.IsNullOrWhiteSpace(settings.ContainerBaseRegistry))
            {
                diagnostics.Add(ContainerDiagnostic.Create(
                    ContainerDiagnosticCodes.BaseRegistryIgnored,
                    "ContainerBaseRegistry",
                    $"ContainerBaseRegistry '{settings.ContainerBaseRegistry}' is ignored because ContainerBaseImage is set to '{settings.ContainerBaseImage}'; it only redirects the inferred base image. Put the registry into ContainerBaseImage, or remove one of the two."));
            }

            var given = settings.ContainerBaseImage.Trim();
            if (!ImageReference.TryParse(given, out var explicitImage, out var error))
            {
                diagnostics.Add(ContainerDiagnostic.Create(
                    ContainerDiagnosticCodes.InvalidBaseImage,
                    "ContainerBaseImage",
                    $"ContainerBaseImage '{settings.ContainerBaseImage}' is not a valid image reference: {error} Expected [registry/]repository[:tag][@digest], e.g. 'mcr.microsoft.com/dotnet/runtime:10.0'."));
                return new BaseImageResolution(null, null, false, diagnostics);
            }

            return new BaseImageResolution(explicitImage, given, false, diagnostics);
        }

        var inferred = Infer(settings, project, targetRuntimeIdentifiers, diagnostics);
        return new BaseImageResolution(inferred, inferred?.ToString(), true, diagnostics);
    }

    private static ImageReference? Infer(ContainerSettings settings, ProjectFacts project, IReadOnlyList<string> rids, List<ContainerDiagnostic> diagnostics)
    {
        var muslCount = rids.Count(rid => rid.StartsWith("linux-musl", StringComparison.Ordinal));
        if (muslCount > 0 && muslCount != rids.Count)
        {
            diagnostics.Add(ContainerDiagnostic.Create(
                ContainerDiagnosticCodes.MixedMuslRuntimeIdentifiers,
                "ContainerRuntimeIdentifiers",
                $"ContainerRuntimeIdentifiers '{string.Join(";", rids)}' mixes linux-musl and other RIDs, but one inferred base image must serve them all (alpine for musl, Debian/Ubuntu otherwise). Use only linux-musl-* or only other RIDs, or set ContainerBaseImage."));
            return null;
        }

        var isMusl = muslCount > 0;
        var version = ComputeVersionPart(project, diagnostics);
        if (version is null)
        {
            return null;
        }

        var (versionTag, governingVersion, allowsVariants) = version.Value;
        var isSelfContained = project.IsSelfContained || project.IsAotPublished;
        var repository = isSelfContained ? RuntimeDepsRepository : project.UsesAspNetCore ? AspNetRepository : RuntimeRepository;
        var tag = versionTag;

        if (!string.IsNullOrWhiteSpace(settings.ContainerFamily))
        {
            var family = settings.ContainerFamily.Trim();
            tag += "-" + family;

            // A chiseled family has no ICU; an app that needs globalization only runs on the -extra variant,
            // which exists for the stable tags from .NET 8 on.
            if (!isMusl
                && family.EndsWith("-chiseled", StringComparison.Ordinal)
                && !project.UsesInvariantGlobalization
                && allowsVariants
                && !governingVersion.IsPrerelease
                && governingVersion.Major >= FirstVersionWithNewTaggingScheme)
            {
                tag += "-extra";
            }

            var tagError = ImageReference.ValidateTag(tag);
            if (tagError is not null)
            {
                diagnostics.Add(ContainerDiagnostic.Create(
                    ContainerDiagnosticCodes.InvalidContainerFamily,
                    "ContainerFamily",
                    $"ContainerFamily '{settings.ContainerFamily}' makes the base image tag '{tag}', which is invalid: {tagError} Use a family the .NET images publish, e.g. 'noble-chiseled', 'alpine' or 'azurelinux3.0-distroless'."));
                return null;
            }
        }
        else if (!allowsVariants)
        {
            tag += isMusl ? "-alpine" : string.Empty;
        }
        else
        {
            if (isMusl)
            {
                tag += "-alpine";
            }
            else if (project.IsAotPublished || project.IsTrimmed)
            {
                tag += "-" + UbuntuCodename(governingVersion) + "-chiseled";
            }

            if ((project.IsAotPublished || project.IsTrimmed) && !project.UsesInvariantGlobalization)
            {
                tag += "-extra";
            }
        }

        return ApplyBaseRegistry(settings.ContainerBaseRegistry, repository, tag, diagnostics);
    }

    private static ImageReference? ApplyBaseRegistry(string? baseRegistry, string repository, string tag, List<ContainerDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(baseRegistry))
        {
            return ImageReference.Create(MicrosoftRegistry, repository, tag);
        }

        var value = baseRegistry.Trim().TrimEnd('/');
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? value : value[..slash];
        var prefix = slash < 0 ? null : value[(slash + 1)..];
        var problem = ImageReference.ValidateRegistry(host)
            ?? (prefix is null ? null : ImageReference.ValidateRepository(prefix + "/" + repository));
        if (problem is not null)
        {
            diagnostics.Add(ContainerDiagnostic.Create(
                ContainerDiagnosticCodes.InvalidBaseRegistry,
                "ContainerBaseRegistry",
                $"ContainerBaseRegistry '{baseRegistry}' is not a valid registry with an optional path prefix: {problem} Expected host[:port][/path], e.g. 'mirror.example.com' or 'registry.example.com:5000/mcr'."));
            return null;
        }

        return ImageReference.Create(host, prefix is null ? repository : prefix + "/" + repository, tag);
    }

    private static (string Tag, DotnetVersion GoverningVersion, bool AllowsVariants)? ComputeVersionPart(ProjectFacts project, List<ContainerDiagnostic> diagnostics)
    {
        var framework = DotnetVersion.TryParse(project.TargetFrameworkVersion, out var parsedFramework) ? parsedFramework : null;
        if (framework is not null && framework.Major < FirstVersionWithNewTaggingScheme)
        {
            return (MajorMinor(framework.Major, framework.Minor), framework, false);
        }

        if (!DotnetVersion.TryParse(project.SdkVersion, out var sdk))
        {
            diagnostics.Add(ContainerDiagnostic.Create(
                ContainerDiagnosticCodes.InvalidSdkVersion,
                "NETCoreSdkVersion",
                $"The SDK version '{project.SdkVersion}' is not a version number, so the base image tag cannot be inferred. Set ContainerBaseImage, or build with a released .NET SDK."));
            return null;
        }

        // The SDK's rule, kept as is: a target framework older than the SDK (by major, or by minor) uses
        // its own stable tag; otherwise the tag follows the SDK, including its preview channel.
        if (framework is not null && (framework.Major < sdk.Major || framework.Minor < sdk.Minor))
        {
            return (MajorMinor(framework.Major, framework.Minor), sdk, true);
        }

        if (!sdk.IsPrerelease || sdk.Major < FirstVersionWithNewTaggingScheme || sdk.Patch != 100)
        {
            return (MajorMinor(sdk.Major, sdk.Minor), sdk, true);
        }

        var channel = sdk.ReleaseLabels[0];
        switch (channel)
        {
            case "rtm" or "servicing":
                return (MajorMinor(sdk.Major, sdk.Minor), sdk, true);
            case "rc" or "preview" when sdk.ReleaseLabels.Count > 1:
                return (string.Create(CultureInfo.InvariantCulture, $"{sdk.Major}.{sdk.Minor}.0-{channel}.{sdk.ReleaseLabels[1]}"), sdk, true);
            case "alpha" or "dev" or "ci":
                return (MajorMinor(sdk.Major, sdk.Minor) + "-preview", sdk, true);
            default:
                diagnostics.Add(ContainerDiagnostic.Create(
                    ContainerDiagnosticCodes.InvalidSdkVersion,
                    "NETCoreSdkVersion",
                    $"The SDK version '{project.SdkVersion}' has prerelease channel '{channel}' without a number the .NET image tags use (expected preview.N or rc.N). Set ContainerBaseImage to the base image you want."));
                return null;
        }
    }

    private static string UbuntuCodename(DotnetVersion version) => version.CompareTo(FirstSdkOnNoble) >= 0 ? "noble" : "jammy";

    private static string MajorMinor(int major, int minor) => string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}");
}
