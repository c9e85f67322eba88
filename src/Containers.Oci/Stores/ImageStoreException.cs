namespace Containers.Oci.Stores;

/// <summary>
/// An image store (an OCI layout directory, an OCI archive or a docker-archive tarball) could not be
/// read or written: missing or malformed files, an unwritable directory, a reference it does not hold.
/// </summary>
public sealed class ImageStoreException : OciException
{
    /// <summary>Creates the exception for the store at <paramref name="path"/>.</summary>
    public ImageStoreException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StorePath = path;
    }

    /// <summary>The directory or archive file the error is about.</summary>
    public string StorePath { get; }
}
