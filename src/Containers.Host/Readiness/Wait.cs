using System.Net;
using System.Net.Sockets;
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

    private sealed class TcpWait(int port) : IContainerWaitStrategy
    {
        public int Port => port;

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
    private sealed class HttpWait(string path, int? port, int? expectedStatus) : IContainerWaitStrategy
    {
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

    private sealed class CommandWait(string[] command, TimeSpan interval, TimeSpan timeout, int? retries, TimeSpan startPeriod) : IContainerWaitStrategy
    {
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

    private sealed class HealthCheckWait : IContainerWaitStrategy
    {
        public const string Label = "dev.containers-sdk.health-check";

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

    private sealed class ExitWait(int? expected) : IContainerWaitStrategy
    {
        public ContainerWaitKind Kind => ContainerWaitKind.Exit;

        public string Description => expected is null ? "the container to exit" : $"the container to exit with code {expected}";

        public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
        {
            var code = await container.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (expected is { } wanted && code != wanted)
            {
                throw new ContainerStartException($"The container exited with code {code}, expected {wanted}.", container.Logs);
            }
        }
    }
}
