using System.Net;
using System.Text.Json;

namespace Containers.Oci.Registry.Transport;

/// <summary>
/// Turns answers that say "try again" (408, 429, 5xx but 501) into <see cref="TransientRegistryFailureException"/>,
/// with the registry's error body and Retry-After, for the retry handler or the caller's own loop.
/// </summary>
internal sealed class ErrorMappingHandler : DelegatingHandler
{
    private static readonly HttpStatusCode[] TransientStatuses =
    [
        HttpStatusCode.RequestTimeout, HttpStatusCode.TooManyRequests, HttpStatusCode.InternalServerError,
        HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout,
    ];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (Array.IndexOf(TransientStatuses, response.StatusCode) < 0)
        {
            return response;
        }

        var errors = await RegistryErrorBodies.ReadAsync(response, cancellationToken).ConfigureAwait(false);
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        var status = response.StatusCode;
        response.Dispose();
        throw new TransientRegistryFailureException(
            $"{(int)status} {status}{(errors.Count > 0 ? " (" + string.Join("; ", errors) + ")" : string.Empty)}", status, retryAfter, errors, null);
    }
}

/// <summary>Reads the distribution spec's error bodies (<c>{"errors":[{"code":…,"message":…}]}</c>).</summary>
internal static class RegistryErrorBodies
{
    /// <summary>Reads an error body; never throws (error bodies are best effort).</summary>
    public static async Task<IReadOnlyList<RegistryError>> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[64 * 1024];
                var length = 0;
                int read;
                while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }

                if (length == 0)
                {
                    return [];
                }

                using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
                if (!document.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array)
                {
                    return [];
                }

                var result = new List<RegistryError>();
                foreach (var error in errors.EnumerateArray())
                {
                    var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    result.Add(new RegistryError(code ?? "UNKNOWN", message));
                }

                return result;
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException or HttpRequestException or InvalidOperationException)
        {
            return [];
        }
    }
}
