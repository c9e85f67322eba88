namespace Containers.Oci;

/// <summary>
/// Base of every error this library raises on purpose. The message is complete and user-facing:
/// it names the input that was wrong, what was expected, and how to fix it, and never contains a secret.
/// </summary>
public class OciException : Exception
{
    /// <summary>Creates the exception with a user-facing message.</summary>
    public OciException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a user-facing message and the low-level cause.</summary>
    public OciException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
