using System.Net;
using Containers.Oci.References;

namespace Containers.Oci.Registry;

/// <summary>Where a registry named in an image reference is actually reached, and over which scheme.</summary>
public static class RegistryHosts
{
    /// <summary>The name Docker Hub has in image references.</summary>
    public const string DockerHub = ImageReference.DockerHubRegistry;

    /// <summary>The host that serves Docker Hub's registry API.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>
    /// True when <paramref name="registry"/> (host or host:port) is a loopback address: <c>localhost</c>,
    /// <c>127.0.0.0/8</c> or <c>::1</c> (bracketed or not).
    /// </summary>
    public static bool IsLoopback(string registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var host = HostWithoutPort(registry);
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// True when the registry is spoken to over plain HTTP: loopback registries and those listed in
    /// <paramref name="insecureRegistries"/> (matched by host:port or by host alone).
    /// </summary>
    public static bool UsesPlainHttp(string registry, IEnumerable<string>? insecureRegistries)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (IsLoopback(registry))
        {
            return true;
        }

        if (insecureRegistries is null)
        {
            return false;
        }

        var host = HostWithoutPort(registry);
        foreach (var insecure in insecureRegistries)
        {
            var trimmed = insecure.Trim();
            if (string.Equals(trimmed, registry, StringComparison.OrdinalIgnoreCase)
                || string.Equals(trimmed, host, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The base address of the registry's API (<c>https://host[:port]/</c> or <c>http://...</c>).</summary>
    public static Uri GetBaseAddress(string registry, IEnumerable<string>? insecureRegistries)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var authority = string.Equals(registry, DockerHub, StringComparison.OrdinalIgnoreCase) ? DockerHubApiHost : registry;
        if (!authority.StartsWith('[') && authority.Count(c => c == ':') > 1)
        {
            // A bare IPv6 address needs brackets in a URI.
            authority = "[" + authority + "]";
        }

        var scheme = UsesPlainHttp(registry, insecureRegistries) ? Uri.UriSchemeHttp : Uri.UriSchemeHttps;
        return new Uri($"{scheme}://{authority}/", UriKind.Absolute);
    }

    /// <summary>The host part of <c>host[:port]</c>, without brackets around an IPv6 address.</summary>
    internal static string HostWithoutPort(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? registry[1..close] : registry;
        }

        // A bare IPv6 address has several colons and no port.
        var firstColon = registry.IndexOf(':', StringComparison.Ordinal);
        if (firstColon < 0 || registry.IndexOf(':', firstColon + 1) >= 0)
        {
            return registry;
        }

        return registry[..firstColon];
    }
}
