using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>What a sigstore bundle signs.</summary>
public enum SigstoreBundleContent
{
    /// <summary>A signature over a message (an image manifest's bytes), with the message's SHA-256.</summary>
    MessageSignature,

    /// <summary>A DSSE envelope around a payload (an in-toto statement).</summary>
    DsseEnvelope,
}

/// <summary>
/// A sigstore bundle (protobuf-specs <c>Bundle</c>, media type v0.3, JSON) signed with a key: the public key's hint
/// as verification material, no transparency log entries and no timestamps, and either a message signature or a
/// DSSE envelope. Written with a fixed property order, so the same signature always gives the same bytes.
/// </summary>
public sealed record SigstoreBundle
{
    /// <summary>The bundle media type, also the OCI referrer's artifactType and layer media type.</summary>
    public const string MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";

    /// <summary>The DSSE payload type of an in-toto statement.</summary>
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>The referrer annotation naming the bundle's content (<c>message-signature</c> or <c>dsse-envelope</c>).</summary>
    public const string ContentAnnotation = "dev.sigstore.bundle.content";

    /// <summary>The referrer annotation naming what the bundle states.</summary>
    public const string PredicateTypeAnnotation = "dev.sigstore.bundle.predicateType";

    /// <summary>The predicate type cosign gives an image signature.</summary>
    public const string SignaturePredicateType = "https://sigstore.dev/cosign/sign/v1";

    /// <summary>Message signature or DSSE envelope.</summary>
    public required SigstoreBundleContent Content { get; init; }

    /// <summary>The verification key's hint, or null when the bundle carries a certificate instead.</summary>
    public string? PublicKeyHint { get; init; }

    /// <summary>The DER ECDSA signature (over the message, or over the DSSE PAE of the payload).</summary>
    public required byte[] Signature { get; init; }

    /// <summary>For a message signature: the SHA-256 of the message as the bundle states it.</summary>
    public byte[]? MessageDigest { get; init; }

    /// <summary>For a DSSE envelope: the payload type.</summary>
    public string? PayloadType { get; init; }

    /// <summary>For a DSSE envelope: the payload.</summary>
    public byte[]? Payload { get; init; }

    /// <summary>The annotation value of <see cref="ContentAnnotation"/> for this bundle.</summary>
    public string ContentName => Content == SigstoreBundleContent.DsseEnvelope ? "dsse-envelope" : "message-signature";

    /// <summary>Signs <paramref name="message"/> (e.g. an image manifest) into a message-signature bundle.</summary>
    public static SigstoreBundle SignMessage(ReadOnlySpan<byte> message, SigningKey key) => new()
    {
        Content = SigstoreBundleContent.MessageSignature,
        PublicKeyHint = key.PublicKey.Hint,
        Signature = key.Sign(message),
        MessageDigest = SHA256.HashData(message),
    };

    /// <summary>Signs <paramref name="payload"/> into a DSSE-envelope bundle.</summary>
    public static SigstoreBundle SignEnvelope(string payloadType, byte[] payload, SigningKey key) => new()
    {
        Content = SigstoreBundleContent.DsseEnvelope,
        PublicKeyHint = key.PublicKey.Hint,
        Signature = key.Sign(PreAuthenticationEncoding(payloadType, payload)),
        PayloadType = payloadType,
        Payload = payload,
    };

    /// <summary>DSSE's PAE: <c>"DSSEv1" SP len(type) SP type SP len(body) SP body</c>, the bytes an envelope's signature covers.</summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        var typeBytes = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {typeBytes.Length} {payloadType} {payload.Length} "));
        var result = new byte[header.Length + payload.Length];
        header.CopyTo(result, 0);
        payload.CopyTo(result.AsSpan(header.Length));
        return result;
    }

    /// <summary>
    /// Checks the bundle against <paramref name="key"/>: the hint names it, and the signature verifies over
    /// <paramref name="message"/> (a message signature, whose stated digest must also match) or over the envelope's PAE.
    /// </summary>
    /// <returns>Null when it verifies, else what failed in one sentence.</returns>
    public string? Verify(VerificationKey key, ReadOnlySpan<byte> message = default)
    {
        if (PublicKeyHint is null)
        {
            return "the bundle carries no public key hint (a certificate-based bundle needs keyless verification)";
        }

        if (PublicKeyHint != key.Hint)
        {
            return $"the bundle was signed by key {PublicKeyHint}, not by the given key {key.Hint}";
        }

        if (Content == SigstoreBundleContent.MessageSignature)
        {
            if (MessageDigest is null || !SHA256.HashData(message).AsSpan().SequenceEqual(MessageDigest))
            {
                return "the signed digest does not match the manifest (the manifest changed since it was signed)";
            }

            return key.Verify(message, Signature) ? null : "the signature does not verify over the manifest with the given key";
        }

        return key.Verify(PreAuthenticationEncoding(PayloadType ?? "", Payload ?? []), Signature)
            ? null
            : "the DSSE envelope's signature does not verify with the given key (the payload or signature changed)";
    }

    /// <summary>The bundle as v0.3 JSON.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("mediaType", MediaType);
            json.WriteStartObject("verificationMaterial");
            json.WriteStartObject("publicKey");
            json.WriteString("hint", PublicKeyHint);
            json.WriteEndObject();
            json.WriteStartArray("tlogEntries");
            json.WriteEndArray();
            json.WriteEndObject();
            if (Content == SigstoreBundleContent.MessageSignature)
            {
                json.WriteStartObject("messageSignature");
                json.WriteStartObject("messageDigest");
                json.WriteString("algorithm", "SHA2_256");
                json.WriteBase64String("digest", MessageDigest);
                json.WriteEndObject();
                json.WriteBase64String("signature", Signature);
                json.WriteEndObject();
            }
            else
            {
                json.WriteStartObject("dsseEnvelope");
                json.WriteBase64String("payload", Payload);
                json.WriteString("payloadType", PayloadType);
                json.WriteStartArray("signatures");
                json.WriteStartObject();
                json.WriteBase64String("sig", Signature);
                json.WriteString("keyid", "");
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads a bundle's JSON.</summary>
    /// <param name="json">The bundle bytes.</param>
    /// <param name="what">Names the bundle in messages (e.g. <c>signature referrer sha256:… of 127.0.0.1:5000/app</c>).</param>
    /// <exception cref="SigningException">It is not a v0.3 sigstore bundle with one signature.</exception>
    public static SigstoreBundle Parse(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            var mediaType = root.GetProperty("mediaType").GetString();
            if (mediaType != MediaType)
            {
                throw Invalid(what, $"its mediaType is '{mediaType}', not {MediaType}");
            }

            string? hint = null;
            if (root.GetProperty("verificationMaterial").TryGetProperty("publicKey", out var publicKey))
            {
                hint = publicKey.GetProperty("hint").GetString();
            }

            if (root.TryGetProperty("messageSignature", out var message))
            {
                return new SigstoreBundle
                {
                    Content = SigstoreBundleContent.MessageSignature,
                    PublicKeyHint = hint,
                    Signature = message.GetProperty("signature").GetBytesFromBase64(),
                    MessageDigest = message.GetProperty("messageDigest").GetProperty("digest").GetBytesFromBase64(),
                };
            }

            if (root.TryGetProperty("dsseEnvelope", out var envelope))
            {
                var signatures = envelope.GetProperty("signatures");
                if (signatures.GetArrayLength() != 1)
                {
                    throw Invalid(what, $"its DSSE envelope has {signatures.GetArrayLength()} signatures, not one");
                }

                return new SigstoreBundle
                {
                    Content = SigstoreBundleContent.DsseEnvelope,
                    PublicKeyHint = hint,
                    Signature = signatures[0].GetProperty("sig").GetBytesFromBase64(),
                    PayloadType = envelope.GetProperty("payloadType").GetString(),
                    Payload = envelope.GetProperty("payload").GetBytesFromBase64(),
                };
            }

            throw Invalid(what, "it has neither messageSignature nor dsseEnvelope");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Invalid(what, ex.Message);
        }
    }

    private static SigningException Invalid(string what, string reason) =>
        new(SigningFailure.VerificationFailed, $"The {what} is not a sigstore bundle v0.3: {reason}.");
}
