using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Finds the credentials configured on this machine for a registry, the way the .NET SDK, docker and
/// podman do, in this order:
/// <list type="number">
/// <item>the environment variable pairs the options name (<see cref="CredentialProviderOptions.DestinationVariables"/>
/// for <see cref="CredentialProviderOptions.DestinationRegistry"/>, <see cref="CredentialProviderOptions.SourceVariables"/>
/// for <see cref="CredentialProviderOptions.SourceRegistry"/>; the .NET SDK passes its <c>DOTNET_CONTAINER_*</c> ones);</item>
/// <item>docker's config.json (<c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>):
/// <c>credHelpers</c>, then <c>auths</c>, then <c>credsStore</c>;</item>
/// <item>the containers auth file (<c>$REGISTRY_AUTH_FILE</c>; else <c>$XDG_RUNTIME_DIR/containers/auth.json</c>
/// and <c>~/.config/containers/auth.json</c>), where the longest matching "host/path" key wins.</item>
/// </list>
/// Results (including "no credentials") are cached per registry and repository for the provider's lifetime.
/// </summary>
/// <example>
/// <code>
/// var provider = new ConfiguredCredentialProvider(new CredentialProviderOptions { DestinationRegistry = "registry.example.com" });
/// var credential = await provider.GetCredentialAsync("registry.example.com", "team/app", cancellationToken);
/// </code>
/// </example>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "SemaphoreSlim holds no unmanaged resource unless AvailableWaitHandle is used, which it is not.")]
public sealed class ConfiguredCredentialProvider : ICredentialProvider
{
    private readonly CredentialProviderOptions _options;
    private readonly ConcurrentDictionary<string, RegistryCredential?> _cache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _resolving = new(1, 1);

    /// <summary>Reads the current process's environment and home directory.</summary>
    public ConfiguredCredentialProvider()
        : this(new CredentialProviderOptions())
    {
    }

    /// <summary>Reads the environment, paths and registries given in <paramref name="options"/>.</summary>
    public ConfiguredCredentialProvider(CredentialProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>The docker config file consulted (it may not exist).</summary>
    public string DockerConfigPath =>
        Path.Combine(_options.GetVariable("DOCKER_CONFIG") ?? Path.Combine(_options.ResolveHomeDirectory(), ".docker"), "config.json");

    /// <summary>The containers auth files consulted, in order (they may not exist).</summary>
    public IReadOnlyList<string> ContainersAuthPaths
    {
        get
        {
            if (_options.GetVariable("REGISTRY_AUTH_FILE") is { } explicitFile)
            {
                return [explicitFile];
            }

            var paths = new List<string>();
            if (_options.GetVariable("XDG_RUNTIME_DIR") is { } runtimeDirectory)
            {
                paths.Add(Path.Combine(runtimeDirectory, "containers", "auth.json"));
            }

            var configHome = _options.GetVariable("XDG_CONFIG_HOME") ?? Path.Combine(_options.ResolveHomeDirectory(), ".config");
            paths.Add(Path.Combine(configHome, "containers", "auth.json"));
            return paths;
        }
    }

    /// <inheritdoc/>
    public ValueTask<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default) =>
        GetCredentialAsync(registry, repository: null, cancellationToken);

    /// <summary>
    /// Returns credentials for <paramref name="repository"/> (e.g. "team/app"; null for the whole registry)
    /// on <paramref name="registry"/>, or null to go anonymous.
    /// </summary>
    /// <exception cref="RegistryCredentialException">A helper is missing or failed, a file is malformed, or a variable pair is incomplete.</exception>
    public async ValueTask<RegistryCredential?> GetCredentialAsync(string registry, string? repository, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        var host = RegistryHostNames.NormalizeHost(registry);
        var normalizedRepository = string.IsNullOrEmpty(repository) ? null : repository.Trim('/');
        var cacheKey = normalizedRepository is null ? host : host + "/" + normalizedRepository;
        if (_cache.TryGetValue(cacheKey, out var cached))
        {
            return cached;
        }

        // One lookup at a time, so concurrent requests for a registry run its helper once.
        await _resolving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_cache.TryGetValue(cacheKey, out cached))
            {
                return cached;
            }

            var credential = await ResolveAsync(host, normalizedRepository, cancellationToken).ConfigureAwait(false);
            _cache[cacheKey] = credential;
            return credential;
        }
        finally
        {
            _resolving.Release();
        }
    }

    private async Task<RegistryCredential?> ResolveAsync(string host, string? repository, CancellationToken cancellationToken)
    {
        return FromEnvironment(host)
            ?? await FromDockerConfigAsync(host, cancellationToken).ConfigureAwait(false)
            ?? await FromContainersAuthAsync(host, repository, cancellationToken).ConfigureAwait(false);
    }

    private RegistryCredential? FromEnvironment(string host)
    {
        if (_options.DestinationRegistry is { } destination && RegistryHostNames.NormalizeHost(destination) == host
            && FromVariablePairs(host, _options.DestinationVariables) is { } pushCredential)
        {
            return pushCredential;
        }

        if (_options.SourceRegistry is { } source && RegistryHostNames.NormalizeHost(source) == host)
        {
            return FromVariablePairs(host, _options.SourceVariables);
        }

        return null;
    }

    private RegistryCredential? FromVariablePairs(string host, IReadOnlyList<CredentialVariablePair> pairs)
    {
        foreach (var (userVariable, passwordVariable) in pairs)
        {
            var user = _options.GetVariable(userVariable);
            var password = _options.GetVariable(passwordVariable);
            if (user is not null && password is not null)
            {
                // "<token>" as user name is passed on as-is, like the .NET SDK: registries that take a token
                // as a password accept any user name with it.
                return new RegistryCredential { Username = user, Password = password, Source = $"environment variables {userVariable}/{passwordVariable}" };
            }

            if (user is not null || password is not null)
            {
                var (set, missing) = user is not null ? (userVariable, passwordVariable) : (passwordVariable, userVariable);
                throw new RegistryCredentialException(host, $"environment variables {userVariable}/{passwordVariable}",
                    $"Cannot use credentials for registry '{host}' from environment variables: {set} is set but {missing} is empty. Set both, or unset {set}.");
            }
        }

        return null;
    }

    private async Task<RegistryCredential?> FromDockerConfigAsync(string host, CancellationToken cancellationToken)
    {
        var path = DockerConfigPath;
        var config = await ReadConfigAsync(host, path, "docker config", cancellationToken).ConfigureAwait(false);
        if (config is null)
        {
            return null;
        }

        var description = $"docker config {path}";
        if (FindByHost(config.CredHelpers, host) is { Value: { Length: > 0 } helper })
        {
            return await CredentialHelper.GetAsync(helper, host, $"{description} (credHelpers: {helper})", _options, cancellationToken).ConfigureAwait(false);
        }

        if (FindByHost(config.Auths, host) is { Value: { } entry } match
            && FromEntry(host, entry, $"{description} (auths: {match.Key})") is { } credential)
        {
            return credential;
        }

        if (config.CredsStore is { Length: > 0 } store)
        {
            return await CredentialHelper.GetAsync(store, host, $"{description} (credsStore: {store})", _options, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private async Task<RegistryCredential?> FromContainersAuthAsync(string host, string? repository, CancellationToken cancellationToken)
    {
        foreach (var path in ContainersAuthPaths)
        {
            var config = await ReadConfigAsync(host, path, "containers auth file", cancellationToken).ConfigureAwait(false);
            if (config is null)
            {
                continue;
            }

            var description = $"containers auth file {path}";
            if (FindByHost(config.CredHelpers, host) is { Value: { Length: > 0 } helper })
            {
                if (await CredentialHelper.GetAsync(helper, host, $"{description} (credHelpers: {helper})", _options, cancellationToken).ConfigureAwait(false) is { } helped)
                {
                    return helped;
                }

                continue;
            }

            if (FindByScopedKey(config.Auths, host, repository) is { Value: { } entry } match
                && FromEntry(host, entry, $"{description} (auths: {match.Key})") is { } credential)
            {
                return credential;
            }
        }

        return null;
    }

    private static async Task<CredentialConfigFile?> ReadConfigAsync(string host, string path, string kind, CancellationToken cancellationToken)
    {
        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new RegistryCredentialException(host, $"{kind} {path}",
                $"Cannot read credentials for registry '{host}' from {kind} {path}: {exception.Message}. Fix the file's permissions or remove it.", exception);
        }

        if (content.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(content, CredentialJsonContext.Default.CredentialConfigFile);
        }
        catch (JsonException exception)
        {
            // JsonException messages can quote file content; report only the position.
            throw new RegistryCredentialException(host, $"{kind} {path}",
                $"Cannot read credentials for registry '{host}': {kind} {path} is not valid JSON (at line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}"
                + $"{(exception.Path is { Length: > 0 } jsonPath ? $", {jsonPath}" : "")}). Fix or delete the file.", exception);
        }
    }

    private static RegistryCredential? FromEntry(string host, CredentialConfigEntry entry, string source)
    {
        if (!string.IsNullOrEmpty(entry.IdentityToken))
        {
            return new RegistryCredential { Username = NullIfEmpty(entry.Username), IdentityToken = entry.IdentityToken, Source = source };
        }

        if (!string.IsNullOrEmpty(entry.RegistryToken))
        {
            return new RegistryCredential { RegistryToken = entry.RegistryToken, Source = source };
        }

        if (!string.IsNullOrEmpty(entry.Auth))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(entry.Auth.Trim()));
            }
            catch (FormatException exception)
            {
                throw new RegistryCredentialException(host, source,
                    $"Cannot use credentials for registry '{host}' from {source}: the \"auth\" value is not base64 of \"user:password\". Log in again (docker login / podman login) or fix the entry.", exception);
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new RegistryCredentialException(host, source,
                    $"Cannot use credentials for registry '{host}' from {source}: the \"auth\" value does not decode to \"user:password\". Log in again (docker login / podman login) or fix the entry.");
            }

            return new RegistryCredential { Username = decoded[..colon], Password = decoded[(colon + 1)..], Source = source };
        }

        if (!string.IsNullOrEmpty(entry.Username) && !string.IsNullOrEmpty(entry.Password))
        {
            return new RegistryCredential { Username = entry.Username, Password = entry.Password, Source = source };
        }

        // An empty entry ({}) is what docker writes when the secret lives in a credential store.
        return null;
    }

    /// <summary>
    /// Docker's key lookup: an exact key first, then Docker Hub's canonical key, then any key that
    /// normalizes to the same host (scheme, path and Docker Hub aliases ignored), in ordinal key order.
    /// </summary>
    private static KeyValuePair<string, T>? FindByHost<T>(Dictionary<string, T>? map, string host)
    {
        if (map is null || map.Count == 0)
        {
            return null;
        }

        if (map.TryGetValue(host, out var exact))
        {
            return new KeyValuePair<string, T>(host, exact);
        }

        if (host == RegistryHostNames.DockerHub && map.TryGetValue(RegistryHostNames.DockerHubLegacyServer, out var hub))
        {
            return new KeyValuePair<string, T>(RegistryHostNames.DockerHubLegacyServer, hub);
        }

        foreach (var pair in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (RegistryHostNames.NormalizeHost(pair.Key) == host)
            {
                return pair;
            }
        }

        return null;
    }

    /// <summary>containers-auth.json(5) lookup: the key with the longest repository path that contains <paramref name="repository"/>.</summary>
    private static KeyValuePair<string, CredentialConfigEntry?>? FindByScopedKey(Dictionary<string, CredentialConfigEntry?>? map, string host, string? repository)
    {
        if (map is null)
        {
            return null;
        }

        KeyValuePair<string, CredentialConfigEntry?>? best = null;
        var bestLength = -1;
        foreach (var pair in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var (keyHost, keyPath) = RegistryHostNames.NormalizeScopedKey(pair.Key);
            if (keyHost != host)
            {
                continue;
            }

            var applies = keyPath.Length == 0
                || (repository is not null
                    && (repository == keyPath || repository.StartsWith(keyPath + "/", StringComparison.Ordinal)));
            if (applies && keyPath.Length > bestLength)
            {
                best = pair;
                bestLength = keyPath.Length;
            }
        }

        return best;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
