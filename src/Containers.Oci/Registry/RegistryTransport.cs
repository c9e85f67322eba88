using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Containers.Oci.Registry.Credentials;

namespace Containers.Oci.Registry;

/// <summary>
/// Sends requests to registries: picks the scheme, authenticates (Basic, or Bearer tokens cached per
/// registry and scope), retries transient failures with backoff, and turns failures into
/// <see cref="RegistryException"/>s. Never logs or reports a secret.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private static readonly HttpStatusCode[] TransientStatuses =
    [
        HttpStatusCode.RequestTimeout, HttpStatusCode.TooManyRequests, HttpStatusCode.InternalServerError,
        HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout,
    ];

    private readonly HttpClient _http;
    private readonly RegistryClientOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<Task<AuthState>>> _states = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<BearerToken>>> _tokens = new(StringComparer.Ordinal);
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
        var handler = options.HttpMessageHandlerFactory?.Invoke()
            ?? (shared ? SharedHandlers.GetOrAdd(options.ConnectTimeout, CreateHandler) : CreateHandler(options.ConnectTimeout));
        _http = new HttpClient(handler, disposeHandler: !shared) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
    }

    public RegistryClientOptions Options => _options;

    /// <summary>Tokens obtained from token endpoints so far (for diagnostics and tests).</summary>
    public int TokensFetched => _tokensFetched;

    private int _tokensFetched;

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
    public Task<HttpResponseMessage> SendAsync(string registry, RegistryScope? scope, Func<Uri, HttpRequestMessage> createRequest, bool retryTransient, CancellationToken cancellationToken) =>
        retryTransient
            ? RetryAsync(registry, scope?.Repository, _ => SendOnceAsync(registry, scope, createRequest, cancellationToken), cancellationToken)
            : SendOnceAsync(registry, scope, createRequest, cancellationToken);

    /// <summary>Runs <paramref name="operation"/>, retrying it after transient failures with exponential backoff and jitter.</summary>
    public async Task<T> RetryAsync<T>(string registry, string? repository, Func<int, Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await operation(attempt).ConfigureAwait(false);
            }
            catch (TransientRegistryFailureException ex) when (attempt < (ex.IsConnectFailure ? Math.Min(1, _options.MaxRetries) : _options.MaxRetries))
            {
                await Task.Delay(RetryDelay(attempt, ex.RetryAfter), cancellationToken).ConfigureAwait(false);
            }
            catch (TransientRegistryFailureException ex)
            {
                throw ToFinalException(ex, registry, repository, attempt + 1);
            }
        }
    }

    /// <summary>Contacts the registry once (GET /v2/) to learn its auth scheme; later calls reuse the answer.</summary>
    public Task PingAsync(string registry, CancellationToken cancellationToken) => GetStateAsync(registry, cancellationToken);

    /// <summary>Sends a request without authentication (redirects to blob storage), with the same failure handling.</summary>
    public async Task<HttpResponseMessage> SendAnonymousAsync(string registry, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await SendRawAsync(registry, request, cancellationToken).ConfigureAwait(false);
        await ThrowIfTransientAsync(response, cancellationToken).ConfigureAwait(false);
        return response;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(string registry, RegistryScope? scope, Func<Uri, HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        var state = await GetStateAsync(registry, cancellationToken).ConfigureAwait(false);
        var challengeAnswered = false;
        while (true)
        {
            var request = createRequest(state.BaseAddress);
            var (authorization, tokenKey, credential) = await GetAuthorizationAsync(state, scope, cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = authorization;
            HttpResponseMessage response;
            try
            {
                response = await SendRawAsync(registry, request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // HttpClient leaves request content (possibly an open layer file) to the caller.
                request.Content?.Dispose();
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && !challengeAnswered)
            {
                challengeAnswered = true;
                var challenge = PickChallenge(response);
                response.Dispose();
                if (tokenKey is not null)
                {
                    _tokens.TryRemove(tokenKey, out _);
                }

                if (challenge is not null)
                {
                    state.Challenge = challenge;
                }

                continue;
            }

            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw await DeniedAsync(state, scope, credential, response, cancellationToken).ConfigureAwait(false);
            }

            await ThrowIfTransientAsync(response, cancellationToken).ConfigureAwait(false);
            return response;
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(string registry, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.Content is BlobUploadContent upload)
        {
            // Sending a large body can take long; the registry's answer should not once it is sent.
            upload.Sent = () => timeout.CancelAfter(_options.ResponseTimeout);
        }
        else
        {
            timeout.CancelAfter(_options.ResponseTimeout);
        }

        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = ex.InnerException is TimeoutException
                ? $"no connection within {_options.ConnectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"
                : $"no response within {_options.ResponseTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
            throw new TransientRegistryFailureException(reason, null, null, [], ex) { IsConnectFailure = ex.InnerException is TimeoutException };
        }
        catch (HttpRequestException ex) when (IsTlsFailure(ex))
        {
            var hint = RegistryHosts.UsesPlainHttp(registry, _options.InsecureRegistries)
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

    private static async Task ThrowIfTransientAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (Array.IndexOf(TransientStatuses, response.StatusCode) < 0)
        {
            return;
        }

        var errors = await ReadErrorsAsync(response, cancellationToken).ConfigureAwait(false);
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

    private TimeSpan RetryDelay(int attempt, TimeSpan? retryAfter)
    {
        var baseDelay = _options.RetryBaseDelay;
        var exponential = TimeSpan.FromTicks(baseDelay.Ticks * (1L << Math.Min(attempt, 20)));
        var jitter = TimeSpan.FromTicks((long)(baseDelay.Ticks * Random.Shared.NextDouble()));
        var delay = exponential + jitter;
        if (retryAfter is { } serverDelay && serverDelay > delay)
        {
            delay = serverDelay;
        }

        return delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay;
    }

    private static RegistryException ToFinalException(TransientRegistryFailureException ex, string registry, string? repository, int attempts)
    {
        var tries = attempts == 1 ? "1 attempt" : $"{attempts} attempts";
        if (ex.StatusCode is null)
        {
            return new RegistryUnreachableException(
                $"Registry {registry} is unreachable: {ex.Message} (after {tries}). Check that the registry is running and that the host and port are right.",
                registry,
                ex.InnerException ?? ex);
        }

        return new RegistryException(
            $"Registry {registry} kept failing{(repository is null ? string.Empty : " for " + repository)}: {ex.Message} (after {tries}). Retry later; if it persists, the registry's operator needs to look at it.",
            registry,
            repository,
            ex.StatusCode,
            ex.Errors,
            ex);
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

    /// <summary>Reads a distribution-spec error body; never throws (error bodies are best effort).</summary>
    public static async Task<IReadOnlyList<RegistryError>> ReadErrorsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
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

    // ---- authentication ----

    private sealed class AuthState
    {
        public required string Registry { get; init; }

        public required Uri BaseAddress { get; init; }

        /// <summary>Credentials per repository ("" for registry-wide requests), looked up once each.</summary>
        public ConcurrentDictionary<string, Lazy<Task<RegistryCredential?>>> Credentials { get; } = new(StringComparer.Ordinal);

        public volatile AuthenticationChallenge? Challenge;
    }

    private sealed record BearerToken(string Value, DateTimeOffset RenewAt);

    private async Task<AuthState> GetStateAsync(string registry, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _states.GetOrAdd(registry, r => new Lazy<Task<AuthState>>(() => CreateStateAsync(r)));
            try
            {
                return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
            {
                // Do not remember a failed ping: the next operation tries again.
                _states.TryRemove(new KeyValuePair<string, Lazy<Task<AuthState>>>(registry, lazy));
                throw;
            }
        }
    }

    private async Task<AuthState> CreateStateAsync(string registry)
    {
        var state = new AuthState
        {
            Registry = registry,
            BaseAddress = BaseAddress(registry),
        };

        // The ping tells which auth scheme the registry wants, so later requests authenticate up front
        // instead of each collecting a 401 first. It is bounded by the timeouts, not the caller's token,
        // because concurrent operations share it.
        using var response = await RetryAsync(
            registry,
            null,
            async _ =>
            {
                var r = await SendRawAsync(registry, new HttpRequestMessage(HttpMethod.Get, new Uri(state.BaseAddress, "v2/")), CancellationToken.None).ConfigureAwait(false);
                await ThrowIfTransientAsync(r, CancellationToken.None).ConfigureAwait(false);
                return r;
            },
            CancellationToken.None).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            state.Challenge = PickChallenge(response);
        }
        else if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new RegistryException(
                $"{state.BaseAddress} does not implement the registry API v2 (GET /v2/ answered 404 Not Found). Check the registry host and port.",
                registry,
                null,
                response.StatusCode);
        }

        return state;
    }

    private async Task<RegistryCredential?> GetCredentialAsync(AuthState state, RegistryScope? scope, CancellationToken cancellationToken)
    {
        var provider = _options.CredentialProvider;
        if (provider is null)
        {
            return null;
        }

        var repository = scope?.Repository ?? string.Empty;
        var lazy = state.Credentials.GetOrAdd(
            repository,
            r => new Lazy<Task<RegistryCredential?>>(() => provider.GetCredentialAsync(state.Registry, r.Length == 0 ? null : r, CancellationToken.None).AsTask()));
        RegistryCredential? credential;
        try
        {
            credential = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            state.Credentials.TryRemove(new KeyValuePair<string, Lazy<Task<RegistryCredential?>>>(repository, lazy));
            throw;
        }

        return credential;
    }

    private static AuthenticationChallenge? PickChallenge(HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values))
        {
            return null;
        }

        var challenges = AuthenticationChallenge.Parse(values);
        return challenges.FirstOrDefault(c => c.IsBearer && c.Realm is not null) ?? challenges.FirstOrDefault(c => c.IsBasic);
    }

    private async Task<(AuthenticationHeaderValue? Header, string? TokenKey, RegistryCredential? Credential)> GetAuthorizationAsync(AuthState state, RegistryScope? scope, CancellationToken cancellationToken)
    {
        var challenge = state.Challenge;
        if (challenge is null)
        {
            return (null, null, null);
        }

        var credential = await GetCredentialAsync(state, scope, cancellationToken).ConfigureAwait(false);
        if (challenge.IsBasic)
        {
            return (BasicHeader(credential), null, credential);
        }

        if (!challenge.IsBearer)
        {
            return (null, null, credential);
        }

        if (credential?.RegistryToken is { Length: > 0 } registryToken)
        {
            return (new AuthenticationHeaderValue("Bearer", registryToken), null, credential);
        }

        var scopes = scope?.ToScopeStrings() ?? (challenge.Scope is { } challengeScope ? [challengeScope] : []);
        var key = string.Join('\n', [state.Registry, challenge.Realm, challenge.Service, .. scopes]);
        var token = await GetTokenAsync(key, state, challenge, credential, scope, scopes, cancellationToken).ConfigureAwait(false);
        return (new AuthenticationHeaderValue("Bearer", token.Value), key, credential);
    }

    private static AuthenticationHeaderValue? BasicHeader(RegistryCredential? credential) =>
        credential is { Username: { Length: > 0 } user, Password: { } password }
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)))
            : null;

    private async Task<BearerToken> GetTokenAsync(string key, AuthState state, AuthenticationChallenge challenge, RegistryCredential? credential, RegistryScope? scope, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _tokens.GetOrAdd(key, _ => new Lazy<Task<BearerToken>>(() => FetchTokenAsync(state, challenge, credential, scope, scopes)));
            BearerToken token;
            try
            {
                token = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
            {
                _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<BearerToken>>>(key, lazy));
                throw;
            }

            if (token.RenewAt > _options.TimeProvider.GetUtcNow())
            {
                return token;
            }

            _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<BearerToken>>>(key, lazy));
        }
    }

    private async Task<BearerToken> FetchTokenAsync(AuthState state, AuthenticationChallenge challenge, RegistryCredential? credential, RegistryScope? scope, IReadOnlyList<string> scopes)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm))
        {
            throw new RegistryException($"Registry {state.Registry} asked for a token from '{challenge.Realm}', which is not an absolute URL.", state.Registry, scope?.Repository, HttpStatusCode.Unauthorized);
        }

        HttpRequestMessage CreateRequest()
        {
            if (credential?.IdentityToken is { Length: > 0 } refreshToken)
            {
                var form = new List<KeyValuePair<string, string>>
                {
                    new("grant_type", "refresh_token"),
                    new("refresh_token", refreshToken),
                    new("client_id", "containers-sdk"),
                };
                if (challenge.Service is { } service)
                {
                    form.Add(new("service", service));
                }

                if (scopes.Count > 0)
                {
                    form.Add(new("scope", string.Join(' ', scopes)));
                }

                return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
            }

            var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : string.Empty);
            if (challenge.Service is { } serviceName)
            {
                query.Append("service=").Append(Uri.EscapeDataString(serviceName)).Append('&');
            }

            foreach (var s in scopes)
            {
                query.Append("scope=").Append(Uri.EscapeDataString(s)).Append('&');
            }

            var uri = new UriBuilder(realm) { Query = query.ToString().TrimEnd('&') }.Uri;
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Authorization = BasicHeader(credential);
            return request;
        }

        using var response = await RetryAsync(
            state.Registry,
            scope?.Repository,
            async _ =>
            {
                var r = await SendRawAsync(state.Registry, CreateRequest(), CancellationToken.None).ConfigureAwait(false);
                await ThrowIfTransientAsync(r, CancellationToken.None).ConfigureAwait(false);
                return r;
            },
            CancellationToken.None).ConfigureAwait(false);

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw await DeniedAsync(state, scope, credential, response, CancellationToken.None, tokenService: realm.GetLeftPart(UriPartial.Path)).ConfigureAwait(false);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new RegistryException(
                $"The token service {realm.GetLeftPart(UriPartial.Path)} of registry {state.Registry} answered {(int)response.StatusCode} {response.StatusCode}; expected a token.",
                state.Registry,
                scope?.Repository,
                response.StatusCode);
        }

        var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None).ConfigureAwait(false);
        string? token = null;
        var lifetime = TimeSpan.FromSeconds(60);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String)
            {
                token = t.GetString();
            }

            if (string.IsNullOrEmpty(token) && root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String)
            {
                token = a.GetString();
            }

            if (root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var seconds) && seconds > 0)
            {
                lifetime = TimeSpan.FromSeconds(seconds);
            }
        }
        catch (JsonException)
        {
            token = null;
        }

        if (string.IsNullOrEmpty(token))
        {
            throw new RegistryException(
                $"The token service {realm.GetLeftPart(UriPartial.Path)} of registry {state.Registry} did not return a token (expected JSON with 'token' or 'access_token').",
                state.Registry,
                scope?.Repository,
                response.StatusCode);
        }

        Interlocked.Increment(ref _tokensFetched);

        // Renew shortly before expiry so a token never runs out in the middle of a request.
        var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, lifetime.Ticks / 4));
        return new BearerToken(token, _options.TimeProvider.GetUtcNow() + lifetime - margin);
    }

    private static async Task<RegistryAuthenticationException> DeniedAsync(AuthState state, RegistryScope? scope, RegistryCredential? credential, HttpResponseMessage response, CancellationToken cancellationToken, string? tokenService = null)
    {
        var errors = await ReadErrorsAsync(response, cancellationToken).ConfigureAwait(false);
        var status = response.StatusCode;
        response.Dispose();
        var what = scope is null ? $"Registry {state.Registry}" : $"{scope.Repository} on {state.Registry}";
        var access = scope?.Push == true ? "push to" : "pull from";
        var details = errors.Count > 0 ? $" ({(int)status} {status}: {string.Join("; ", errors)})" : $" ({(int)status} {status})";
        var via = tokenService is null ? string.Empty : $" by the token service {tokenService}";
        string message;
        if (credential is null)
        {
            message = $"Access to {what} was denied{via}{details}; no credentials were found for {state.Registry}, so the request was anonymous. "
                + $"Log in with 'docker login {state.Registry}' (or 'podman login'), or provide credentials through the environment (see docs/credentials.md), then retry.";
        }
        else
        {
            message = $"Access to {what} was denied{via}{details} (credentials from {credential.Source}). "
                + $"Check that these credentials are valid and allowed to {access} {(scope?.Repository ?? "it")}: log in again with 'docker login {state.Registry}', or fix {credential.Source}.";
        }

        return new RegistryAuthenticationException(message, state.Registry, scope?.Repository, status, credential?.Source, errors);
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var slots in _transferSlots.Values)
        {
            slots.Dispose();
        }
    }
}
