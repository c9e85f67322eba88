namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Credentials for a registry could not be read: a credential helper is missing or failed, a
/// credentials file is malformed, or an environment variable pair is incomplete. The message says
/// which registry, which source and how to fix it; it never contains a secret.
/// </summary>
public sealed class RegistryCredentialException : OciException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="registry">The registry whose credentials were being looked up.</param>
    /// <param name="credentialSource">Where they were looked up (a file, a helper, environment variables).</param>
    /// <param name="message">The complete user-facing message.</param>
    /// <param name="innerException">The low-level cause, if any.</param>
    public RegistryCredentialException(string registry, string credentialSource, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Registry = registry;
        CredentialSource = credentialSource;
    }

    /// <summary>The registry host whose credentials were being looked up.</summary>
    public string Registry { get; }

    /// <summary>The source that failed, e.g. "docker config /root/.docker/config.json (credHelpers: ecr-login)".</summary>
    public string CredentialSource { get; }

    /// <summary>The full path or name of the credential helper executable involved, if a helper failed.</summary>
    public string? HelperExecutable { get; init; }
}
