using System.Security.Cryptography;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>
/// An ECDSA P-256 private key that signs images and provenance. Loaded from where ContainerSigningKey points (a PEM
/// file, or an environment variable holding the PEM text) at the moment it is used, so the key's bytes never pass
/// through MSBuild properties, task parameters or logs. <see cref="ToString"/> shows only the public key's hint.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa _key;

    private SigningKey(ECDsa key, string source)
    {
        _key = key;
        Source = source;
        PublicKey = VerificationKey.FromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Where the key was read from (a file path or <c>environment variable NAME</c>), never its content.</summary>
    public string Source { get; }

    /// <summary>The public half, for bundles' hints and for verification.</summary>
    public VerificationKey PublicKey { get; }

    /// <summary>
    /// Loads the key named by <paramref name="location"/>: the path of a PEM file (relative to
    /// <paramref name="baseDirectory"/>), or the name of an environment variable holding the PEM text.
    /// </summary>
    /// <param name="location">The value of ContainerSigningKey.</param>
    /// <param name="baseDirectory">Relative paths are resolved against this directory (the project's).</param>
    /// <param name="environment">Reads environment variables; null reads the process's.</param>
    /// <exception cref="SigningException">Nothing readable is there, or it is not an unencrypted ECDSA P-256 private key.</exception>
    public static SigningKey Load(string location, string baseDirectory, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        environment ??= Environment.GetEnvironmentVariable;
        var given = location.Trim();
        if (given.Contains("-----BEGIN", StringComparison.Ordinal) || given.Length > 4096)
        {
            // Never echo it: the value may be the key itself.
            throw new SigningException(SigningFailure.InvalidKey, "ContainerSigningKey holds key material itself; it must name where the key is: the path of a PEM file or the name of an environment variable holding the PEM text. Move the key there and set ContainerSigningKey to that path or name.");
        }

        string pem;
        string source;
        var path = Path.GetFullPath(given, baseDirectory);
        if (given.Length > 0 && File.Exists(path))
        {
            try
            {
                pem = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SigningException(SigningFailure.InvalidKey, $"ContainerSigningKey '{path}' cannot be read ({ex.GetType().Name}); make the file readable by the build.");
            }

            source = path;
        }
        else if (given.Length > 0 && IsVariableName(given) && environment(given) is { Length: > 0 } value)
        {
            pem = value;
            source = "environment variable " + given;
        }
        else
        {
            throw new SigningException(SigningFailure.InvalidKey, $"ContainerSigningKey '{given}' names neither an existing file ({path}) nor a set environment variable; give the path of a PEM ECDSA P-256 private key, or the name of an environment variable holding one.");
        }

        return new SigningKey(Import(pem, source), source);
    }

    /// <summary>Reads an unencrypted PEM ECDSA P-256 private key (<c>EC PRIVATE KEY</c> or PKCS#8 <c>PRIVATE KEY</c>).</summary>
    /// <param name="pem">The PEM text.</param>
    /// <param name="source">Names where it came from, in messages.</param>
    public static SigningKey FromPem(string pem, string source) => new(Import(pem, source), source);

    /// <summary>Signs <paramref name="data"/> with ECDSA over SHA-256; the signature is DER-encoded (as sigstore and DSSE expect).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) =>
        _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"ECDSA P-256 key {PublicKey.Hint} from {Source}";

    private static ECDsa Import(string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            // Neither the PEM nor the parser's message (which may quote it) goes into ours.
            throw new SigningException(SigningFailure.InvalidKey, $"ContainerSigningKey ({source}) holds no unencrypted PEM EC private key ('EC PRIVATE KEY' or 'PRIVATE KEY'); make one with 'openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt'.");
        }

        ECParameters parameters;
        try
        {
            parameters = key.ExportParameters(includePrivateParameters: false);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new SigningException(SigningFailure.InvalidKey, $"ContainerSigningKey ({source}) holds an EC key this platform cannot use; give an ECDSA P-256 (prime256v1) private key.");
        }

        if (parameters.Curve.Oid?.Value != VerificationKey.P256Oid && parameters.Curve.Oid?.FriendlyName is not ("nistP256" or "ECDSA_P256" or "prime256v1"))
        {
            key.Dispose();
            throw new SigningException(SigningFailure.InvalidKey, $"ContainerSigningKey ({source}) is an EC key on curve '{parameters.Curve.Oid?.FriendlyName ?? parameters.Curve.Oid?.Value ?? "explicit"}'; sigstore verifies ECDSA P-256 (prime256v1) keys here, so give one of those.");
        }

        try
        {
            // A public key alone imports too; it cannot sign.
            var withPrivate = key.ExportParameters(includePrivateParameters: true);
            CryptographicOperations.ZeroMemory(withPrivate.D);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new SigningException(SigningFailure.InvalidKey, $"ContainerSigningKey ({source}) holds a public key; signing needs the private key (the public one is for VerifyContainerImage and ContainerBaseImagePolicy).");
        }

        return key;
    }

    private static bool IsVariableName(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !char.IsAsciiDigit(value[0]);
}
