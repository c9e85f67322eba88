using System.Diagnostics;
using System.Globalization;
using Containers.Host.Lifecycle;

namespace Containers.Host.Readiness;

/// <summary>
/// Runs a container's wait strategies in order within the startup timeout, turning an early exit, an app that says it
/// listens on another port than the one waited on, or a timeout into a <see cref="ContainerStartException"/> with the
/// container's output; says every few seconds what it still waits for.
/// </summary>
internal static class ReadinessCheck
{
    /// <summary>How often a wait says it still waits (through <see cref="ContainerStartOptions.Log"/>).</summary>
    internal static TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a port wait may go on after the app said it listens on other ports only: Kestrel says so once every
    /// address is bound, so a wait for one of them passes at its next try.
    /// </summary>
    internal static TimeSpan ListeningGrace { get; set; } = TimeSpan.FromSeconds(2);

    public static async Task WaitUntilReadyAsync(RunningContainer container, ContainerStartOptions options, CancellationToken cancellationToken)
    {
        var startupTimeout = options.StartupTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(startupTimeout);
        var started = Stopwatch.StartNew();
        try
        {
            foreach (var strategy in options.WaitStrategies)
            {
                await WaitForAsync(container, options, strategy, started, timeout.Token, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // A wait left behind (the container exited, the app listens elsewhere) stops trying.
            await timeout.CancelAsync().ConfigureAwait(false);
        }
    }

    private static async Task WaitForAsync(RunningContainer container, ContainerStartOptions options, IContainerWaitStrategy strategy, Stopwatch started, CancellationToken timeout, CancellationToken cancellationToken)
    {
        var startupTimeout = options.StartupTimeout;
        Task wait;
        try
        {
            wait = strategy.WaitAsync(container, timeout);
        }
        catch (Exception ex)
        {
            // A strategy that fails before it starts waiting (no health check declared, bad port) fails like one that fails later.
            wait = Task.FromException(ex);
        }

        using var watching = CancellationTokenSource.CreateLinkedTokenSource(timeout);
        var progress = options.Log is { } log ? ReportProgressAsync(log, strategy, options.Image.ToString(), started, startupTimeout, watching.Token) : Task.CompletedTask;
        using var listening = strategy is IWatchesPort port && port.WatchedPort(container) is { } watched
            ? new ListeningPortWatch(container, watched, strategy.Description)
            : null;
        try
        {
            var exitsEarly = strategy.Kind == ContainerWaitKind.Exit ? Task.Delay(Timeout.Infinite, timeout) : container.Exited;
            var elsewhere = listening?.Mismatch ?? Task.Delay(Timeout.Infinite, timeout);
            var first = await Task.WhenAny(wait, exitsEarly, elsewhere).ConfigureAwait(false);

            // A wait that failed because the container is gone (no port to reach any more) is explained by the exit.
            if (exitsEarly.IsCompletedSuccessfully && (first == exitsEarly || wait.IsFaulted))
            {
                throw new ContainerStartException($"The container exited with code {ExitCodes.Describe(container.Exited.Result)} after {started.ElapsedMilliseconds} ms, while waiting for {strategy.Description}.", container.Logs);
            }

            if (first == elsewhere && elsewhere.IsCompletedSuccessfully && !wait.IsCompleted)
            {
                throw new ContainerStartException(listening!.Mismatch.Result, container.Logs);
            }

            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var last = strategy is IReportsLastAttempt { LastAttempt: { } attempt } ? $" The last attempt: {attempt}." : "";
                throw new ContainerStartException($"The container was not ready after {startupTimeout.TotalSeconds:0.#} s: still waiting for {strategy.Description}.{last}", container.Logs);
            }
            catch (Exception ex) when (ex is not ContainerStartException and not OperationCanceledException)
            {
                throw new ContainerStartException($"Waiting for {strategy.Description} failed: {ex.Message}", container.Logs, ex);
            }
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
            await progress.ConfigureAwait(false);
        }
    }

    private static async Task ReportProgressAsync(Action<string> log, IContainerWaitStrategy strategy, string subject, Stopwatch started, TimeSpan startupTimeout, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ProgressInterval, cancellationToken).ConfigureAwait(false);
                log(string.Create(CultureInfo.InvariantCulture, $"Waiting for {strategy.Description} of {subject} ({started.Elapsed.TotalSeconds:0} s of {startupTimeout.TotalSeconds:0.#} s)."));
            }
        }
        catch (OperationCanceledException)
        {
            // The wait ended.
        }
    }

    /// <summary>
    /// Follows the container's output for Kestrel's "Now listening on:" lines; <see cref="Mismatch"/> completes with the
    /// message when the app listens on other ports only and the wait has not passed <see cref="ListeningGrace"/> later.
    /// </summary>
    private sealed class ListeningPortWatch : IDisposable
    {
        private readonly TaskCompletionSource<string> _mismatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _grace = new();
        private readonly IDisposable _subscription;
        private readonly int _watched;
        private readonly HashSet<int> _exposed;
        private readonly string _description;
        private readonly object _gate = new();
        private readonly List<(int Port, string Line)> _elsewhere = [];
        private bool _listensOnWatched;

        public ListeningPortWatch(RunningContainer container, int watched, string description)
        {
            _exposed = (container.ImageConfig.Config?.ExposedPorts?.Keys ?? [])
                .Select(key => int.TryParse(key.Split('/')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 0)
                .ToHashSet();
            _watched = watched;
            _description = description;
            _subscription = container.Logs.Subscribe(OnLine);
        }

        public Task<string> Mismatch => _mismatch.Task;

        public void Dispose()
        {
            _subscription.Dispose();
            _grace.Cancel();
            _grace.Dispose();
        }

        private void OnLine(string line)
        {
            if (AspNetCorePorts.FromLogLine(line) is not { } listening)
            {
                return;
            }

            lock (_gate)
            {
                if (listening.Port == _watched)
                {
                    _listensOnWatched = true;
                    return;
                }

                _elsewhere.Add((listening.Port, line.Trim()));
                if (_elsewhere.Count == 1 && !_listensOnWatched)
                {
                    _ = Task.Delay(ListeningGrace, _grace.Token).ContinueWith(_ => Report(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                }
            }
        }

        private void Report()
        {
            lock (_gate)
            {
                if (_listensOnWatched)
                {
                    return;
                }

                var ports = string.Join(" and ", _elsewhere.Select(e => e.Port).Distinct());
                var port = _elsewhere[0].Port.ToString(CultureInfo.InvariantCulture);
                var explicitly = $"Wait=\"tcp:{port}\" on the ContainerUnderTest item, or Wait.ForTcpPort({port}) in ContainerStartOptions.WaitStrategies";
                var fix = _exposed.Contains(_elsewhere[0].Port)
                    ? $"The image exposes {port} already: wait for it explicitly, {explicitly}."
                    : $"Declare the port the app listens on in its project, <ContainerPort Include=\"{port}\" />, so that the default wait (Wait.ForImageDefaults) takes it, or wait for it explicitly: {explicitly}.";
                _mismatch.TrySetResult(
                    $"The app listens on port {ports} (its output: '{_elsewhere[0].Line}'), not on port {_watched} that the wait is for ({_description}). {fix}");
            }
        }
    }
}
