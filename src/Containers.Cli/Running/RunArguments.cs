using System.Globalization;
using System.Text.RegularExpressions;

namespace Containers.Cli.Running;

/// <summary>Checks and converts the values of <c>run</c>'s and <c>exec</c>'s options; each wrong value is a coded usage error naming it.</summary>
public static partial class RunArguments
{
    /// <summary>
    /// <c>-p [HOST:]CONTAINER[/tcp]</c> values: container ports published on free ports, and those with a fixed host port.
    /// </summary>
    /// <exception cref="CliException">A value is not of that form.</exception>
    public static (List<int> Ports, Dictionary<int, int> HostPorts) ParsePorts(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var ports = new List<int>();
        var hostPorts = new Dictionary<int, int>();
        foreach (var value in values)
        {
            var text = value.EndsWith("/tcp", StringComparison.OrdinalIgnoreCase) ? value[..^4] : value;
            var parts = text.Split(':');
            if (parts.Length is < 1 or > 2 || parts.Any(p => !IsPort(p)))
            {
                throw CliException.Usage(CliErrorCodes.BadPort, $"-p '{value}' is not [HOST:]CONTAINER: expected a container TCP port (1-65535), optionally after the 127.0.0.1 port to publish it on, e.g. -p 8080 or -p 9000:8080.");
            }

            var containerPort = int.Parse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture);
            if (parts.Length == 2)
            {
                hostPorts[containerPort] = int.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture);
            }
            else
            {
                ports.Add(containerPort);
            }
        }

        return (ports, hostPorts);
    }

    /// <summary>
    /// <c>--env-file</c> files, then <c>-e</c> values (a later one wins): <c>NAME=VALUE</c>, or <c>NAME</c> alone for this
    /// process's value of it (left out when it has none), as docker does. Env file lines that are empty or start with
    /// <c>#</c> are skipped.
    /// </summary>
    /// <exception cref="CliException">A value or line is not of that form, or a file cannot be read.</exception>
    public static Dictionary<string, string> ParseEnvironment(IEnumerable<string> values, IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(files);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage(CliErrorCodes.BadEnvironment, $"--env-file '{file}' cannot be read: {ex.Message} Give a readable file of NAME=VALUE lines.");
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length > 0 && !line.StartsWith('#'))
                {
                    Add(environment, line, $"--env-file '{file}' line {i + 1}");
                }
            }
        }

        foreach (var value in values)
        {
            Add(environment, value, $"-e '{value}'");
        }

        return environment;
    }

    /// <summary>A <c>--name</c>: a letter or digit, then letters, digits, <c>_ . -</c> (as docker's).</summary>
    /// <exception cref="CliException">It is not.</exception>
    public static string CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return NamePattern().IsMatch(name)
            ? name
            : throw CliException.Usage(CliErrorCodes.BadName, $"--name '{name}' is not a container name: expected a letter or digit, then letters, digits, '_', '.' or '-' (at most 64), e.g. --name webapi.");
    }

    /// <summary>A name for a container without <c>--name</c>: the image's repository's last part, and the id's start.</summary>
    public static string DefaultName(string image, string id)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(id);
        var path = image;
        foreach (var transport in new[] { "docker://", "oci:", "oci-archive:", "docker-archive:" })
        {
            if (path.StartsWith(transport, StringComparison.Ordinal))
            {
                path = path[transport.Length..];
                break;
            }
        }

        var last = path.TrimEnd('/').Split('/')[^1].Split('@')[0].Split(':')[0];
        var baseName = NameCharacters().Replace(Path.GetFileNameWithoutExtension(last).ToLowerInvariant(), "-").Trim('-', '.', '_');
        if (baseName.Length == 0 || !char.IsAsciiLetterOrDigit(baseName[0]))
        {
            baseName = "container";
        }

        return $"{baseName[..Math.Min(baseName.Length, 40)]}-{id[..6]}";
    }

    private static void Add(Dictionary<string, string> environment, string entry, string where)
    {
        var equals = entry.IndexOf('=', StringComparison.Ordinal);
        var name = equals < 0 ? entry : entry[..equals];
        if (name.Length == 0 || name.Any(char.IsWhiteSpace))
        {
            throw CliException.Usage(CliErrorCodes.BadEnvironment, $"{where} is not NAME=VALUE: the name is empty or has white space. Write e.g. -e ASPNETCORE_ENVIRONMENT=Development.");
        }

        if (equals >= 0)
        {
            environment[name] = entry[(equals + 1)..];
        }
        else if (Environment.GetEnvironmentVariable(name) is { } inherited)
        {
            environment[name] = inherited;
        }
    }

    private static bool IsPort(string text) =>
        text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) is >= 1 and <= 65535;

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("[^a-z0-9_.-]+")]
    private static partial Regex NameCharacters();
}
