using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Containers.Shared;

/// <summary>
/// The distribution-spec rules for the parts of an image reference: tag, repository and registry.
/// One implementation, compiled into Containers.Oci (which the MSBuild tasks use) and into the
/// netstandard2.0 analyzers, so that a name the IDE accepts is a name publishing accepts, with the
/// same words in both messages. Written against netstandard2.0 (no ranges, no span helpers).
/// </summary>
internal static class ImageNameRules
{
    /// <summary>Docker Hub's registry name in normalized references.</summary>
    public const string DockerHubRegistry = "docker.io";

    /// <summary>The only host without '.' or port that names a registry rather than a Docker Hub namespace.</summary>
    public const string Localhost = "localhost";

    /// <summary>The longest name (registry, '/' and repository) a registry accepts.</summary>
    public const int MaxNameLength = 255;

    /// <summary>The longest tag.</summary>
    public const int MaxTagLength = 128;

    /// <summary>Null when <paramref name="tag"/> is valid; otherwise a sentence that says what is wrong with it.</summary>
    public static string? ValidateTag(string? tag)
    {
        if (tag is null || tag.Length == 0)
        {
            return "the tag is empty; a tag is 1 to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'.";
        }

        if (tag.Length > MaxTagLength)
        {
            return $"tag '{tag}' is {tag.Length} characters; the limit is {MaxTagLength}.";
        }

        foreach (var c in tag)
        {
            if (!IsWordCharacter(c) && c is not ('.' or '-'))
            {
                return $"tag '{tag}' contains {Describe(c)}; a tag may contain only letters, digits, '_', '.' and '-'.";
            }
        }

        if (tag[0] is '.' or '-')
        {
            return $"tag '{tag}' starts with '{tag[0]}'; a tag must start with a letter, a digit or '_'.";
        }

        return null;
    }

    /// <summary>Null when <paramref name="repository"/> is a valid repository path; otherwise a sentence that says what is wrong with it.</summary>
    /// <remarks>
    /// A repository is path components separated by '/'; each component is lowercase letters and digits,
    /// with a single '.', one or two '_', or any number of '-' between them.
    /// </remarks>
    public static string? ValidateRepository(string? repository)
    {
        if (repository is null || repository.Length == 0)
        {
            return "the repository is empty; expected lowercase path components separated by '/', for example 'team/app'.";
        }

        if (repository.Length > MaxNameLength)
        {
            return $"repository '{repository}' is {repository.Length} characters; the limit is {MaxNameLength}.";
        }

        foreach (var c in repository)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return $"repository '{repository}' contains uppercase letter '{c}'; repository names must be lowercase.";
            }

            if (!IsLowercaseAlphanumeric(c) && c is not ('.' or '_' or '-' or '/'))
            {
                return $"repository '{repository}' contains {Describe(c)}; a repository may contain only lowercase letters, digits, the separators '.', '_' and '-', and '/' between path components.";
            }
        }

        var start = 0;
        while (true)
        {
            var end = IndexOf(repository, '/', start);
            if (end < 0)
            {
                end = repository.Length;
            }

            var error = ValidatePathComponent(repository, start, end);
            if (error is not null)
            {
                return error;
            }

            if (end == repository.Length)
            {
                return null;
            }

            start = end + 1;
        }
    }

    /// <summary>Null when <paramref name="registry"/> is a valid registry that a reference can name; otherwise a sentence that says what is wrong with it.</summary>
    /// <remarks>
    /// A registry is <c>host[:port]</c>: the host is dot-separated labels of letters, digits and inner '-',
    /// or an IPv6 address in brackets (<c>[::1]:5000</c>); the port is 1 to 65535. A host without '.',
    /// port or uppercase letter other than <c>localhost</c> is refused, because in a reference it would be
    /// read as a Docker Hub namespace.
    /// </remarks>
    public static string? ValidateRegistry(string? registry)
    {
        if (registry is null || registry.Length == 0)
        {
            return "the registry is empty; expected a host with an optional port, for example 'registry.example.com' or 'localhost:5000'.";
        }

        var scheme = registry.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            return $"registry '{registry}' includes a URL scheme; give only the host and port, for example '{registry.Substring(scheme + 3).TrimEnd('/')}'.";
        }

        string? port;
        if (registry[0] == '[')
        {
            var close = IndexOf(registry, ']');
            if (close < 0)
            {
                return $"registry '{registry}' has '[' without a closing ']'; an IPv6 address is written in brackets, for example '[::1]:5000'.";
            }

            var address = registry.Substring(1, close - 1);
            foreach (var c in address)
            {
                if (!IsHexDigit(c) && c != ':')
                {
                    return $"registry '{registry}' contains {Describe(c)} inside the brackets; an IPv6 address there is hex digits and ':' only (zone identifiers such as '%eth0' are not allowed).";
                }
            }

            if (!IPAddress.TryParse(address, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return $"registry '{registry}' has '[{address}]', which is not an IPv6 address.";
            }

            var rest = registry.Substring(close + 1);
            if (rest.Length == 0)
            {
                return null;
            }

            if (rest[0] != ':')
            {
                return $"registry '{registry}' has {Describe(rest[0])} after ']'; expected ':' and a port, or nothing.";
            }

            port = rest.Substring(1);
        }
        else
        {
            var colon = IndexOf(registry, ':');
            var host = colon < 0 ? registry : registry.Substring(0, colon);
            port = colon < 0 ? null : registry.Substring(colon + 1);
            var hostError = ValidateHostName(registry, host);
            if (hostError is not null)
            {
                return hostError;
            }

            if (port is null && !IsRegistryComponent(host))
            {
                return $"registry '{registry}' has no '.', no port and is not 'localhost', so in an image reference '{registry}/app' would mean the Docker Hub repository '{DockerHubRegistry}/{registry}/app'; name the registry with its port (for example '{registry}:5000') or its fully qualified host name.";
            }
        }

        return port is null ? null : ValidatePort(registry, port);
    }

    /// <summary>Distribution's rule for whether the first path component of a reference names a registry rather than a Docker Hub namespace.</summary>
    public static bool IsRegistryComponent(string component)
    {
        // A repository cannot start with '[', so such a component can only be meant as an IPv6 host.
        if (component == Localhost || (component.Length > 0 && component[0] == '[') || IndexOf(component, '.') >= 0 || IndexOf(component, ':') >= 0)
        {
            return true;
        }

        // Docker Hub namespaces are lowercase, so an uppercase first component can only be a host.
        foreach (var c in component)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A character as a message shows it: quoted when printable ASCII, as U+XXXX otherwise.</summary>
    public static string Describe(char c) => c switch
    {
        ' ' => "a space",
        _ when c < 0x21 || c == 0x7F || char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c) => "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
        _ when c > 0x7E => $"'{c}' (U+{((int)c).ToString("X4", CultureInfo.InvariantCulture)})",
        _ => $"'{c}'",
    };

    private static string? ValidatePathComponent(string repository, int start, int end)
    {
        if (start == end)
        {
            if (start == 0)
            {
                return $"repository '{repository}' starts with '/'; a repository is path components separated by '/', none of them empty.";
            }

            if (end == repository.Length)
            {
                return $"repository '{repository}' ends with '/'; a repository is path components separated by '/', none of them empty.";
            }

            return $"repository '{repository}' contains '//'; path components are separated by a single '/' and cannot be empty.";
        }

        var component = repository.Substring(start, end - start);
        if (!IsLowercaseAlphanumeric(component[0]))
        {
            return $"repository '{repository}' has the path component '{component}', which starts with '{component[0]}'; each component must start and end with a lowercase letter or digit.";
        }

        var last = component[component.Length - 1];
        if (!IsLowercaseAlphanumeric(last))
        {
            return $"repository '{repository}' has the path component '{component}', which ends with '{last}'; each component must start and end with a lowercase letter or digit.";
        }

        var i = 0;
        while (i < component.Length)
        {
            if (IsLowercaseAlphanumeric(component[i]))
            {
                i++;
                continue;
            }

            var separatorStart = i;
            while (i < component.Length && !IsLowercaseAlphanumeric(component[i]))
            {
                i++;
            }

            var separator = component.Substring(separatorStart, i - separatorStart);
            if (!IsValidSeparator(separator))
            {
                return $"repository '{repository}' contains '{separator}' in the path component '{component}'; between letters and digits use a single '.', one or two '_', or one or more '-'.";
            }
        }

        return null;
    }

    private static bool IsValidSeparator(string separator)
    {
        if (separator is "." or "_" or "__")
        {
            return true;
        }

        foreach (var c in separator)
        {
            if (c != '-')
            {
                return false;
            }
        }

        return true;
    }

    private static string? ValidateHostName(string registry, string host)
    {
        if (host.Length == 0)
        {
            return $"registry '{registry}' has no host before ':'; expected a host with an optional port, for example 'localhost:5000'.";
        }

        foreach (var c in host)
        {
            if (!IsAsciiLetterOrDigit(c) && c is not ('.' or '-'))
            {
                return $"registry '{registry}' contains {Describe(c)} in the host name; a host name is letters, digits, '-' and '.', or an IPv6 address in brackets.";
            }
        }

        var start = 0;
        while (true)
        {
            var end = IndexOf(host, '.', start);
            if (end < 0)
            {
                end = host.Length;
            }

            if (start == end)
            {
                var where = start == 0 ? "starts with '.'" : end == host.Length ? "ends with '.'" : "contains '..'";
                return $"registry '{registry}' {where}; a host name is labels separated by single dots, none of them empty.";
            }

            if (host[start] == '-' || host[end - 1] == '-')
            {
                return $"registry '{registry}' has the host label '{host.Substring(start, end - start)}', which {(host[start] == '-' ? "starts" : "ends")} with '-'; each label must start and end with a letter or digit.";
            }

            if (end == host.Length)
            {
                return null;
            }

            start = end + 1;
        }
    }

    private static string? ValidatePort(string registry, string port)
    {
        if (port.Length == 0)
        {
            return $"registry '{registry}' ends with ':' but has no port; write the port after ':', for example 'localhost:5000', or drop the ':'.";
        }

        var number = 0L;
        foreach (var c in port)
        {
            if (c is < '0' or > '9')
            {
                return $"registry '{registry}' has the port '{port}', which is not a number; a port is a number from 1 to 65535.";
            }

            // Saturate rather than overflow: any value past 65535 is reported the same way.
            number = Math.Min(number * 10 + (c - '0'), 1_000_000);
        }

        if (number is < 1 or > 65535)
        {
            return $"registry '{registry}' has port {port}, outside 1-65535.";
        }

        return null;
    }

    // A loop, not string.IndexOf(char): netstandard2.0 has no overload with a StringComparison, and the
    // net8.0 build's CA1307 wants one.
    private static int IndexOf(string text, char value, int start = 0)
    {
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == value)
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsLowercaseAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    private static bool IsAsciiLetterOrDigit(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9');

    private static bool IsHexDigit(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F');

    // Go's RE2 \w: ASCII letters, digits and '_'.
    private static bool IsWordCharacter(char c) => IsAsciiLetterOrDigit(c) || c == '_';
}
