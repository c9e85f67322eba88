using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Containers.Oci.Digests;

/// <summary>
/// A content digest as defined by the OCI image spec: <c>algorithm ":" encoded</c>, for example
/// <c>sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b</c>.
/// </summary>
/// <remarks>
/// Only the registered algorithms <c>sha256</c> and <c>sha512</c> are accepted, with lower-case hex of
/// the exact length; anything else is rejected rather than carried around unverifiable.
/// </remarks>
public readonly record struct Digest : IComparable<Digest>
{
    /// <summary>The algorithm name, <c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The lower-case hex encoding of the hash.</summary>
    public string Hex { get; }

    private Digest(string algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    /// <summary>The algorithm used for everything this library writes.</summary>
    public const string Sha256 = "sha256";

    /// <summary>The other registered algorithm, accepted when reading.</summary>
    public const string Sha512 = "sha512";

    /// <summary>Parses <paramref name="value"/>; throws <see cref="FormatException"/> saying which part is wrong.</summary>
    public static Digest Parse(string value)
    {
        if (!TryParse(value, out var digest, out var error))
        {
            throw new FormatException(error);
        }

        return digest;
    }

    /// <summary>Parses <paramref name="value"/>, returning false for anything that is not a valid digest.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest) => TryParse(value, out digest, out _);

    /// <summary>Parses <paramref name="value"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest, [NotNullWhen(false)] out string? error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "A digest is required but the value is empty; expected 'sha256:<64 hex digits>'.";
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            error = $"'{value}' is not a digest: expected '<algorithm>:<hex>', for example 'sha256:<64 hex digits>'.";
            return false;
        }

        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        int expectedLength;
        switch (algorithm)
        {
            case Sha256: expectedLength = 64; break;
            case Sha512: expectedLength = 128; break;
            default:
                error = $"'{value}' uses the digest algorithm '{algorithm}', which is not supported; use sha256 or sha512.";
                return false;
        }

        if (hex.Length != expectedLength)
        {
            error = $"'{value}' has {hex.Length} hex digits after '{algorithm}:'; {algorithm} needs exactly {expectedLength}.";
            return false;
        }

        foreach (var c in hex)
        {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            {
                error = $"'{value}' contains '{c}'; a digest's encoded part is lower-case hex (0-9, a-f).";
                return false;
            }
        }

        digest = new Digest(algorithm, hex);
        error = null;
        return true;
    }

    /// <summary>Creates a digest from an algorithm and a raw hash.</summary>
    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) =>
        Parse(algorithm + ":" + Convert.ToHexString(hash).ToLowerInvariant());

    /// <summary>The sha256 digest of <paramref name="content"/>.</summary>
    public static Digest Compute(ReadOnlySpan<byte> content) => FromHash(Sha256, SHA256.HashData(content));

    /// <summary>The digest of <paramref name="content"/> with the given algorithm.</summary>
    public static Digest Compute(string algorithm, ReadOnlySpan<byte> content) => algorithm switch
    {
        Sha256 => FromHash(Sha256, SHA256.HashData(content)),
        Sha512 => FromHash(Sha512, SHA512.HashData(content)),
        _ => throw new ArgumentException($"Unsupported digest algorithm '{algorithm}'; use sha256 or sha512.", nameof(algorithm)),
    };

    /// <summary>Reads <paramref name="content"/> to the end and returns its sha256 digest.</summary>
    public static async Task<Digest> ComputeAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var hash = await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false);
        return FromHash(Sha256, hash);
    }

    /// <summary>Creates an incremental hasher for this digest's algorithm, to verify streamed content.</summary>
    public IncrementalHash CreateHasher() => CreateHasher(Algorithm);

    /// <summary>Creates an incremental hasher for <paramref name="algorithm"/>.</summary>
    public static IncrementalHash CreateHasher(string algorithm) => algorithm switch
    {
        Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
        Sha512 => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => throw new ArgumentException($"Unsupported digest algorithm '{algorithm}'; use sha256 or sha512.", nameof(algorithm)),
    };

    /// <summary>True when this value was created by parsing or hashing (not <c>default</c>).</summary>
    public bool IsValid => Algorithm is not null;

    /// <inheritdoc/>
    public override string ToString() => IsValid ? Algorithm + ":" + Hex : string.Empty;

    /// <inheritdoc/>
    public int CompareTo(Digest other) => string.CompareOrdinal(ToString(), other.ToString());

    /// <summary>Ordinal ordering by the string form.</summary>
    public static bool operator <(Digest left, Digest right) => left.CompareTo(right) < 0;

    /// <summary>Ordinal ordering by the string form.</summary>
    public static bool operator <=(Digest left, Digest right) => left.CompareTo(right) <= 0;

    /// <summary>Ordinal ordering by the string form.</summary>
    public static bool operator >(Digest left, Digest right) => left.CompareTo(right) > 0;

    /// <summary>Ordinal ordering by the string form.</summary>
    public static bool operator >=(Digest left, Digest right) => left.CompareTo(right) >= 0;

    /// <summary>The digest as a string.</summary>
    public static implicit operator string(Digest digest) => digest.ToString();
}
