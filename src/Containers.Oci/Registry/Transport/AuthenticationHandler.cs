using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Containers.Oci.Registry.Credentials;

namespace Containers.Oci.Registry.Transport;

/// <summary>
/// Authenticates requests: pings each registry once (GET /v2/) to learn its scheme, then sends Basic credentials
/// or a Bearer token (fetched from the token service, cached per registry and scope until shortly before it
/// expires) with every request. Answers one challenge per request by sending it again; a second 401, or a 403,
/// becomes a <see cref="RegistryAuthenticationException"/> that says where the credentials came from. Never
/// logs or reports a secret.
/// </summary>
/// <remarks>Ping and token requests go only through the handlers below this one (error mapping, connection), with their own retries.</remarks>
internal sealed class AuthenticationHandler(RegistryClientOptions options, RetryPolicy retry) : DelegatingHandler
{
    private readonly ConcurrentDictionary<string, Lazy<Task<AuthState>>> _states = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<BearerToken>>> _tokens = new(StringComparer.Ordinal);
    private int _tokensFetched;

    /// <summary>Tokens obtained from token endpoints so far (for diagnostics and tests).</summary>
    public int TokensFetched => _tokensFetched;

    /// <summary>Contacts the registry once (GET /v2/) to learn its auth scheme; later calls reuse the answer.</summary>
    public Task PingAsync(string registry, CancellationToken cancellationToken) => GetStateAsync(registry, cancellationToken);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (RegistryRequest.Is(request, RegistryRequest.Anonymous))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var registry = RegistryRequest.RegistryOf(request);
        var scope = RegistryRequest.ScopeOf(request);
        AuthState state;
        try
        {
            state = await GetStateAsync(registry, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            request.Content?.Dispose();
            throw;
        }

        var challengeAnswered = false;
        while (true)
        {
            (AuthenticationHeaderValue? Header, string? TokenKey, RegistryCredential? Credential) authorization;
            try
            {
                authorization = await GetAuthorizationAsync(state, scope, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                request.Content?.Dispose();
                throw;
            }

            var (header, tokenKey, credential) = authorization;
            request.Headers.Authorization = header;
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
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

                request = RegistryRequest.Recreate(request);
                continue;
            }

            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw await DeniedAsync(state, scope, credential, response, cancellationToken).ConfigureAwait(false);
            }

            return response;
        }
    }

    // Ping and token requests: below this handler, retried here, bounded by the timeouts rather than the caller's
    // token because concurrent operations share them.
    private Task<HttpResponseMessage> SendUnauthenticatedAsync(string registry, string? repository, Func<HttpRequestMessage> createRequest) =>
        retry.RunAsync(
            registry,
            repository,
            _ =>
            {
                var request = createRequest();
                request.Options.Set(RegistryRequest.Registry, registry);
                return base.SendAsync(request, CancellationToken.None);
            },
            CancellationToken.None);

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
            BaseAddress = RegistryHosts.GetBaseAddress(registry, options.InsecureRegistries),
        };

        // The ping tells which auth scheme the registry wants, so later requests authenticate up front
        // instead of each collecting a 401 first.
        using var response = await SendUnauthenticatedAsync(registry, null, () => new HttpRequestMessage(HttpMethod.Get, new Uri(state.BaseAddress, "v2/"))).ConfigureAwait(false);
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
        var provider = options.CredentialProvider;
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

            if (token.RenewAt > options.TimeProvider.GetUtcNow())
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

        using var response = await SendUnauthenticatedAsync(state.Registry, scope?.Repository, CreateRequest).ConfigureAwait(false);

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
        return new BearerToken(token, options.TimeProvider.GetUtcNow() + lifetime - margin);
    }

    private static async Task<RegistryAuthenticationException> DeniedAsync(AuthState state, RegistryScope? scope, RegistryCredential? credential, HttpResponseMessage response, CancellationToken cancellationToken, string? tokenService = null)
    {
        var errors = await RegistryErrorBodies.ReadAsync(response, cancellationToken).ConfigureAwait(false);
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
}
