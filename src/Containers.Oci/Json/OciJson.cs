using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Containers.Oci.Descriptors;
using Containers.Oci.Models;

namespace Containers.Oci.Json;

/// <summary>
/// Canonical JSON for OCI documents. Output is compact, properties in declaration order, nulls omitted,
/// and no needless escaping (a '+' in a media type stays '+'), so the same model always gives the same
/// bytes and therefore the same digest.
/// </summary>
public static class OciJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        TypeInfoResolver = OciJsonContext.Default,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Converters = { new DigestJsonConverter(), new Rfc3339DateTimeOffsetConverter() },
        WriteIndented = false,
    };

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    /// <summary>Serializes a manifest to canonical bytes.</summary>
    public static byte[] Serialize(ImageManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, Info<ImageManifest>());

    /// <summary>Serializes an index to canonical bytes.</summary>
    public static byte[] Serialize(ImageIndex index) => JsonSerializer.SerializeToUtf8Bytes(index, Info<ImageIndex>());

    /// <summary>Serializes a config to canonical bytes.</summary>
    public static byte[] Serialize(ImageConfig config) => JsonSerializer.SerializeToUtf8Bytes(config, Info<ImageConfig>());

    /// <summary>Serializes a descriptor to canonical bytes.</summary>
    public static byte[] Serialize(Descriptor descriptor) => JsonSerializer.SerializeToUtf8Bytes(descriptor, Info<Descriptor>());

    /// <summary>Reads a manifest; <paramref name="source"/> names where it came from in error messages.</summary>
    public static ImageManifest DeserializeManifest(ReadOnlySpan<byte> json, string source = "manifest") => Deserialize<ImageManifest>(json, source);

    /// <summary>Reads an index or manifest list.</summary>
    public static ImageIndex DeserializeIndex(ReadOnlySpan<byte> json, string source = "index") => Deserialize<ImageIndex>(json, source);

    /// <summary>Reads an image config.</summary>
    public static ImageConfig DeserializeConfig(ReadOnlySpan<byte> json, string source = "image config") => Deserialize<ImageConfig>(json, source);

    /// <summary>Reads a descriptor.</summary>
    public static Descriptor DeserializeDescriptor(ReadOnlySpan<byte> json, string source = "descriptor") => Deserialize<Descriptor>(json, source);

    /// <summary>
    /// Tells whether a manifest document is an index or an image manifest, from its <c>mediaType</c>
    /// or, when absent (OCI allows that), from its shape. Returns the media type.
    /// </summary>
    public static string DetectManifestMediaType(ReadOnlySpan<byte> json, string? contentType = null, string source = "manifest")
    {
        var probe = Deserialize<ManifestProbe>(json, source);
        if (MediaTypes.IsManifestOrIndex(probe.MediaType))
        {
            return probe.MediaType!;
        }

        if (MediaTypes.IsManifestOrIndex(contentType))
        {
            return contentType!;
        }

        if (probe.Manifests is not null)
        {
            return MediaTypes.OciIndex;
        }

        if (probe.Config is not null && probe.Layers is not null)
        {
            return MediaTypes.OciManifest;
        }

        throw new OciException($"The {source} is neither an image manifest nor an index (media type '{probe.MediaType ?? contentType ?? "none"}').");
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Info<T>())
                ?? throw new OciException($"The {source} is the JSON value null; expected an object.");
        }
        catch (JsonException ex)
        {
            throw new OciException($"The {source} is not valid: {ex.Message}", ex);
        }
    }
}
