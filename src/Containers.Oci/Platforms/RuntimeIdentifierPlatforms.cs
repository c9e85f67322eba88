using System.Diagnostics.CodeAnalysis;

namespace Containers.Oci.Platforms;

/// <summary>Maps .NET portable runtime identifiers (RIDs) to container platforms and back.</summary>
/// <remarks>
/// Only portable RIDs are mapped; version-specific ones such as <c>ubuntu.22.04-x64</c> are obsolete since
/// .NET 8. musl RIDs map to the same platform as their glibc counterparts: the libc is a property of the
/// base image, not of the platform.
/// </remarks>
public static class RuntimeIdentifierPlatforms
{
    private static readonly (string RuntimeIdentifier, Platform Platform)[] Table =
    [
        ("linux-x64", Linux("amd64")),
        ("linux-arm64", Linux("arm64", "v8")),
        ("linux-arm", Linux("arm", "v7")),
        ("linux-x86", Linux("386")),
        ("linux-s390x", Linux("s390x")),
        ("linux-ppc64le", Linux("ppc64le")),
        ("linux-loongarch64", Linux("loong64")),
        ("linux-riscv64", Linux("riscv64")),
        ("linux-musl-x64", Linux("amd64")),
        ("linux-musl-arm64", Linux("arm64", "v8")),
        ("linux-musl-arm", Linux("arm", "v7")),
        ("linux-musl-x86", Linux("386")),
        ("linux-musl-s390x", Linux("s390x")),
        ("linux-musl-ppc64le", Linux("ppc64le")),
        ("linux-musl-loongarch64", Linux("loong64")),
        ("linux-musl-riscv64", Linux("riscv64")),
        ("win-x64", new Platform { OS = "windows", Architecture = "amd64" }),
        ("win-x86", new Platform { OS = "windows", Architecture = "386" }),
        ("win-arm64", new Platform { OS = "windows", Architecture = "arm64", Variant = "v8" }),
        ("osx-x64", new Platform { OS = "darwin", Architecture = "amd64" }),
        ("osx-arm64", new Platform { OS = "darwin", Architecture = "arm64", Variant = "v8" }),
    ];

    /// <summary>Every runtime identifier this class maps, in table order.</summary>
    public static IReadOnlyList<string> KnownRuntimeIdentifiers { get; } = Array.ConvertAll(Table, entry => entry.RuntimeIdentifier);

    /// <summary>The platform of <paramref name="runtimeIdentifier"/>, for example <c>linux-arm64</c> → <c>linux/arm64/v8</c>.</summary>
    /// <exception cref="UnsupportedRuntimeIdentifierException">The RID is not in the table; the message lists the known ones.</exception>
    public static Platform ToPlatform(string runtimeIdentifier)
    {
        if (!TryToPlatform(runtimeIdentifier, out var platform))
        {
            throw new UnsupportedRuntimeIdentifierException(runtimeIdentifier ?? string.Empty, KnownRuntimeIdentifiers);
        }

        return platform;
    }

    /// <summary>The platform of <paramref name="runtimeIdentifier"/>, or false when it is not a known portable RID (RIDs are case-sensitive).</summary>
    public static bool TryToPlatform([NotNullWhen(true)] string? runtimeIdentifier, [NotNullWhen(true)] out Platform? platform)
    {
        foreach (var (rid, candidate) in Table)
        {
            if (string.Equals(rid, runtimeIdentifier, StringComparison.Ordinal))
            {
                // A copy: Platform.AdditionalProperties is settable, and the table is shared.
                platform = candidate with { };
                return true;
            }
        }

        platform = null;
        return false;
    }

    /// <summary>
    /// The portable RID for <paramref name="platform"/> (compared after <see cref="PlatformMatching.Normalize"/>),
    /// the <c>linux-musl-*</c> one when <paramref name="musl"/> is true; null when there is none.
    /// </summary>
    public static string? ToRuntimeIdentifier(Platform platform, bool musl = false)
    {
        ArgumentNullException.ThrowIfNull(platform);
        foreach (var (rid, candidate) in Table)
        {
            if (rid.StartsWith("linux-musl-", StringComparison.Ordinal) == musl && PlatformMatching.Matches(candidate, platform))
            {
                return rid;
            }
        }

        return null;
    }

    private static Platform Linux(string architecture, string? variant = null) =>
        new() { OS = "linux", Architecture = architecture, Variant = variant };
}
