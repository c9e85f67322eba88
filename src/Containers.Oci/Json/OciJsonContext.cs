using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Json;

/// <summary>Source-generated serialization metadata for every OCI model (no reflection at run time).</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(DigestJsonConverter), typeof(Rfc3339DateTimeOffsetConverter)])]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(Descriptor))]
[JsonSerializable(typeof(Platform))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>Just enough of any manifest-like document to tell what it is.</summary>
internal sealed record ManifestProbe
{
    [JsonPropertyName("schemaVersion")]
    public int? SchemaVersion { get; init; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("manifests")]
    public JsonElement? Manifests { get; init; }

    [JsonPropertyName("config")]
    public JsonElement? Config { get; init; }

    [JsonPropertyName("layers")]
    public JsonElement? Layers { get; init; }
}

/// <summary>Reads and writes digests as their string form, rejecting malformed ones.</summary>
internal sealed class DigestJsonConverter : JsonConverter<Digest>
{
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (!Digest.TryParse(text, out var digest, out var error))
        {
            throw new JsonException(error);
        }

        return digest;
    }

    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}

/// <summary>
/// Writes times as RFC 3339 in UTC with a 'Z' like Go does (trailing zero fractions trimmed), and reads
/// any RFC 3339 time, including Go's nanosecond precision, which .NET's parser would reject.
/// </summary>
internal sealed class Rfc3339DateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TryGetDateTimeOffset(out var value))
        {
            return value;
        }

        var text = reader.GetString() ?? string.Empty;
        // Go writes up to 9 fractional digits; .NET ticks hold 7. Trim the extra ones.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            if (end - dot - 1 > 7)
            {
                text = string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
            }
        }

        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out value))
        {
            return value;
        }

        throw new JsonException($"'{reader.GetString()}' is not an RFC 3339 time.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
