using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Oci.Digests;
using Containers.Oci.Platforms;

namespace Containers.Oci.Models;

/// <summary>
/// The image configuration blob (OCI image-spec config.md; Docker's container image v1 JSON).
/// Fields not modelled here are kept in <see cref="AdditionalProperties"/> so that rewriting a base
/// image's config does not drop anything the base's producer put there.
/// </summary>
public sealed record ImageConfig
{
    /// <summary>Creation time, RFC 3339.</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    /// <summary>Who or what made the image.</summary>
    [JsonPropertyName("author")]
    public string? Author { get; init; }

    /// <summary>CPU architecture (GOARCH).</summary>
    [JsonPropertyName("architecture")]
    public required string Architecture { get; init; }

    /// <summary>Operating system (GOOS).</summary>
    [JsonPropertyName("os")]
    public required string OS { get; init; }

    /// <summary>Operating system version (Windows).</summary>
    [JsonPropertyName("os.version")]
    public string? OSVersion { get; init; }

    /// <summary>Operating system features.</summary>
    [JsonPropertyName("os.features")]
    public IReadOnlyList<string>? OSFeatures { get; init; }

    /// <summary>CPU variant.</summary>
    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    /// <summary>The execution parameters used when a container is started from the image.</summary>
    [JsonPropertyName("config")]
    public ContainerConfig? Config { get; init; }

    /// <summary>The uncompressed layer digests (diff ids), base first.</summary>
    [JsonPropertyName("rootfs")]
    public required RootFs RootFs { get; init; }

    /// <summary>How each layer was made; entries with empty_layer have no layer.</summary>
    [JsonPropertyName("history")]
    public IReadOnlyList<HistoryEntry>? History { get; init; }

    /// <summary>Fields this library does not model.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }

    /// <summary>The platform this config describes.</summary>
    [JsonIgnore]
    public Platform Platform => new() { OS = OS, Architecture = Architecture, Variant = Variant, OSVersion = OSVersion, OSFeatures = OSFeatures };
}

/// <summary>The <c>config</c> object of an image config: how to run the container.</summary>
public sealed record ContainerConfig
{
    /// <summary>user, uid, user:group or uid:gid.</summary>
    [JsonPropertyName("User")]
    public string? User { get; init; }

    /// <summary>Ports to expose, keys like <c>8080/tcp</c>.</summary>
    [JsonPropertyName("ExposedPorts")]
    public IReadOnlyDictionary<string, EmptyObject>? ExposedPorts { get; init; }

    /// <summary>Environment, <c>NAME=value</c>.</summary>
    [JsonPropertyName("Env")]
    public IReadOnlyList<string>? Env { get; init; }

    /// <summary>The entrypoint.</summary>
    [JsonPropertyName("Entrypoint")]
    public IReadOnlyList<string>? Entrypoint { get; init; }

    /// <summary>Default arguments to the entrypoint.</summary>
    [JsonPropertyName("Cmd")]
    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary>Volume mount points.</summary>
    [JsonPropertyName("Volumes")]
    public IReadOnlyDictionary<string, EmptyObject>? Volumes { get; init; }

    /// <summary>The working directory.</summary>
    [JsonPropertyName("WorkingDir")]
    public string? WorkingDir { get; init; }

    /// <summary>Labels.</summary>
    [JsonPropertyName("Labels")]
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>The signal that stops the container.</summary>
    [JsonPropertyName("StopSignal")]
    public string? StopSignal { get; init; }

    /// <summary>The health check (Docker extension, carried by OCI configs too).</summary>
    [JsonPropertyName("Healthcheck")]
    public HealthCheck? Healthcheck { get; init; }

    /// <summary>Fields this library does not model (ArgsEscaped, OnBuild, Shell, ...).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }

    /// <summary>
    /// Splits an <see cref="Env"/> entry at its first '=': <c>A=b=c</c> is <c>A</c> and <c>b=c</c>. An entry without
    /// '=' is a name with an empty value.
    /// </summary>
    public static (string Name, string Value) SplitEnvironmentVariable(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var equals = entry.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (entry, string.Empty) : (entry[..equals], entry[(equals + 1)..]);
    }
}

/// <summary>A container health check. Durations are nanoseconds in JSON, as Docker writes them.</summary>
public sealed record HealthCheck
{
    /// <summary><c>["NONE"]</c>, <c>["CMD", args...]</c> or <c>["CMD-SHELL", command]</c>.</summary>
    [JsonPropertyName("Test")]
    public IReadOnlyList<string>? Test { get; init; }

    /// <summary>Time between checks, in nanoseconds.</summary>
    [JsonPropertyName("Interval")]
    public long? IntervalNanoseconds { get; init; }

    /// <summary>Time a check may take, in nanoseconds.</summary>
    [JsonPropertyName("Timeout")]
    public long? TimeoutNanoseconds { get; init; }

    /// <summary>Grace period at start, in nanoseconds.</summary>
    [JsonPropertyName("StartPeriod")]
    public long? StartPeriodNanoseconds { get; init; }

    /// <summary>Time between checks during the start period, in nanoseconds.</summary>
    [JsonPropertyName("StartInterval")]
    public long? StartIntervalNanoseconds { get; init; }

    /// <summary>Consecutive failures that make the container unhealthy.</summary>
    [JsonPropertyName("Retries")]
    public int? Retries { get; init; }
}

/// <summary>The image's root file system: the ordered diff ids of its layers.</summary>
public sealed record RootFs
{
    /// <summary>Always <c>layers</c>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; init; } = "layers";

    /// <summary>The sha256 of each layer's uncompressed tar, base first.</summary>
    [JsonPropertyName("diff_ids")]
    public required IReadOnlyList<Digest> DiffIds { get; init; }
}

/// <summary>One history entry of an image config.</summary>
public sealed record HistoryEntry
{
    /// <summary>When the layer was made.</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    /// <summary>The command that made it.</summary>
    [JsonPropertyName("created_by")]
    public string? CreatedBy { get; init; }

    /// <summary>Who made it.</summary>
    [JsonPropertyName("author")]
    public string? Author { get; init; }

    /// <summary>A comment.</summary>
    [JsonPropertyName("comment")]
    public string? Comment { get; init; }

    /// <summary>True when this entry made no layer (ENV, LABEL, ...).</summary>
    [JsonPropertyName("empty_layer")]
    public bool? EmptyLayer { get; init; }

    /// <summary>Fields this library does not model.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>The JSON value <c>{}</c>, used as the value of ExposedPorts and Volumes maps.</summary>
public sealed record EmptyObject
{
    /// <summary>The single value.</summary>
    public static EmptyObject Instance { get; } = new();
}
