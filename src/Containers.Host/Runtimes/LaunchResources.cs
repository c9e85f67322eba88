namespace Containers.Host.Runtimes;

/// <summary>What a start made besides the runtime's own state (network namespaces, memberships, mounts, volumes): undone in reverse when the container goes, or when its start fails.</summary>
internal sealed class LaunchResources : IAsyncDisposable
{
    private readonly Stack<IAsyncDisposable> _resources = new();

    public T Add<T>(T resource)
        where T : IAsyncDisposable
    {
        lock (_resources)
        {
            _resources.Push(resource);
        }

        return resource;
    }

    public async ValueTask DisposeAsync()
    {
        while (true)
        {
            IAsyncDisposable next;
            lock (_resources)
            {
                if (!_resources.TryPop(out next!))
                {
                    return;
                }
            }

            await next.DisposeAsync().ConfigureAwait(false);
        }
    }
}
