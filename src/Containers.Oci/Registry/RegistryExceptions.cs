using System.Net;

namespace Containers.Oci.Registry;

/// <summary>A registry refused or failed a request. The message says which registry, repository and why.</summary>
public class RegistryException : OciException
{
    /// <summary>Creates the exception.</summary>
    public RegistryException(string message, string registry, string? repository, HttpStatusCode? statusCode, IReadOnlyList<RegistryError>? errors = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Registry = registry;
        Repository = repository;
        StatusCode = statusCode;
        Errors = errors ?? [];
    }

    /// <summary>The registry host, as in the image reference.</summary>
    public string Registry { get; }

    /// <summary>The repository the request was about, when it was about one.</summary>
    public string? Repository { get; }

    /// <summary>The HTTP status of the failing response, null when there was no response.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The distribution-spec error codes and messages of the response body, if any.</summary>
    public IReadOnlyList<RegistryError> Errors { get; }
}

/// <summary>One entry of a distribution-spec error body (<c>{"errors":[{"code":..,"message":..}]}</c>).</summary>
/// <param name="Code">The error code, for example <c>MANIFEST_UNKNOWN</c> or <c>DENIED</c>.</param>
/// <param name="Message">The registry's explanation.</param>
public sealed record RegistryError(string Code, string? Message)
{
    /// <inheritdoc/>
    public override string ToString() => string.IsNullOrEmpty(Message) ? Code : $"{Code}: {Message}";
}

/// <summary>The registry denied access: the credentials are missing, wrong, or lack the rights needed.</summary>
public sealed class RegistryAuthenticationException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    public RegistryAuthenticationException(string message, string registry, string? repository, HttpStatusCode? statusCode, string? credentialSource, IReadOnlyList<RegistryError>? errors = null)
        : base(message, registry, repository, statusCode, errors)
    {
        CredentialSource = credentialSource;
    }

    /// <summary>Where the credentials that were used came from; null when none were found (anonymous).</summary>
    public string? CredentialSource { get; }
}

/// <summary>The registry could not be reached: connection refused, unknown host, timeout, or a TLS failure.</summary>
public sealed class RegistryUnreachableException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    public RegistryUnreachableException(string message, string registry, Exception? innerException)
        : base(message, registry, repository: null, statusCode: null, errors: null, innerException)
    {
    }
}

/// <summary>The image, tag, manifest, blob or repository does not exist in the registry.</summary>
public sealed class RegistryNotFoundException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    public RegistryNotFoundException(string message, string registry, string repository, string reference, IReadOnlyList<RegistryError>? errors = null)
        : base(message, registry, repository, HttpStatusCode.NotFound, errors)
    {
        Reference = reference;
    }

    /// <summary>The tag or digest that was not found.</summary>
    public string Reference { get; }
}
