using System.Net;

namespace Containers.Oci.Registry;

/// <summary>
/// A failure worth retrying (429, 5xx, connection reset, timeout). Never escapes the client: after the
/// last retry it becomes a <see cref="RegistryException"/> or <see cref="RegistryUnreachableException"/>.
/// </summary>
internal sealed class TransientRegistryFailureException : Exception
{
    public TransientRegistryFailureException(string reason, HttpStatusCode? statusCode, TimeSpan? retryAfter, IReadOnlyList<RegistryError> errors, Exception? innerException)
        : base(reason, innerException)
    {
        StatusCode = statusCode;
        RetryAfter = retryAfter;
        Errors = errors;
    }

    public HttpStatusCode? StatusCode { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>No connection could be made at all (refused, connect timeout): retried once only, so an unreachable registry fails within seconds.</summary>
    public bool IsConnectFailure { get; init; }

    public IReadOnlyList<RegistryError> Errors { get; }
}
