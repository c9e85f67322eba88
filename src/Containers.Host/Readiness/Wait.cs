using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.Host.Lifecycle;

namespace Containers.Host.Readiness;

/// <summary>
/// The wait strategies. All but <see cref="ForCommand"/> run from outside the container: nothing is executed inside it,
/// so they work on distroless images.
/// </summary>
public static class Wait
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    /// <summary>Until something accepts TCP connections on <paramref name="containerPort"/> inside the container's network.</summary>
    public static IContainerWaitStrategy ForTcpPort(int containerPort) => new TcpWait(containerPort);

    /// <summary>Until <c>GET <paramref name="path"/></c> on the published <paramref name="containerPort"/> (null: the first published port) answers <paramref name="expectedStatus"/>.</summary>
    public static IContainerWaitStrategy ForHttp(string path, int? containerPort = null, int expectedStatus = 200) => new HttpWait(path, containerPort, expectedStatus);

    /// <summary>Until a stdout or stderr line matches <paramref name="regex"/>.</summary>
    public static IContainerWaitStrategy ForLogLine(string regex) => new LogWait(new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));

    /// <summary>
    /// Until the image's declared HTTP health check answers 200: the <c>dev.containers-sdk.health-check</c> label that
    /// Containers.Sdk writes from <c>[assembly: ContainerHealthCheck("/healthz")]</c>.
    /// </summary>
    public static IContainerWaitStrategy ForHealthCheck() => new HealthCheckWait();

    /// <summary>Until the container exits, with <paramref name="expectedExitCode"/> (null: any).</summary>
    public static IContainerWaitStrategy ForExit(int? expectedExitCode = 0) => new ExitWait(expectedExitCode);

    /// <summary>
    /// What the image itself says readiness is, decided when the container runs: its declared health check
    /// (<c>[assembly: ContainerHealthCheck]</c>), else a TCP connect to one of its exposed TCP ports, the app's own
    /// before the base image's: an exposed port that the app's <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c> or
    /// <c>ASPNETCORE_HTTPS_PORTS</c> names (in the image's environment or the start's), else one that no such variable
    /// names (the app's <c>ContainerPort</c> items), else the base image's default (<c>ASPNETCORE_HTTP_PORTS=8080</c>),
    /// else nothing to wait for. What a handle with no waits of its own uses.
    /// </summary>
    public static IContainerWaitStrategy ForImageDefaults() => new ImageDefaultWait();

    /// <summary>
    /// A wait from its text form, as MSBuild items and the command line write it: <c>tcp:5432</c>, <c>http:/healthz</c>,
    /// <c>http:8080/healthz</c>, <c>http:/ready=204</c> (expected status), <c>log:REGEX</c>, <c>healthcheck</c>,
    /// <c>exit</c> (any code) or <c>exit:0</c>. <paramref name="source"/> names where the text came from in the error.
    /// </summary>
    /// <exception cref="Containers.Oci.OciException">The text is none of these forms; the message shows them.</exception>
    public static IContainerWaitStrategy Parse(string text, string source = "the wait")
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        var kind = (colon < 0 ? trimmed : trimmed[..colon]).ToLowerInvariant();
        var argument = colon < 0 ? null : trimmed[(colon + 1)..];
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        switch (kind)
        {
            case "tcp" when int.TryParse(argument, System.Globalization.NumberStyles.None, invariant, out var port) && port is > 0 and < 65536:
                return ForTcpPort(port);
            case "http" when argument is not null && Regex.Match(argument, @"^(?<port>\d{1,5})?(?<path>/[^=\s]*)(=(?<status>\d{3}))?$", RegexOptions.CultureInvariant) is { Success: true } http:
                return ForHttp(
                    http.Groups["path"].Value,
                    http.Groups["port"].Success ? int.Parse(http.Groups["port"].Value, invariant) : null,
                    http.Groups["status"].Success ? int.Parse(http.Groups["status"].Value, invariant) : 200);
            case "log" when !string.IsNullOrEmpty(argument):
                try
                {
                    return ForLogLine(argument);
                }
                catch (ArgumentException ex)
                {
                    throw new Containers.Oci.OciException($"{source} 'log:{argument}' is not a valid regular expression: {ex.Message}");
                }

            case "healthcheck" when argument is null:
                return ForHealthCheck();
            case "exit" when argument is null:
                return ForExit(null);
            case "exit" when int.TryParse(argument, System.Globalization.NumberStyles.AllowLeadingSign, invariant, out var code):
                return ForExit(code);
            default:
                throw new Containers.Oci.OciException(
                    $"{source} '{text}' is not a wait; write one of tcp:PORT, http:/PATH, http:PORT/PATH, http:/PATH=STATUS, log:REGEX, healthcheck, exit or exit:CODE.");
        }
    }

    /// <summary>
    /// Until <paramref name="command"/>, run inside the container (<see cref="RunningContainer.ExecAsync"/>, as the image's
    /// user), exits 0 — a health check like compose's <c>["CMD", "pg_isready"]</c>. It runs at once, then every
    /// <paramref name="interval"/> (default 1 s); an attempt that takes longer than <paramref name="timeout"/> (default
    /// 30 s) is killed and fails. After <paramref name="startPeriod"/>, <paramref name="retries"/> failures in a row (null:
    /// no limit but the startup timeout) fail the wait with the last attempt's output. The image must contain the command.
    /// </summary>
    public static IContainerWaitStrategy ForCommand(IReadOnlyList<string> command, TimeSpan? interval = null, TimeSpan? timeout = null, int? retries = null, TimeSpan? startPeriod = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0)
        {
            throw new ArgumentException("Name the command to run, e.g. [\"pg_isready\", \"-U\", \"postgres\"].", nameof(command));
        }

        if (retries is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(retries), retries, "At least one attempt must be allowed to fail before the wait fails; pass null for no limit.");
        }

        return new CommandWait([.. command], interval ?? TimeSpan.FromSeconds(1), timeout ?? TimeSpan.FromSeconds(30), retries, startPeriod ?? TimeSpan.Zero);
    }

    /// <summary>Until <c>GET <paramref name="path"/></c> answers a status below 400, as <c>curl -f</c> and <c>wget</c> accept (compose health checks).</summary>
    internal static IContainerWaitStrategy ForHttpSuccess(string path, int containerPort) => new HttpWait(path, containerPort, null);

    /// <summary>The container ports TCP waits connect to (the CLI backend must publish them to reach them from outside).</summary>
    internal static IEnumerable<int> TcpPorts(IEnumerable<IContainerWaitStrategy> strategies) =>
        strategies.OfType<TcpWait>().Select(wait => wait.Port);

    private sealed class TcpWait(int port) : IContainerWaitStrategy, IWatchesPort
    {
        public int Port => port;

        public int? WatchedPort(RunningContainer container) => port;

        public ContainerWaitKind Kind => ContainerWaitKind.TcpPort;

        public string Description => $"TCP port {port} to accept connections";

        public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            while (!await container.CanConnectInsideAsync(port, cancellationToken).ConfigureAwait(false))
            {
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // expectedStatus null: any status below 400 (what curl -f and wget take for success).
    private sealed class HttpWait(string path, int? port, int? expectedStatus) : IContainerWaitStrategy, IWatchesPort
    {
        public int? WatchedPort(RunningContainer container) => port ?? container.PublishedContainerPorts.Cast<int?>().FirstOrDefault();

        public ContainerWaitKind Kind => ContainerWaitKind.Http;

        public string Description => $"GET {path} on port {port?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(first published)"} to answer {(expectedStatus is { } status ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "a status below 400")}";

        public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            using var http = container.CreateHttpClient(port);
            http.Timeout = TimeSpan.FromSeconds(5);
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(path, cancellationToken).ConfigureAwait(false);
                    if (expectedStatus is { } status ? (int)response.StatusCode == status : (int)response.StatusCode < 400)
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // Not listening yet, or the forwarder found nothing to connect to inside.
                }

                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class CommandWait(string[] command, TimeSpan interval, TimeSpan timeout, int? retries, TimeSpan startPeriod) : IContainerWaitStrategy, IReportsLastAttempt
    {
        // The last attempt's result, so a wait that times out says what the command answered.
        private volatile string? _lastFailure;

        public string? LastAttempt => _lastFailure;

        public ContainerWaitKind Kind => ContainerWaitKind.Command;

        public IReadOnlyList<string> Command => command;

        public string Description => $"the command '{string.Join(' ', command)}' to exit 0 inside the container";

        public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var failuresInARow = 0;
            while (true)
            {
                string failure;
                using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    attempt.CancelAfter(timeout);
                    try
                    {
                        var result = await container.ExecAsync(command, cancellationToken: attempt.Token).ConfigureAwait(false);
                        if (result.ExitCode == 0)
                        {
                            return;
                        }

                        var output = (result.StandardOutput + result.StandardError).Trim();
                        failure = $"exit code {result.ExitCode}" + (output.Length == 0 ? "" : ": " + (output.Length > 500 ? output[^500..] : output));
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = $"no answer within {timeout.TotalSeconds:0.#} s";
                    }
                }

                _lastFailure = failure;

                // Failures in the start period do not count, as in docker's health checks.
                if (started.Elapsed >= startPeriod && retries is { } allowed && ++failuresInARow >= allowed)
                {
                    throw new InvalidOperationException($"'{string.Join(' ', command)}' failed {allowed} time(s) in a row, the last with {failure}.");
                }

                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class LogWait(Regex regex) : IContainerWaitStrategy
    {
        public ContainerWaitKind Kind => ContainerWaitKind.LogLine;

        public string Description => $"a log line matching /{regex}/";

        public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            var matched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = container.Logs.Subscribe(line =>
            {
                if (regex.IsMatch(line))
                {
                    matched.TrySetResult();
                }
            });
            await matched.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class HealthCheckWait : IContainerWaitStrategy, IWatchesPort
    {
        public const string Label = Shared.ContainerLabelNames.HealthCheck;

        public int? WatchedPort(RunningContainer container)
        {
            if (container.ImageConfig.Config?.Labels?.TryGetValue(Label, out var json) != true)
            {
                return null;
            }

            using var document = JsonDocument.Parse(json!);
            var port = document.RootElement.GetProperty("port").GetInt32();
            return port == 0 ? container.PublishedContainerPorts.Cast<int?>().FirstOrDefault() : port;
        }

        public ContainerWaitKind Kind => ContainerWaitKind.HealthCheck;

        public string Description => "the image's health check";

        public Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            if (container.ImageConfig.Config?.Labels?.TryGetValue(Label, out var json) != true)
            {
                throw new InvalidOperationException($"The image declares no health check (label {Label}); declare one with [assembly: ContainerHealthCheck(\"/healthz\")] or wait with Wait.ForHttp.");
            }

            using var document = JsonDocument.Parse(json!);
            var path = document.RootElement.GetProperty("path").GetString()!;
            var port = document.RootElement.GetProperty("port").GetInt32();
            return new HttpWait(path, port == 0 ? null : port, 200).WaitAsync(container, cancellationToken);
        }
    }

    private sealed class ImageDefaultWait : IContainerWaitStrategy, IWatchesPort
    {
        private IContainerWaitStrategy? _chosen;

        public int? WatchedPort(RunningContainer container) => (_chosen as IWatchesPort)?.WatchedPort(container);

        public ContainerWaitKind Kind => ContainerWaitKind.ImageDefault;

        public string Description => _chosen?.Description ?? "the image's own readiness (its health check, else its exposed port)";

        public Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            _chosen = ImageDefaultFor(container.ImageConfig, container.StartEnvironment);
            return _chosen?.WaitAsync(container, cancellationToken) ?? Task.CompletedTask;
        }
    }

    /// <summary>
    /// What <see cref="ForImageDefaults"/> waits for on <paramref name="image"/> started with <paramref name="startEnvironment"/>
    /// (variables the start adds to or replaces in the image's Env); null: nothing.
    /// </summary>
    internal static IContainerWaitStrategy? ImageDefaultFor(Oci.Models.ImageConfig image, IReadOnlyDictionary<string, string>? startEnvironment = null)
    {
        var config = image.Config;
        if (config?.Labels?.ContainsKey(HealthCheckWait.Label) == true)
        {
            return new HealthCheckWait();
        }

        var exposed = (config?.ExposedPorts?.Keys ?? [])
            .Where(key => key.EndsWith("/tcp", StringComparison.Ordinal) || !key.Contains('/', StringComparison.Ordinal))
            .Select(key => int.TryParse(key.Split('/')[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ? port : 0)
            .Where(port => port > 0)
            .ToList();
        if (exposed.Count == 0)
        {
            return null;
        }

        // The variables as the app sees them: the image's (a later entry wins, as in a shell) under the start's.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (config?.Env ?? []).Select(variable => variable.Split('=', 2)).Where(pair => pair.Length == 2))
        {
            environment[pair[0]] = pair[1];
        }

        foreach (var (name, value) in startEnvironment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var listening = AspNetCorePorts.From(environment, startEnvironment);

        // The app's own port wins over the base image's, which exposes (through its ASPNETCORE_HTTP_PORTS=8080) a port that
        // an app listening elsewhere never opens: first a port the app's own ASPNETCORE_* setting names, then a port the
        // image exposes for no ASPNETCORE_* setting (the app's ContainerPort items), then the base image's default.
        var chosen = (listening.SetByApp ? listening.Ports.Where(exposed.Contains) : [])
            .Concat(exposed.Where(port => !listening.Ports.Contains(port)))
            .Concat(listening.Ports.Where(exposed.Contains))
            .Concat(exposed)
            .First();
        return new TcpWait(chosen);
    }

    private sealed class ExitWait(int? expected) : IContainerWaitStrategy
    {
        public ContainerWaitKind Kind => ContainerWaitKind.Exit;

        public string Description => expected is null ? "the container to exit" : $"the container to exit with code {expected}";

        public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            var code = await container.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (expected is { } wanted && code != wanted)
            {
                throw new ContainerStartException($"The container exited with code {ExitCodes.Describe(code)}, expected {wanted}.", container.Logs);
            }
        }
    }
}

/// <summary>A wait for something on one container port (a connect, a request), so that an app that says it listens elsewhere fails it at once.</summary>
internal interface IWatchesPort
{
    /// <summary>The container port waited on, known once the wait started; null: none.</summary>
    int? WatchedPort(RunningContainer container);
}

/// <summary>A wait that tries something again and again and can say how the last try went (for a timeout's message).</summary>
internal interface IReportsLastAttempt
{
    /// <summary>How the last attempt failed, or null before the first.</summary>
    string? LastAttempt { get; }
}
