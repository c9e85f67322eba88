using System.Globalization;
using Containers.Host.Lifecycle;
using Containers.Host.Readiness;

namespace Containers.Host.Compose;

/// <summary>
/// Turns a compose health check into a wait. Checks that are recognisably an HTTP or a TCP probe of the container itself
/// run from outside (no curl or pg_isready needed in the image): <c>curl -f</c> / <c>wget</c> of a local URL become an
/// HTTP wait on that port and path, <c>pg_isready</c>, <c>redis-cli ping</c> and <c>nc -z</c> a TCP wait on their port.
/// Anything else runs inside the container as compose would (<see cref="Wait.ForCommand"/>).
/// </summary>
internal static class ComposeHealthChecks
{
    private static readonly HashSet<string> LocalHosts = ["localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"];

    /// <summary>The wait for <paramref name="check"/>; <paramref name="httpPort"/> is the container port an HTTP wait needs published.</summary>
    public static IContainerWaitStrategy ToWait(ComposeHealthCheck check, IReadOnlyDictionary<string, string> environment, out int? httpPort)
    {
        httpPort = null;
        var command = check.ExecCommand!;
        if (Recognise(check.Test![0] == "CMD-SHELL" ? ShellCommand(check.Test[1]) : [.. command], environment) is { } probe)
        {
            if (probe.Path is { } path)
            {
                httpPort = probe.Port;
                return Wait.ForHttpSuccess(path, probe.Port);
            }

            return Wait.ForTcpPort(probe.Port);
        }

        return Wait.ForCommand(command, check.Interval, check.Timeout, check.Retries, check.StartPeriod);
    }

    /// <summary>How long the check may take before compose would call the service unhealthy.</summary>
    public static TimeSpan Window(ComposeHealthCheck check) => check.StartPeriod + (check.Retries * (check.Interval + check.Timeout));

    /// <summary>The image's own health check (its config's Healthcheck, else the Containers.Sdk label), found when the container runs.</summary>
    public static IContainerWaitStrategy ImageHealthCheck(bool required) => new ImageHealthCheckWait(required);

    // A shell command is recognisable only when it is one simple command, optionally followed by "|| exit 1".
    private static List<string>? ShellCommand(string shell)
    {
        var text = shell.Trim();
        foreach (var suffix in new[] { "|| exit 1", "||exit 1", "|| false", "|| exit" })
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                text = text[..^suffix.Length].TrimEnd();
                break;
            }
        }

        // '?' stays allowed: it is in URLs, and a glob that matches no file is left as it is.
        if (text.IndexOfAny(['|', '&', ';', '<', '>', '$', '`', '(', ')', '\n', '*']) >= 0)
        {
            return null;
        }

        try
        {
            return ShellWords.Split(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    internal static (int Port, string? Path)? Recognise(List<string>? words, IReadOnlyDictionary<string, string> environment)
    {
        if (words is not { Count: > 0 })
        {
            return null;
        }

        var tool = Path.GetFileName(words[0]);
        var arguments = words.Skip(1).ToList();
        return tool switch
        {
            "curl" => Curl(arguments),
            "wget" => Wget(arguments),
            "pg_isready" => PgIsReady(arguments, environment),
            "redis-cli" => RedisPing(arguments),
            "nc" or "ncat" or "netcat" => NetcatZero(arguments),
            _ => null,
        };
    }

    private static (int Port, string? Path)? Curl(List<string> arguments)
    {
        string? url = null;
        var fails = false;
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument is "-o" or "--output" or "-m" or "--max-time" or "--connect-timeout" or "-w" or "--write-out" or "--retry" or "--retry-delay" or "--retry-max-time" or "-A" or "--user-agent")
            {
                i++;
            }
            else if (argument is "--fail" or "--fail-with-body")
            {
                fails = true;
            }
            else if (argument is "--silent" or "--show-error" or "--location" or "--insecure" or "--no-progress-meter" or "--head")
            {
            }
            else if (argument.StartsWith('-') && !argument.StartsWith("--", StringComparison.Ordinal) && argument.Length > 1 && argument[1..].All(c => c is 'f' or 's' or 'S' or 'L' or 'k' or 'I'))
            {
                fails |= argument.Contains('f', StringComparison.Ordinal);
            }
            else if (!argument.StartsWith('-') && url is null)
            {
                url = argument;
            }
            else
            {
                return null;
            }
        }

        // Without -f, curl succeeds on any answer, even a 500: only the check's own command can tell what it accepts.
        return fails ? LocalUrl(url) : null;
    }

    private static (int Port, string? Path)? Wget(List<string> arguments)
    {
        string? url = null;
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument is "-O" or "-T" or "-t" or "--output-document" or "--timeout" or "--tries")
            {
                i++;
            }
            else if (argument is "-q" or "--quiet" or "--spider" or "-nv" or "--no-verbose" or "-qO-" or "-O-" or "-qO" or "-S" or "--server-response"
                || argument.StartsWith("--tries=", StringComparison.Ordinal) || argument.StartsWith("--timeout=", StringComparison.Ordinal)
                || argument.StartsWith("-O", StringComparison.Ordinal) || argument.StartsWith("--output-document=", StringComparison.Ordinal))
            {
                if (argument == "-qO")
                {
                    i++;
                }
            }
            else if (!argument.StartsWith('-') && url is null)
            {
                url = argument;
            }
            else
            {
                return null;
            }
        }

        return LocalUrl(url);
    }

    private static (int Port, string? Path)? LocalUrl(string? url)
    {
        if (url is null || !Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url, UriKind.Absolute, out var uri) || uri.Scheme != "http")
        {
            return null;
        }

        return LocalHosts.Contains(uri.Host) ? (uri.Port, uri.PathAndQuery) : null;
    }

    private static (int Port, string? Path)? PgIsReady(List<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var port = environment.TryGetValue("PGPORT", out var configured) && int.TryParse(configured, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 5432;
        for (var i = 0; i < arguments.Count; i++)
        {
            var (name, value) = Option(arguments, ref i, "-h", "--host", "-p", "--port", "-U", "--username", "-d", "--dbname", "-t", "--timeout");
            switch (name)
            {
                case "-h" or "--host" when value is null || !(LocalHosts.Contains(value) || value.StartsWith('/')):
                    return null;
                case "-p" or "--port":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port))
                    {
                        return null;
                    }

                    break;
                case "-q" or "--quiet" or "-h" or "--host" or "-U" or "--username" or "-d" or "--dbname" or "-t" or "--timeout":
                    break;
                default:
                    return null;
            }
        }

        return (port, null);
    }

    private static (int Port, string? Path)? RedisPing(List<string> arguments)
    {
        var port = 6379;
        if (arguments.Count == 0 || !arguments[^1].Equals("ping", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        for (var i = 0; i < arguments.Count - 1; i++)
        {
            var (name, value) = Option(arguments, ref i, "-h", "-p", "-a", "--user", "--pass", "-n");
            switch (name)
            {
                case "-h" when value is null || !LocalHosts.Contains(value):
                    return null;
                case "-p":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port))
                    {
                        return null;
                    }

                    break;
                case "-h" or "-a" or "--user" or "--pass" or "-n" or "--no-auth-warning" or "--raw":
                    break;
                default:
                    return null;
            }
        }

        return (port, null);
    }

    private static (int Port, string? Path)? NetcatZero(List<string> arguments)
    {
        var zero = false;
        var operands = new List<string>();
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (argument is "-w" or "-W")
            {
                i++;
            }
            else if (argument.StartsWith('-') && argument.Length > 1 && argument[1..].All(c => c is 'z' or 'v' or 'n' or 'w' or '4' or '6' || char.IsAsciiDigit(c)))
            {
                zero |= argument.Contains('z', StringComparison.Ordinal);
            }
            else if (!argument.StartsWith('-'))
            {
                operands.Add(argument);
            }
            else
            {
                return null;
            }
        }

        return zero && operands.Count == 2 && LocalHosts.Contains(operands[0]) && int.TryParse(operands[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? (port, null)
            : null;
    }

    // "-p 5432", "-p5432", "--port=5432" or "--port 5432" for the options that take a value; others as they are.
    private static (string Name, string? Value) Option(List<string> arguments, ref int i, params string[] withValue)
    {
        var argument = arguments[i];
        var equals = argument.IndexOf('=', StringComparison.Ordinal);
        if (argument.StartsWith("--", StringComparison.Ordinal) && equals > 0 && withValue.Contains(argument[..equals]))
        {
            return (argument[..equals], argument[(equals + 1)..]);
        }

        if (withValue.Contains(argument))
        {
            return (argument, i + 1 < arguments.Count ? arguments[++i] : null);
        }

        if (argument.Length > 2 && !argument.StartsWith("--", StringComparison.Ordinal) && withValue.Contains(argument[..2]))
        {
            return (argument[..2], argument[2..]);
        }

        return (argument, null);
    }

    private sealed class ImageHealthCheckWait(bool required) : IContainerWaitStrategy
    {
        public ContainerWaitKind Kind => ContainerWaitKind.HealthCheck;

        public string Description => "the image's health check";

        public Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            var declared = container.ImageConfig.Config?.Healthcheck;
            if (declared?.Test is { Count: > 0 } test && test[0] != "NONE")
            {
                var check = new ComposeHealthCheck
                {
                    Test = test[0] == "CMD-SHELL" || test[0] == "CMD" ? test : ["CMD", .. test],
                    Interval = declared.IntervalNanoseconds is > 0 and var interval ? TimeSpan.FromTicks(interval / 100) : TimeSpan.FromSeconds(30),
                    Timeout = declared.TimeoutNanoseconds is > 0 and var timeout ? TimeSpan.FromTicks(timeout / 100) : TimeSpan.FromSeconds(30),
                    Retries = declared.Retries is > 0 and var retries ? retries : 3,
                    StartPeriod = declared.StartPeriodNanoseconds is > 0 and var start ? TimeSpan.FromTicks(start / 100) : TimeSpan.Zero,
                };
                var wait = ToWait(check, new Dictionary<string, string>(), out var httpPort);
                if (httpPort is { } port && !container.PublishedContainerPorts.Contains(port))
                {
                    // An HTTP wait goes through a published port; this one is not, so the check runs as the image has it.
                    wait = Wait.ForCommand(check.ExecCommand!, check.Interval, check.Timeout, check.Retries, check.StartPeriod);
                }

                return wait.WaitAsync(container, cancellationToken);
            }

            if (container.ImageConfig.Config?.Labels?.ContainsKey(Shared.ContainerLabelNames.HealthCheck) == true)
            {
                return Wait.ForHealthCheck().WaitAsync(container, cancellationToken);
            }

            return required
                ? throw new InvalidOperationException("the service is depended on with condition service_healthy, but neither the compose file nor the image declares a health check; add a healthcheck: to the service, or depend on it with service_started.")
                : Task.CompletedTask;
        }
    }
}
