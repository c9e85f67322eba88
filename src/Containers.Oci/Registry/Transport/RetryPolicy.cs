namespace Containers.Oci.Registry.Transport;

/// <summary>
/// Retries an operation after transient failures, with exponential backoff and jitter (or the registry's
/// Retry-After when longer), and words the failure that remains once the attempts are spent.
/// </summary>
internal sealed class RetryPolicy(RegistryClientOptions options)
{
    /// <summary>Runs <paramref name="operation"/>, retrying it after transient failures.</summary>
    public async Task<T> RunAsync<T>(string registry, string? repository, Func<int, Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await operation(attempt).ConfigureAwait(false);
            }
            catch (TransientRegistryFailureException ex) when (attempt < (ex.IsConnectFailure ? Math.Min(1, options.MaxRetries) : options.MaxRetries))
            {
                await Task.Delay(Delay(attempt, ex.RetryAfter), cancellationToken).ConfigureAwait(false);
            }
            catch (TransientRegistryFailureException ex)
            {
                throw FinalException(ex, registry, repository, attempt + 1);
            }
        }
    }

    private TimeSpan Delay(int attempt, TimeSpan? retryAfter)
    {
        var baseDelay = options.RetryBaseDelay;
        var exponential = TimeSpan.FromTicks(baseDelay.Ticks * (1L << Math.Min(attempt, 20)));
        var jitter = TimeSpan.FromTicks((long)(baseDelay.Ticks * Random.Shared.NextDouble()));
        var delay = exponential + jitter;
        if (retryAfter is { } serverDelay && serverDelay > delay)
        {
            delay = serverDelay;
        }

        return delay > options.MaxRetryDelay ? options.MaxRetryDelay : delay;
    }

    internal static RegistryException FinalException(TransientRegistryFailureException ex, string registry, string? repository, int attempts)
    {
        var tries = attempts == 1 ? "1 attempt" : $"{attempts} attempts";
        if (ex.StatusCode is null)
        {
            return new RegistryUnreachableException(
                $"Registry {registry} is unreachable: {ex.Message} (after {tries}). Check that the registry is running and that the host and port are right.",
                registry,
                ex.InnerException ?? ex);
        }

        return new RegistryException(
            $"Registry {registry} kept failing{(repository is null ? string.Empty : " for " + repository)}: {ex.Message} (after {tries}). Retry later; if it persists, the registry's operator needs to look at it.",
            registry,
            repository,
            ex.StatusCode,
            ex.Errors,
            ex);
    }
}

/// <summary>The pipeline's outermost handler: sends a request again after a transient failure, when the request asks for it.</summary>
internal sealed class RetryHandler(RetryPolicy policy) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!RegistryRequest.Is(request, RegistryRequest.RetryTransient))
        {
            // The caller retries the whole operation (an upload's several requests) itself.
            return base.SendAsync(request, cancellationToken);
        }

        return policy.RunAsync(
            RegistryRequest.RegistryOf(request),
            RegistryRequest.ScopeOf(request)?.Repository,
            attempt => base.SendAsync(attempt == 0 ? request : RegistryRequest.Recreate(request), cancellationToken),
            cancellationToken);
    }
}
