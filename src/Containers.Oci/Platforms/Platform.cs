using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Oci.Platforms;

/// <summary>
/// The platform an image runs on, as in the OCI index <c>platform</c> object and the image config's
/// <c>os</c>/<c>architecture</c>/<c>variant</c> fields.
/// </summary>
public sealed record Platform
{
    /// <summary>Operating system, GOOS values: <c>linux</c>, <c>windows</c>.</summary>
    [JsonPropertyName("os")]
    public required string OS { get; init; }

    /// <summary>CPU architecture, GOARCH values: <c>amd64</c>, <c>arm64</c>, <c>arm</c>, <c>386</c>, <c>s390x</c>, <c>ppc64le</c>.</summary>
    [JsonPropertyName("architecture")]
    public required string Architecture { get; init; }

    /// <summary>CPU variant: <c>v7</c> for arm, <c>v8</c> for arm64.</summary>
    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    /// <summary>Operating system version, used by Windows images.</summary>
    [JsonPropertyName("os.version")]
    public string? OSVersion { get; init; }

    /// <summary>Required operating system features.</summary>
    [JsonPropertyName("os.features")]
    public IReadOnlyList<string>? OSFeatures { get; init; }

    /// <summary>Fields this library does not model.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }

    /// <summary>linux/amd64.</summary>
    public static Platform LinuxAmd64 { get; } = new() { OS = "linux", Architecture = "amd64" };

    /// <summary>linux/arm64 (variant v8).</summary>
    public static Platform LinuxArm64 { get; } = new() { OS = "linux", Architecture = "arm64", Variant = "v8" };

    /// <summary><c>os/architecture[/variant]</c>, the form used by docker, skopeo and buildx.</summary>
    public override string ToString() =>
        Variant is null ? $"{OS}/{Architecture}" : $"{OS}/{Architecture}/{Variant}";
}
