using Containers.Oci.Descriptors;

namespace Containers.Oci.Platforms;

/// <summary>
/// Normalizes, parses and matches platforms the way containerd's platforms package does, and picks the
/// manifest for a platform from an image index.
/// </summary>
/// <remarks>
/// Matching is exact after normalization: the operating system, the architecture and the variant must be
/// equal. An image built for <c>linux/arm/v7</c> is never chosen for <c>linux/arm64</c>, because the
/// application was published for one runtime identifier and must get a base image of that platform.
/// <c>os.version</c> only ranks candidates; it never excludes one.
/// </remarks>
public static class PlatformMatching
{
    /// <summary>The annotation buildx puts on attestation manifests in an index.</summary>
    public const string ReferenceTypeAnnotation = "vnd.docker.reference.type";

    /// <summary>The value of <see cref="ReferenceTypeAnnotation"/> on attestation manifests.</summary>
    public const string AttestationManifestType = "attestation-manifest";

    /// <summary>
    /// The canonical form of <paramref name="platform"/>: lowercase os and architecture, <c>macos</c> as
    /// <c>darwin</c>, architecture aliases resolved (<c>x86_64</c>/<c>x86-64</c> → <c>amd64</c>,
    /// <c>aarch64</c> → <c>arm64</c>, <c>armhf</c> → <c>arm</c> v7, <c>armel</c> → <c>arm</c> v6,
    /// <c>i386</c>/<c>i686</c>/<c>x86</c> → <c>386</c>) and default variants filled in (<c>arm64</c> → v8,
    /// <c>arm</c> → v7; <c>amd64</c> v1 is no variant).
    /// </summary>
    public static Platform Normalize(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        var os = NormalizeOS(platform.OS);
        var (architecture, variant) = NormalizeArchitecture(platform.Architecture, platform.Variant);
        if (string.Equals(os, platform.OS, StringComparison.Ordinal)
            && string.Equals(architecture, platform.Architecture, StringComparison.Ordinal)
            && string.Equals(variant, platform.Variant, StringComparison.Ordinal))
        {
            return platform;
        }

        return platform with { OS = os, Architecture = architecture, Variant = variant };
    }

    /// <summary>
    /// Parses <c>os[(os.version)]/architecture[/variant]</c>, for example <c>linux/arm64/v8</c> or
    /// <c>windows(10.0.20348.2227)/amd64</c>, and returns it normalized.
    /// </summary>
    /// <exception cref="PlatformFormatException">The text is not in that form; the message says which part is wrong.</exception>
    public static Platform Parse(string value)
    {
        if (!TryParse(value, out var platform, out var error))
        {
            throw new PlatformFormatException(value ?? string.Empty, error);
        }

        return platform;
    }

    /// <summary>Parses like <see cref="Parse"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? value,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Platform? platform,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        platform = null;
        if (string.IsNullOrEmpty(value))
        {
            error = "the platform is empty; expected 'os/architecture[/variant]', for example 'linux/amd64' or 'linux/arm64/v8'.";
            return false;
        }

        var parts = value.Split('/');
        if (parts.Length == 1)
        {
            error = "it has no architecture; expected 'os/architecture[/variant]', for example 'linux/amd64'.";
            return false;
        }

        if (parts.Length > 3)
        {
            error = $"it has {parts.Length} parts separated by '/'; expected 'os/architecture[/variant]', for example 'linux/arm/v7'.";
            return false;
        }

        var os = parts[0];
        string? osVersion = null;
        var open = os.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0)
        {
            if (!os.EndsWith(')'))
            {
                error = $"the operating system '{os}' has '(' without a closing ')'; write the os.version as 'windows(10.0.20348)/amd64'.";
                return false;
            }

            osVersion = os[(open + 1)..^1];
            os = os[..open];
            if (osVersion.Length == 0 || !IsSpecifier(osVersion, allowDot: true))
            {
                error = $"the os.version '{osVersion}' must be letters, digits, '.', '_' and '-', for example '10.0.20348'.";
                return false;
            }
        }

        error = CheckSpecifier("operating system", os)
            ?? CheckSpecifier("architecture", parts[1])
            ?? (parts.Length == 3 ? CheckSpecifier("variant", parts[2]) : null);
        if (error is not null)
        {
            return false;
        }

        platform = Normalize(new Platform
        {
            OS = os,
            Architecture = parts[1],
            Variant = parts.Length == 3 ? parts[2] : null,
            OSVersion = osVersion,
        });
        return true;
    }

    /// <summary><c>os[(os.version)]/architecture[/variant]</c>, the form <see cref="Parse"/> reads.</summary>
    public static string Format(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        var os = string.IsNullOrEmpty(platform.OSVersion) ? platform.OS : $"{platform.OS}({platform.OSVersion})";
        return string.IsNullOrEmpty(platform.Variant)
            ? $"{os}/{platform.Architecture}"
            : $"{os}/{platform.Architecture}/{platform.Variant}";
    }

    /// <summary>
    /// True when <paramref name="candidate"/> is the platform <paramref name="wanted"/>: operating system,
    /// architecture and variant equal after <see cref="Normalize"/>. <c>os.version</c> is not compared here;
    /// <see cref="SelectManifest"/> uses it to rank matches.
    /// </summary>
    public static bool Matches(Platform wanted, Platform candidate)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(candidate);
        var normalizedWanted = Normalize(wanted);
        var normalizedCandidate = Normalize(candidate);
        return string.Equals(normalizedWanted.OS, normalizedCandidate.OS, StringComparison.Ordinal)
            && string.Equals(normalizedWanted.Architecture, normalizedCandidate.Architecture, StringComparison.Ordinal)
            && string.Equals(normalizedWanted.Variant, normalizedCandidate.Variant, StringComparison.Ordinal);
    }

    /// <summary>
    /// The manifest of <paramref name="manifests"/> (an index's entries) for <paramref name="wanted"/>, or null.
    /// Only image manifests with a platform are considered; attestation manifests never are. Among matches,
    /// one whose os.version equals the wanted one is preferred, then one with the same Windows build
    /// (major.minor.build), then one without os.version; then one whose variant is spelled as in
    /// <paramref name="wanted"/> (<c>linux/arm64/v8</c> prefers an entry stating v8, a <see cref="Platform"/>
    /// without variant prefers an entry without one); then the first in index order.
    /// </summary>
    public static Descriptor? SelectManifest(IReadOnlyList<Descriptor> manifests, Platform wanted)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        ArgumentNullException.ThrowIfNull(wanted);
        var normalizedWanted = Normalize(wanted);
        Descriptor? best = null;
        var bestScore = -1;
        foreach (var manifest in manifests)
        {
            if (!IsPlatformManifest(manifest) || !Matches(normalizedWanted, manifest.Platform!))
            {
                continue;
            }

            var score = Rank(wanted, manifest.Platform!);
            if (score > bestScore)
            {
                best = manifest;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>Like <see cref="SelectManifest"/>, but throws when no manifest matches.</summary>
    /// <param name="manifests">The index's entries.</param>
    /// <param name="wanted">The platform to pick.</param>
    /// <param name="imageName">The image, for the error message.</param>
    /// <exception cref="PlatformNotFoundException">No manifest matches; it lists the platforms the image offers.</exception>
    public static Descriptor SelectManifestOrThrow(IReadOnlyList<Descriptor> manifests, Platform wanted, string imageName) =>
        SelectManifest(manifests, wanted)
        ?? throw new PlatformNotFoundException(imageName, wanted, AvailablePlatforms(manifests));

    /// <summary>The distinct platforms of the image manifests in <paramref name="manifests"/>, attestations excluded, in index order.</summary>
    public static IReadOnlyList<Platform> AvailablePlatforms(IReadOnlyList<Descriptor> manifests)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        var platforms = new List<Platform>();
        foreach (var manifest in manifests)
        {
            if (IsPlatformManifest(manifest)
                && !platforms.Exists(p => string.Equals(Format(p), Format(manifest.Platform!), StringComparison.Ordinal)))
            {
                platforms.Add(manifest.Platform!);
            }
        }

        return platforms;
    }

    /// <summary>True for an index entry that is an attestation manifest (buildx provenance/SBOM), which is never an image to run.</summary>
    public static bool IsAttestation(Descriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Annotations is { } annotations
            && annotations.TryGetValue(ReferenceTypeAnnotation, out var type)
            && string.Equals(type, AttestationManifestType, StringComparison.Ordinal))
        {
            return true;
        }

        return descriptor.Platform is { OS: "unknown", Architecture: "unknown" };
    }

    private static bool IsPlatformManifest(Descriptor descriptor) =>
        descriptor.Platform is not null && MediaTypes.IsImageManifest(descriptor.MediaType) && !IsAttestation(descriptor);

    private static int Rank(Platform wanted, Platform candidate)
    {
        var osVersionRank = 0;
        if (!string.IsNullOrEmpty(wanted.OSVersion))
        {
            if (string.Equals(candidate.OSVersion, wanted.OSVersion, StringComparison.Ordinal))
            {
                osVersionRank = 3;
            }
            else if (!string.IsNullOrEmpty(candidate.OSVersion)
                && string.Equals(WindowsBuild(candidate.OSVersion), WindowsBuild(wanted.OSVersion), StringComparison.Ordinal))
            {
                osVersionRank = 2;
            }
            else if (string.IsNullOrEmpty(candidate.OSVersion))
            {
                osVersionRank = 1;
            }
        }

        // Both "arm64" and "arm64/v8" mean v8, but when an index lists both, take the one spelled like the request
        // (as containers/image does): it is the one the index author meant for that request.
        var spelledAlike = string.Equals(
            candidate.Variant?.ToLowerInvariant() ?? string.Empty,
            wanted.Variant?.ToLowerInvariant() ?? string.Empty,
            StringComparison.Ordinal);
        return osVersionRank * 2 + (spelledAlike ? 1 : 0);
    }

    // Windows images run on hosts of the same build; the revision (fourth number) does not matter.
    private static string WindowsBuild(string osVersion)
    {
        var end = -1;
        for (var dots = 0; dots < 3; dots++)
        {
            end = osVersion.IndexOf('.', end + 1);
            if (end < 0)
            {
                return osVersion;
            }
        }

        return osVersion[..end];
    }

    private static string NormalizeOS(string os)
    {
        var lower = os.ToLowerInvariant();
        return lower == "macos" ? "darwin" : lower;
    }

    private static (string Architecture, string? Variant) NormalizeArchitecture(string architecture, string? variant)
    {
        var arch = architecture.ToLowerInvariant();
        var lowerVariant = string.IsNullOrEmpty(variant) ? null : variant.ToLowerInvariant();
        return arch switch
        {
            "i386" or "i686" or "x86" => ("386", null),
            "x86_64" or "x86-64" or "amd64" => ("amd64", lowerVariant == "v1" ? null : lowerVariant),
            "aarch64" or "arm64" => ("arm64", lowerVariant switch
            {
                null or "8" or "v8" or "v8.0" => "v8",
                "9" or "9.0" or "v9.0" => "v9",
                _ => lowerVariant,
            }),
            "armhf" => ("arm", "v7"),
            "armel" => ("arm", "v6"),
            "arm" => ("arm", lowerVariant switch
            {
                null or "7" => "v7",
                "5" or "6" or "8" => "v" + lowerVariant,
                _ => lowerVariant,
            }),
            _ => (arch, lowerVariant),
        };
    }

    private static string? CheckSpecifier(string what, string value)
    {
        if (value.Length == 0)
        {
            return $"the {what} is empty; expected 'os/architecture[/variant]', for example 'linux/amd64'.";
        }

        return IsSpecifier(value, allowDot: false)
            ? null
            : $"the {what} '{value}' must be letters, digits, '_' and '-'.";
    }

    private static bool IsSpecifier(string value, bool allowDot)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-') && !(allowDot && c == '.'))
            {
                return false;
            }
        }

        return true;
    }
}
