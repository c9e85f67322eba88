using System.Collections.Concurrent;
using System.Net;
using Containers.Oci.Registry.Transport;

namespace Containers.Oci.Registry;

/// <summary>
/// Sends requests to registries through one pipeline of handlers, one concern each, outermost first:
/// <see cref="RetryHandler"/> (transient failures, with backoff), <see cref="AuthenticationHandler"/> (ping, Basic,
/// Bearer tokens cached per registry and scope), <see cref="ErrorMappingHandler"/> (answers that say "try again",
/// with their error bodies) and <see cref="ConnectionHandler"/> (timeouts, connection and TLS failures), over the
/// sockets. The scheme is chosen when the request is made (<see cref="BaseAddress"/>). Never logs or reports a secret.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly HttpMessageHandler? _ownedHandler;
    private readonly RegistryClientOptions _options;
    private readonly RetryPolicy _retry;
    private readonly AuthenticationHandler _authentication;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _transferSlots = new(StringComparer.OrdinalIgnoreCase);

    // ShareConnections: one pool per connect timeout for the life of the process.
    private static readonly ConcurrentDictionary<TimeSpan, SocketsHttpHandler> SharedHandlers = new();

    private static SocketsHttpHandler CreateHandler(TimeSpan connectTimeout) => new()
    {
        AllowAutoRedirect = false,
        ConnectTimeout = connectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.None,
    };

    public RegistryTransport(RegistryClientOptions options)
    {
        _options = options;
        var shared = options.HttpMessageHandlerFactory is null && options.ShareConnections;
        var sockets = options.HttpMessageHandlerFactory?.Invoke()
            ?? (shared ? SharedHandlers.GetOrAdd(options.ConnectTimeout, CreateHandler) : CreateHandler(options.ConnectTimeout));
        _ownedHandler = shared ? null : sockets;
        _retry = new RetryPolicy(options);
        _authentication = new AuthenticationHandler(options, _retry)
        {
            InnerHandler = new ErrorMappingHandler { InnerHandler = new ConnectionHandler(options) { InnerHandler = sockets } },
        };

        // The delegating handlers hold nothing to dispose, and disposing them would dispose a shared socket handler.
        _http = new HttpClient(new RetryHandler(_retry) { InnerHandler = _authentication }, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public RegistryClientOptions Options => _options;

    /// <summary>Tokens obtained from token endpoints so far (for diagnostics and tests).</summary>
    public int TokensFetched => _authentication.TokensFetched;

    public Uri BaseAddress(string registry) => RegistryHosts.GetBaseAddress(registry, _options.InsecureRegistries);

    /// <summary>Bounds the blob transfers running at once against one registry.</summary>
    public SemaphoreSlim TransferSlots(string registry) =>
        _transferSlots.GetOrAdd(registry, _ => new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentTransfersPerRegistry)));

    /// <summary>
    /// Sends a request built by <paramref name="createRequest"/> (called again for every attempt), with
    /// authentication. Returns any response except 401/403 (thrown as <see cref="RegistryAuthenticationException"/>)
    /// and transient failures (retried when <paramref name="retryTransient"/>, otherwise thrown as
    /// <see cref="TransientRegistryFailureException"/> for the caller's own retry loop).
    /// </summary>
    public Task<HttpResponseMessage> SendAsync(string registry, RegistryScope? scope, Func<Uri, HttpRequestMessage> createRequest, bool retryTransient, CancellationToken cancellationToken)
    {
        var baseAddress = BaseAddress(registry);
        HttpRequestMessage Create()
        {
            var request = createRequest(baseAddress);
            request.Options.Set(RegistryRequest.Registry, registry);
            request.Options.Set(RegistryRequest.Scope, scope);
            request.Options.Set(RegistryRequest.RetryTransient, retryTransient);
            request.Options.Set(RegistryRequest.Resend, Create);
            return request;
        }

        return _http.SendAsync(Create(), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/>, retrying it after transient failures with exponential backoff and jitter.</summary>
    public Task<T> RetryAsync<T>(string registry, string? repository, Func<int, Task<T>> operation, CancellationToken cancellationToken) =>
        _retry.RunAsync(registry, repository, operation, cancellationToken);

    /// <summary>Contacts the registry once (GET /v2/) to learn its auth scheme; later calls reuse the answer.</summary>
    public Task PingAsync(string registry, CancellationToken cancellationToken) => _authentication.PingAsync(registry, cancellationToken);

    /// <summary>Sends a request without authentication (redirects to blob storage), with the same failure handling.</summary>
    public Task<HttpResponseMessage> SendAnonymousAsync(string registry, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(RegistryRequest.Registry, registry);
        request.Options.Set(RegistryRequest.Anonymous, true);
        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Reads a distribution-spec error body; never throws (error bodies are best effort).</summary>
    public static Task<IReadOnlyList<RegistryError>> ReadErrorsAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        RegistryErrorBodies.ReadAsync(response, cancellationToken);

    public void Dispose()
    {
        _http.Dispose();
        _ownedHandler?.Dispose();
        foreach (var slots in _transferSlots.Values)
        {
            slots.Dispose();
        }
    }
}
