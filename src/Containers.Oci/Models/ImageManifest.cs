using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Oci.Descriptors;

namespace Containers.Oci.Models;

/// <summary>An image manifest (OCI <c>application/vnd.oci.image.manifest.v1+json</c> or Docker v2 schema 2).</summary>
public sealed record ImageManifest
{
    /// <summary>Always 2.</summary>
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    /// <summary>The manifest's own media type; required by Docker's format, recommended by OCI.</summary>
    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    /// <summary>The artifact type, when this manifest is an artifact rather than an image.</summary>
    [JsonPropertyName("artifactType")]
    public string? ArtifactType { get; init; }

    /// <summary>The image config blob.</summary>
    [JsonPropertyName("config")]
    public required Descriptor Config { get; init; }

    /// <summary>The layers, base first.</summary>
    [JsonPropertyName("layers")]
    public required IReadOnlyList<Descriptor> Layers { get; init; }

    /// <summary>The manifest this one refers to (referrers API).</summary>
    [JsonPropertyName("subject")]
    public Descriptor? Subject { get; init; }

    /// <summary>Arbitrary metadata.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>Fields this library does not model.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
