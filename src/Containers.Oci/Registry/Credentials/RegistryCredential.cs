namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Credentials for one registry, and where they came from. <see cref="Source"/> is shown in error
/// messages (for example "docker config /root/.docker/config.json (credHelpers: ecr-login)");
/// the secret never is.
/// </summary>
public sealed record RegistryCredential
{
    /// <summary>The user name for Basic auth or for the token request.</summary>
    public string? Username { get; init; }

    /// <summary>The password or personal access token.</summary>
    public string? Password { get; init; }

    /// <summary>An OAuth2 refresh token (docker config.json <c>identitytoken</c>), exchanged at the token endpoint.</summary>
    public string? IdentityToken { get; init; }

    /// <summary>A registry token used as-is as a Bearer token.</summary>
    public string? RegistryToken { get; init; }

    /// <summary>A human-readable description of where these credentials were found.</summary>
    public required string Source { get; init; }

    /// <summary>Hides the secret from logs and debugger displays.</summary>
    public override string ToString() => $"{Username ?? "(token)"} from {Source}";
}

/// <summary>Finds the credentials to use for a registry host.</summary>
public interface ICredentialProvider
{
    /// <summary>
    /// Returns credentials for <paramref name="registry"/> (a host with optional port, as in an image
    /// reference; Docker Hub as <c>docker.io</c>), or null to go anonymous.
    /// </summary>
    ValueTask<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns credentials for <paramref name="repository"/> (e.g. "team/app") on <paramref name="registry"/>.
    /// Sources that scope credentials to repositories (podman's auth.json) use it; by default the
    /// registry-wide answer is returned.
    /// </summary>
    ValueTask<RegistryCredential?> GetCredentialAsync(string registry, string? repository, CancellationToken cancellationToken = default) =>
        GetCredentialAsync(registry, cancellationToken);
}

/// <summary>A provider that returns fixed credentials for every registry (tests, explicit user input).</summary>
public sealed class StaticCredentialProvider : ICredentialProvider
{
    private readonly RegistryCredential? _credential;

    /// <summary>Always returns <paramref name="credential"/>.</summary>
    public StaticCredentialProvider(RegistryCredential? credential) => _credential = credential;

    /// <summary>Never any credentials.</summary>
    public static StaticCredentialProvider Anonymous { get; } = new(null);

    /// <inheritdoc/>
    public ValueTask<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default) => new(_credential);
}
