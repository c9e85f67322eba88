using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Containers.Build.OsPackages;

/// <summary>
/// The OpenPGP public keys an apt source is trusted with, and the verification of the repository's
/// InRelease (a cleartext-signed message) or Release + Release.gpg (a detached signature) against them.
/// The cryptography is BouncyCastle's; this class only frames the messages (RFC 4880 section 7).
/// </summary>
public sealed class OpenPgpKeyring
{
    private readonly List<PgpPublicKeyRingBundle> _bundles;

    private OpenPgpKeyring(List<PgpPublicKeyRingBundle> bundles, string description)
    {
        _bundles = bundles;
        Description = description;
    }

    /// <summary>Where the keys came from, for messages.</summary>
    public string Description { get; }

    /// <summary>The number of public key rings.</summary>
    public int KeyRingCount => _bundles.Sum(b => b.Count);

    /// <summary>
    /// Reads keys from key files, binary (<c>.gpg</c>, as in /usr/share/keyrings) or ASCII-armored (<c>.asc</c>).
    /// </summary>
    /// <param name="files">(name for messages, content) pairs.</param>
    /// <param name="description">Where the files came from, for messages.</param>
    /// <param name="skipUnreadable">True for a whole keyring directory (a base image's): a file that is not a keyring is passed over.</param>
    /// <exception cref="OsPackageException">A file holds no OpenPGP public key (and <paramref name="skipUnreadable"/> is false).</exception>
    public static OpenPgpKeyring Load(IEnumerable<(string Name, byte[] Content)> files, string description, bool skipUnreadable = false)
    {
        var bundles = new List<PgpPublicKeyRingBundle>();
        foreach (var (name, content) in files)
        {
            try
            {
                using var input = PgpUtilities.GetDecoderStream(new MemoryStream(content));
                bundles.Add(new PgpPublicKeyRingBundle(input));
            }
            catch (Exception ex) when (ex is PgpException or IOException or ArgumentException or InvalidOperationException)
            {
                if (skipUnreadable)
                {
                    continue;
                }

                throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration,
                    $"The key file '{name}' ({description}) is not an OpenPGP public keyring ({ex.Message}). Give a binary (.gpg) or ASCII-armored (.asc) export of the repository's public key, e.g. 'gpg --export KEYID > key.gpg'.");
            }
        }

        return new OpenPgpKeyring(bundles, description);
    }

    /// <summary>
    /// Verifies a cleartext-signed <paramref name="inRelease"/> and returns the signed text (what follows is parsed
    /// only from it, never from text outside the signature).
    /// </summary>
    /// <exception cref="OsPackageException"><see cref="OsPackageErrorCodes.SignatureInvalid"/>: unsigned, malformed, or no good signature by these keys.</exception>
    public string VerifyCleartext(string inRelease, string what)
    {
        var lines = inRelease.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var start = Array.IndexOf(lines, "-----BEGIN PGP SIGNED MESSAGE-----");
        if (start < 0)
        {
            throw Invalid(what, "it is not a cleartext-signed message (no '-----BEGIN PGP SIGNED MESSAGE-----'); the repository must sign InRelease (e.g. 'gpg --clearsign -o InRelease Release')");
        }

        var index = start + 1;
        while (index < lines.Length && lines[index].Length > 0)
        {
            index++; // Armor headers such as "Hash: SHA512".
        }

        index++;
        var signedLines = new List<string>();
        while (index < lines.Length && lines[index] != "-----BEGIN PGP SIGNATURE-----")
        {
            var line = lines[index];
            signedLines.Add(line.StartsWith("- ", StringComparison.Ordinal) ? line[2..] : line);
            index++;
        }

        if (index >= lines.Length)
        {
            throw Invalid(what, "it has no '-----BEGIN PGP SIGNATURE-----' block");
        }

        var signatureEnd = Array.IndexOf(lines, "-----END PGP SIGNATURE-----", index);
        if (signatureEnd < 0)
        {
            throw Invalid(what, "its signature block is not terminated");
        }

        var armored = string.Join('\n', lines[index..(signatureEnd + 1)]) + "\n";
        // RFC 4880 7.1: trailing whitespace is not signed and line endings are CRLF; the last line ending is not part of it.
        var canonical = string.Join("\r\n", signedLines.Select(l => l.TrimEnd(' ', '\t')));
        Verify(Encoding.UTF8.GetBytes(canonical), Encoding.ASCII.GetBytes(armored), what);
        return string.Join('\n', signedLines);
    }

    /// <summary>Verifies a detached signature (Release.gpg) over <paramref name="content"/>.</summary>
    /// <exception cref="OsPackageException"><see cref="OsPackageErrorCodes.SignatureInvalid"/>.</exception>
    public void VerifyDetached(byte[] content, byte[] signature, string what) => Verify(content, signature, what);

    private void Verify(byte[] content, byte[] signatureBytes, string what)
    {
        PgpSignatureList signatures;
        try
        {
            using var input = PgpUtilities.GetDecoderStream(new MemoryStream(signatureBytes));
            var factory = new PgpObjectFactory(input);
            signatures = factory.NextPgpObject() as PgpSignatureList
                ?? throw Invalid(what, "its signature block holds no OpenPGP signature");
        }
        catch (Exception ex) when (ex is IOException or PgpException)
        {
            throw Invalid(what, $"its signature cannot be read ({ex.Message})");
        }

        var unknownKeys = new List<string>();
        for (var i = 0; i < signatures.Count; i++)
        {
            var signature = signatures[i];
            var key = FindKey(signature.KeyId);
            if (key is null)
            {
                unknownKeys.Add(signature.KeyId.ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
                continue;
            }

            if (signature.HashAlgorithm is HashAlgorithmTag.MD5 or HashAlgorithmTag.Sha1 or HashAlgorithmTag.RipeMD160)
            {
                throw Invalid(what, $"it is signed with the weak digest {signature.HashAlgorithm} by key {signature.KeyId:X16}; apt refuses it too");
            }

            signature.InitVerify(key);
            if (signature.SignatureType == PgpSignature.CanonicalTextDocument)
            {
                signature.Update(CanonicalText(content));
            }
            else
            {
                signature.Update(content);
            }

            if (signature.Verify())
            {
                return;
            }

            throw Invalid(what, $"its signature by key {signature.KeyId:X16} does not match its content (tampered, or signed by another key with the same id)");
        }

        throw Invalid(what, $"it is signed by key(s) {string.Join(", ", unknownKeys)}, none of which is in {Description}; give the source the repository's key file (ContainerOsPackageSource's KeyFile)");
    }

    private PgpPublicKey? FindKey(long keyId)
    {
        foreach (var bundle in _bundles)
        {
            var key = bundle.GetPublicKey(keyId);
            if (key is not null)
            {
                return key;
            }
        }

        return null;
    }

    private static byte[] CanonicalText(byte[] content)
    {
        var text = Encoding.UTF8.GetString(content).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text);
    }

    private static OsPackageException Invalid(string what, string reason) =>
        new(OsPackageErrorCodes.SignatureInvalid, $"The signature of {what} is not valid: {reason}.");
}
