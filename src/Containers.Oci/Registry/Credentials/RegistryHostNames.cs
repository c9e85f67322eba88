using Containers.Oci.References;

namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Matching of registry names as they appear in credential files against the registry of an image
/// reference: schemes and legacy "/v1/" paths are ignored, host names compare case-insensitively,
/// and Docker Hub's many spellings all mean "docker.io".
/// </summary>
internal static class RegistryHostNames
{
    public const string DockerHub = ImageReference.DockerHubRegistry;

    /// <summary>The key docker login writes for Docker Hub and the server URL docker passes to helpers for it.</summary>
    public const string DockerHubLegacyServer = "https://index.docker.io/v1/";

    private static readonly string[] DockerHubAliases = [DockerHub, "index.docker.io", RegistryHosts.DockerHubApiHost];

    /// <summary>
    /// "https://Host:5000/v2/" → "host:5000"; Docker Hub aliases → "docker.io". Everything after the
    /// first '/' (once a scheme is removed) is dropped, as docker does for its config keys.
    /// </summary>
    public static string NormalizeHost(string value)
    {
        var (host, _) = Split(value, keepPath: false);
        return host;
    }

    /// <summary>
    /// Splits a containers auth.json key into host and repository path: "quay.io/ns/repo" → ("quay.io", "ns/repo").
    /// Keys with a scheme are legacy docker-style keys and name only a host, as in containers-image.
    /// </summary>
    public static (string Host, string Path) NormalizeScopedKey(string key) => Split(key, keepPath: true);

    /// <summary>The server URL to hand a credential helper for <paramref name="registry"/> (normalized).</summary>
    public static string HelperServerUrl(string registry) =>
        registry == DockerHub ? DockerHubLegacyServer : registry;

    private static (string Host, string Path) Split(string value, bool keepPath)
    {
        var text = value.Trim();
        var hadScheme = false;
        foreach (var scheme in new[] { "https://", "http://" })
        {
            if (text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                text = text[scheme.Length..];
                hadScheme = true;
                break;
            }
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var host = (slash < 0 ? text : text[..slash]).ToLowerInvariant();
        var path = slash < 0 || hadScheme || !keepPath ? "" : text[(slash + 1)..].Trim('/');
        if (Array.IndexOf(DockerHubAliases, host) >= 0)
        {
            host = DockerHub;
        }

        return (host, path);
    }
}
