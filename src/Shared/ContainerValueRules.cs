using System;

namespace Containers.Shared;

/// <summary>
/// The value rules for container settings, written against netstandard2.0 so that the analyzers
/// and the MSBuild-side validator can compile the same file and agree on every verdict.
/// </summary>
internal static class ContainerValueRules
{
    /// <summary>The highest TCP/UDP port number.</summary>
    public const int MaxPort = 65535;

    /// <summary>A port number is valid from 1 to 65535 (0 means "any port" and cannot be exposed).</summary>
    public static bool IsValidPort(int port) => port >= 1 && port <= MaxPort;

    /// <summary>
    /// Parses a port as MSBuild items and attributes give it: digits only (no sign, spaces or
    /// hex), 1 to 65535.
    /// </summary>
    public static bool TryParsePort(string? text, out int port)
    {
        port = 0;
        if (text is null || text.Length == 0 || text.Length > 5)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c < '0' || c > '9')
            {
                return false;
            }

            port = (port * 10) + (c - '0');
        }

        return IsValidPort(port);
    }

    /// <summary>The image config only knows <c>tcp</c> and <c>udp</c> (lower case, as written in <c>ExposedPorts</c>).</summary>
    public static bool IsKnownProtocol(string? protocol) =>
        string.Equals(protocol, "tcp", StringComparison.Ordinal) || string.Equals(protocol, "udp", StringComparison.Ordinal);

    /// <summary>
    /// An environment variable name is a POSIX portable name: an ASCII letter or underscore,
    /// then ASCII letters, digits or underscores. Other names are dropped or mangled by shells and runtimes.
    /// </summary>
    public static bool IsValidEnvironmentVariableName(string? name)
    {
        if (name is null || name.Length == 0 || !(IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when the user (<c>name</c>, <c>uid</c>, <c>name:group</c> or <c>uid:gid</c>) runs the
    /// process as root: the name <c>root</c> or the uid <c>0</c>.
    /// </summary>
    public static bool IsRootUser(string? user)
    {
        if (user is null)
        {
            return false;
        }

        // A loop, not IndexOf: netstandard2.0 has no IndexOf(char, StringComparison), and net8.0's CA1307 wants one.
        var end = 0;
        while (end < user.Length && user[end] != ':')
        {
            end++;
        }

        var userPart = user.Substring(0, end).Trim();
        return string.Equals(userPart, "root", StringComparison.Ordinal) || IsZero(userPart);
    }

    private static bool IsZero(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c != '0')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
