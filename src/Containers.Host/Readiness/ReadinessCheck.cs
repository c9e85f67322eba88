using System.Diagnostics;
using Containers.Host.Lifecycle;

namespace Containers.Host.Readiness;

/// <summary>Runs a container's wait strategies in order within the startup timeout, turning an early exit or a timeout into a <see cref="ContainerStartException"/> with the container's output.</summary>
internal static class ReadinessCheck
{
    public static async Task WaitUntilReadyAsync(RunningContainer container, IEnumerable<IContainerWaitStrategy> strategies, TimeSpan startupTimeout, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(startupTimeout);
        var started = Stopwatch.StartNew();
        foreach (var strategy in strategies)
        {
            Task wait;
            try
            {
                wait = strategy.WaitAsync(container, timeout.Token);
            }
            catch (Exception ex)
            {
                // A strategy that fails before it starts waiting (no health check declared, bad port) fails like one that fails later.
                wait = Task.FromException(ex);
            }

            var exitsEarly = strategy.Kind == ContainerWaitKind.Exit ? Task.Delay(Timeout.Infinite, timeout.Token) : container.Exited;
            var first = await Task.WhenAny(wait, exitsEarly).ConfigureAwait(false);
            // A wait that failed because the container is gone (no port to reach any more) is explained by the exit.
            if (exitsEarly.IsCompletedSuccessfully && (first == exitsEarly || wait.IsFaulted))
            {
                throw new ContainerStartException($"The container exited with code {container.Exited.Result} after {started.ElapsedMilliseconds} ms, while waiting for {strategy.Description}.", container.Logs);
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
    }
}
