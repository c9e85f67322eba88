using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Oci.Digests;
using Containers.Oci.Platforms;

namespace Containers.Oci.Descriptors;

/// <summary>
/// An OCI content descriptor: what a piece of content is (media type), how to find and verify it
/// (digest, size), and optional platform, annotations and URLs.
/// </summary>
public sealed record Descriptor
{
    /// <summary>The media type of the referenced content.</summary>
    [JsonPropertyName("mediaType")]
    public required string MediaType { get; init; }

    /// <summary>The digest of the referenced content.</summary>
    [JsonPropertyName("digest")]
    public required Digest Digest { get; init; }

    /// <summary>The size of the referenced content in bytes.</summary>
    [JsonPropertyName("size")]
    public required long Size { get; init; }

    /// <summary>URLs the content may be downloaded from (non-distributable layers).</summary>
    [JsonPropertyName("urls")]
    public IReadOnlyList<string>? Urls { get; init; }

    /// <summary>Arbitrary metadata.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The embedded content, base64, when small enough to inline.</summary>
    [JsonPropertyName("data")]
    public string? Data { get; init; }

    /// <summary>The platform a manifest in an index targets.</summary>
    [JsonPropertyName("platform")]
    public Platform? Platform { get; init; }

    /// <summary>The artifact type of the referenced manifest, for artifacts and referrers.</summary>
    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    /// <summary>Fields this library does not model, kept so that rewriting does not lose them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }

    /// <summary>Describes <paramref name="content"/> with <paramref name="mediaType"/>.</summary>
    public static Descriptor For(string mediaType, ReadOnlySpan<byte> content) =>
        new() { MediaType = mediaType, Digest = Digest.Compute(content), Size = content.Length };

    /// <summary>The descriptor of the OCI empty JSON object <c>{}</c>.</summary>
    public static Descriptor Empty { get; } = new()
    {
        MediaType = MediaTypes.OciEmpty,
        Digest = Digest.Parse("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
        Size = 2,
        Data = "e30=",
    };
}
