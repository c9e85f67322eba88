namespace Containers.Oci.Stores;

/// <summary>Why containerd could not take an image.</summary>
public enum ContainerdFailure
{
    /// <summary>No socket exists at the address: containerd is not running there (or the address is wrong).</summary>
    SocketMissing,

    /// <summary>The socket exists but nothing accepts connections on it (containerd stopped and left its socket behind).</summary>
    NotListening,

    /// <summary>The socket exists but this user may not connect to it (containerd's socket is root's by default).</summary>
    PermissionDenied,

    /// <summary>The namespace is not a valid containerd namespace name.</summary>
    InvalidNamespace,

    /// <summary>containerd answered with an error (or dropped the connection) during the import.</summary>
    ServerError,
}

/// <summary>containerd could not be reached at an address, or refused part of an import.</summary>
public sealed class ContainerdException : OciException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failure">Which kind of failure.</param>
    /// <param name="address">The socket path that was used.</param>
    /// <param name="message">The whole message: what failed, at which socket, and how to fix it.</param>
    /// <param name="innerException">The socket or gRPC error, when there is one.</param>
    public ContainerdException(ContainerdFailure failure, string address, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        Address = address;
    }

    /// <summary>Which kind of failure.</summary>
    public ContainerdFailure Failure { get; }

    /// <summary>The socket path that was used.</summary>
    public string Address { get; }

    /// <summary>True when containerd could not be reached at all (nothing was sent).</summary>
    public bool IsUnreachable => Failure is ContainerdFailure.SocketMissing or ContainerdFailure.NotListening or ContainerdFailure.PermissionDenied;
}
