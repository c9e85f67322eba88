using System.Security.Cryptography;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>An ECDSA P-256 public key that checks signatures, named in bundles by its <see cref="Hint"/>.</summary>
public sealed class VerificationKey
{
    internal const string P256Oid = "1.2.840.10045.3.1.7";

    private readonly byte[] _subjectPublicKeyInfo;

    private VerificationKey(byte[] subjectPublicKeyInfo)
    {
        _subjectPublicKeyInfo = subjectPublicKeyInfo;
        Hint = Convert.ToBase64String(SHA256.HashData(subjectPublicKeyInfo));
    }

    /// <summary>
    /// The key's name in a sigstore bundle's <c>verificationMaterial.publicKey.hint</c>: the base64 SHA-256 of its
    /// DER SubjectPublicKeyInfo.
    /// </summary>
    public string Hint { get; }

    /// <summary>The key as PEM <c>PUBLIC KEY</c> text.</summary>
    public string Pem => PemEncoding.WriteString("PUBLIC KEY", _subjectPublicKeyInfo);

    /// <summary>Reads a PEM <c>PUBLIC KEY</c> (or takes the public half of a PEM private key).</summary>
    /// <param name="pem">The PEM text.</param>
    /// <param name="source">Names where it came from, in messages (a file, a setting).</param>
    /// <exception cref="SigningException">It is not an ECDSA P-256 key.</exception>
    public static VerificationKey FromPem(string pem, string source)
    {
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new SigningException(SigningFailure.InvalidPublicKey, $"The public key {source} is not a PEM EC 'PUBLIC KEY'; give the ECDSA P-256 public key whose private half signed the image (e.g. 'openssl ec -in key.pem -pubout').");
        }

        if (key.ExportParameters(false).Curve.Oid?.Value is { } oid && oid != P256Oid)
        {
            throw new SigningException(SigningFailure.InvalidPublicKey, $"The public key {source} is not on curve P-256 ({oid}); give an ECDSA P-256 public key.");
        }

        return new VerificationKey(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Reads a PEM public key file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="setting">The setting that named it, for messages (e.g. <c>ContainerBaseImagePolicy</c>).</param>
    public static VerificationKey FromFile(string path, string setting)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SigningException(SigningFailure.InvalidPublicKey, $"{setting}: the public key file '{path}' cannot be read ({ex.Message}); give the path of a PEM ECDSA P-256 public key.");
        }

        return FromPem(pem, $"'{path}' ({setting})");
    }

    /// <summary>Wraps a DER SubjectPublicKeyInfo.</summary>
    public static VerificationKey FromSubjectPublicKeyInfo(byte[] subjectPublicKeyInfo) => new(subjectPublicKeyInfo.ToArray());

    /// <summary>True when <paramref name="signature"/> (DER, or IEEE P1363 r||s) is this key's ECDSA-SHA256 signature of <paramref name="data"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(_subjectPublicKeyInfo, out _);
        try
        {
            return key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)
                || (signature.Length == 64 && key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public override string ToString() => "ECDSA P-256 public key " + Hint;
}
