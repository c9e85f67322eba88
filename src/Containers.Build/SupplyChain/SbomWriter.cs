using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Containers.Build.SupplyChain;

/// <summary>
/// Writes an <see cref="SbomDocument"/> as SPDX 2.3 JSON or CycloneDX 1.6 JSON. Deterministic: properties in a
/// fixed order, components sorted, the creation time from the build timestamp, and the SPDX document namespace
/// and CycloneDX serial number derived from a hash of the rest of the document, never random.
/// </summary>
public static class SbomWriter
{
    private const string NamespacePlaceholder = "urn:containers-sdk:pending-namespace";
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Collects and writes in one step.</summary>
    public static byte[] Generate(SbomRequest request, SbomFormat format) => Write(SbomCollector.Collect(request), format);

    /// <summary>Writes <paramref name="document"/> in <paramref name="format"/>, UTF-8 without BOM.</summary>
    public static byte[] Write(SbomDocument document, SbomFormat format)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (format == SbomFormat.CycloneDx)
        {
            var draft = WriteCycloneDx(document, Guid.Empty);
            return WriteCycloneDx(document, HashGuid(draft));
        }

        var spdxDraft = WriteSpdx(document, NamespacePlaceholder);
        var hash = Convert.ToHexString(SHA256.HashData(spdxDraft)).ToLowerInvariant();
        return WriteSpdx(document, $"https://spdx.org/spdxdocs/{Slug(document.Name)}-{hash}");
    }

    private static byte[] WriteSpdx(SbomDocument document, string documentNamespace)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("spdxVersion", "SPDX-2.3");
            json.WriteString("dataLicense", "CC0-1.0");
            json.WriteString("SPDXID", "SPDXRef-DOCUMENT");
            json.WriteString("name", document.Name);
            json.WriteString("documentNamespace", documentNamespace);
            json.WriteStartObject("creationInfo");
            json.WriteString("created", Timestamp(document.Created));
            json.WriteStartArray("creators");
            json.WriteStringValue("Tool: Containers.Sdk-" + document.ToolVersion);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("documentDescribes");
            json.WriteStringValue(SpdxId(document.Image.Key));
            json.WriteEndArray();
            json.WriteStartArray("packages");
            foreach (var component in new[] { document.Image }.Concat(document.Components))
            {
                WriteSpdxPackage(json, component);
            }

            json.WriteEndArray();
            json.WriteStartArray("relationships");
            WriteSpdxRelationship(json, "SPDXRef-DOCUMENT", "DESCRIBES", SpdxId(document.Image.Key));
            foreach (var relationship in document.Relationships)
            {
                WriteSpdxRelationship(json, SpdxId(relationship.From), relationship.Type, SpdxId(relationship.To));
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteSpdxPackage(Utf8JsonWriter json, SbomComponent component)
    {
        json.WriteStartObject();
        json.WriteString("SPDXID", SpdxId(component.Key));
        json.WriteString("name", component.Name);
        if (component.Version is not null)
        {
            json.WriteString("versionInfo", component.Version);
        }

        if (component.Authors is not null)
        {
            // nuspec authors are free text (people or organizations); SPDX has no better field than originator.
            json.WriteString("originator", "Organization: " + component.Authors);
        }

        json.WriteString("downloadLocation", "NOASSERTION");
        json.WriteBoolean("filesAnalyzed", false);
        if (component.Sha512 is not null)
        {
            json.WriteStartArray("checksums");
            json.WriteStartObject();
            json.WriteString("algorithm", "SHA512");
            json.WriteString("checksumValue", component.Sha512);
            json.WriteEndObject();
            json.WriteEndArray();
        }
        else if (component.Digest is { Algorithm: "sha256" } digest)
        {
            json.WriteStartArray("checksums");
            json.WriteStartObject();
            json.WriteString("algorithm", "SHA256");
            json.WriteString("checksumValue", digest.Hex);
            json.WriteEndObject();
            json.WriteEndArray();
        }

        if (component.SourcePackage is not null)
        {
            json.WriteString("sourceInfo", "built from the Debian source package " + component.SourcePackage);
        }

        json.WriteString("licenseConcluded", "NOASSERTION");
        json.WriteString("licenseDeclared", component.LicenseExpression ?? "NOASSERTION");
        if (component.LicenseExpression is null && component.LicenseUrl is not null)
        {
            json.WriteString("licenseComments", "The package declares its license by URL only: " + component.LicenseUrl);
        }

        json.WriteString("copyrightText", "NOASSERTION");
        if (component.Purl is not null)
        {
            json.WriteStartArray("externalRefs");
            json.WriteStartObject();
            json.WriteString("referenceCategory", "PACKAGE-MANAGER");
            json.WriteString("referenceType", "purl");
            json.WriteString("referenceLocator", component.Purl);
            json.WriteEndObject();
            json.WriteEndArray();
        }

        json.WriteString("primaryPackagePurpose", component.Kind switch
        {
            SbomComponentKind.Image or SbomComponentKind.BaseImage => "CONTAINER",
            SbomComponentKind.Application => "APPLICATION",
            SbomComponentKind.Runtime => "FRAMEWORK",
            _ => "LIBRARY",
        });
        json.WriteEndObject();
    }

    private static void WriteSpdxRelationship(Utf8JsonWriter json, string from, string type, string to)
    {
        json.WriteStartObject();
        json.WriteString("spdxElementId", from);
        json.WriteString("relationshipType", type);
        json.WriteString("relatedSpdxElement", to);
        json.WriteEndObject();
    }

    private static byte[] WriteCycloneDx(SbomDocument document, Guid serial)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
            json.WriteString("bomFormat", "CycloneDX");
            json.WriteString("specVersion", "1.6");
            json.WriteString("serialNumber", "urn:uuid:" + serial.ToString("D", CultureInfo.InvariantCulture));
            json.WriteNumber("version", 1);
            json.WriteStartObject("metadata");
            json.WriteString("timestamp", Timestamp(document.Created));
            json.WriteStartObject("tools");
            json.WriteStartArray("components");
            json.WriteStartObject();
            json.WriteString("type", "application");
            json.WriteString("name", "Containers.Sdk");
            json.WriteString("version", document.ToolVersion);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WritePropertyName("component");
            WriteCycloneDxComponent(json, document.Image);
            json.WriteEndObject();
            json.WriteStartArray("components");
            foreach (var component in document.Components)
            {
                WriteCycloneDxComponent(json, component);
            }

            json.WriteEndArray();
            json.WriteStartArray("dependencies");
            var dependsOn = document.Relationships.Where(r => r.Type == "DEPENDS_ON").ToLookup(r => r.From, r => r.To, StringComparer.Ordinal);
            foreach (var component in new[] { document.Image }.Concat(document.Components))
            {
                json.WriteStartObject();
                json.WriteString("ref", component.Key);
                var targets = component.Kind == SbomComponentKind.Image
                    ? document.Components.Where(c => c.Kind == SbomComponentKind.Application).Select(c => c.Key)
                    : dependsOn[component.Key];
                json.WriteStartArray("dependsOn");
                foreach (var target in targets.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                {
                    json.WriteStringValue(target);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteCycloneDxComponent(Utf8JsonWriter json, SbomComponent component)
    {
        json.WriteStartObject();
        json.WriteString("type", component.Kind switch
        {
            SbomComponentKind.Image or SbomComponentKind.BaseImage => "container",
            SbomComponentKind.Application => "application",
            SbomComponentKind.Runtime => "framework",
            _ => "library",
        });
        json.WriteString("bom-ref", component.Key);
        if (component.Authors is not null)
        {
            json.WriteStartArray("authors");
            json.WriteStartObject();
            json.WriteString("name", component.Authors);
            json.WriteEndObject();
            json.WriteEndArray();
        }

        json.WriteString("name", component.Name);
        if (component.Version is not null)
        {
            json.WriteString("version", component.Version);
        }

        if (component.Sha512 is not null || component.Digest is { Algorithm: "sha256" })
        {
            json.WriteStartArray("hashes");
            json.WriteStartObject();
            json.WriteString("alg", component.Sha512 is not null ? "SHA-512" : "SHA-256");
            json.WriteString("content", component.Sha512 ?? component.Digest!.Value.Hex);
            json.WriteEndObject();
            json.WriteEndArray();
        }

        if (component.LicenseExpression is not null)
        {
            json.WriteStartArray("licenses");
            json.WriteStartObject();
            json.WriteString("expression", component.LicenseExpression);
            json.WriteEndObject();
            json.WriteEndArray();
        }
        else if (component.LicenseUrl is not null)
        {
            json.WriteStartArray("licenses");
            json.WriteStartObject();
            json.WriteStartObject("license");
            json.WriteString("name", "NOASSERTION");
            json.WriteString("url", component.LicenseUrl);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
        }

        if (component.Purl is not null)
        {
            json.WriteString("purl", component.Purl);
        }

        if (component.SourcePackage is not null)
        {
            json.WriteStartArray("properties");
            json.WriteStartObject();
            json.WriteString("name", "containers-sdk:deb:source");
            json.WriteString("value", component.SourcePackage);
            json.WriteEndObject();
            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static string SpdxId(string key)
    {
        var builder = new StringBuilder("SPDXRef-");
        foreach (var c in key)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-');
        }

        return builder.ToString();
    }

    private static string Slug(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-');
        }

        return builder.ToString();
    }

    private static string Timestamp(DateTimeOffset value) => Reproducibility.BuildTimestamp.Format(value);

    // An RFC 4122 version 5-style UUID (name-based, SHA-1 replaced by SHA-256) of the draft document's bytes.
    private static Guid HashGuid(byte[] content)
    {
        var hash = SHA256.HashData(content);
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
