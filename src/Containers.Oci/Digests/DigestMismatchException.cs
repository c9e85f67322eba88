namespace Containers.Oci.Digests;

/// <summary>Content did not hash to the digest it was addressed by. Such content is never accepted.</summary>
public sealed class DigestMismatchException : OciException
{
    /// <summary>Creates the exception.</summary>
    public DigestMismatchException(string what, Digest expected, Digest actual)
        : base($"{what}: expected digest {expected} but the content hashes to {actual}; the content was refused.")
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The digest the content was requested or described by.</summary>
    public Digest Expected { get; }

    /// <summary>The digest of the content actually received.</summary>
    public Digest Actual { get; }
}
