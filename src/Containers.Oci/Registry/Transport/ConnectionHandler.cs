using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Authentication;

namespace Containers.Oci.Registry.Transport;

/// <summary>
/// The pipeline's innermost handler, next to the sockets: names the client, bounds the wait for a response, and
/// turns connection failures into <see cref="RegistryUnreachableException"/> (for what retrying cannot fix: a
/// TLS handshake, a host name) or <see cref="TransientRegistryFailureException"/> (for what it may).
/// </summary>
/// <remarks>
/// The scheme is chosen before a request is made (<see cref="RegistryHosts.GetBaseAddress"/>: plain HTTP for
/// loopback and insecure registries, HTTPS otherwise) and never switched afterwards, so a TLS failure is reported
/// with the setting that chooses plain HTTP rather than retried over it.
/// </remarks>
internal sealed class ConnectionHandler(RegistryClientOptions options) : DelegatingHandler
{
    private readonly ProductInfoHeaderValue[] _userAgent = ParseUserAgent(options.UserAgent);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.UserAgent.Count == 0)
        {
            foreach (var product in _userAgent)
            {
                request.Headers.UserAgent.Add(product);
            }
        }

        var registry = RegistryRequest.RegistryOf(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.Content is BlobUploadContent upload)
        {
            // Sending a large body can take long; the registry's answer should not once it is sent.
            upload.Sent = () => timeout.CancelAfter(options.ResponseTimeout);
        }
        else
        {
            timeout.CancelAfter(options.ResponseTimeout);
        }

        try
        {
            return await base.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = ex.InnerException is TimeoutException
                ? $"no connection within {options.ConnectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"
                : $"no response within {options.ResponseTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
            throw new TransientRegistryFailureException(reason, null, null, [], ex) { IsConnectFailure = ex.InnerException is TimeoutException };
        }
        catch (HttpRequestException ex) when (IsTlsFailure(ex))
        {
            var hint = RegistryHosts.UsesPlainHttp(registry, options.InsecureRegistries)
                ? string.Empty
                : $" If {registry} serves plain HTTP or uses a certificate this machine does not trust, add it to the insecure registries (plain HTTP).";
            throw new RegistryUnreachableException(
                $"Registry {registry} is unreachable: the TLS handshake with {request.RequestUri?.GetLeftPart(UriPartial.Authority)} failed: {Describe(ex)}.{hint}",
                registry,
                ex);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.NameResolutionError)
        {
            throw new RegistryUnreachableException(
                $"Registry {registry} is unreachable: {Describe(ex)}. Check the registry's host name.", registry, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new TransientRegistryFailureException(Describe(ex), null, null, [], ex) { IsConnectFailure = ex.HttpRequestError == HttpRequestError.ConnectionError };
        }
        catch (IOException ex)
        {
            throw new TransientRegistryFailureException(Describe(ex), null, null, [], ex);
        }
    }

    private static ProductInfoHeaderValue[] ParseUserAgent(string userAgent)
    {
        using var template = new HttpRequestMessage();
        template.Headers.UserAgent.ParseAdd(userAgent);
        return [.. template.Headers.UserAgent];
    }

    private static bool IsTlsFailure(HttpRequestException ex)
    {
        if (ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            return true;
        }

        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(Exception ex)
    {
        var innermost = ex;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        var kind = ex is HttpRequestException http ? http.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "the host name could not be resolved",
            HttpRequestError.ConnectionError => "the connection failed",
            HttpRequestError.ResponseEnded => "the connection was closed before a response arrived",
            HttpRequestError.SecureConnectionError => "TLS failed",
            _ => null,
        } : null;
        var detail = innermost.Message.TrimEnd('.');
        return kind is null ? detail : $"{kind} ({detail})";
    }
}
