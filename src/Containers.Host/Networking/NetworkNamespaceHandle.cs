namespace Containers.Host.Networking;

/// <summary>
/// A network namespace the host made for a container or a network before anything runs in it: as root one named under
/// <c>/run/netns</c> (<see cref="NamedNetworkNamespace"/>), rootless one held by a process in the user namespace that
/// rootless containers share (<see cref="HeldNetworkNamespace"/>). Disposing it deletes the namespace and every
/// interface in it.
/// </summary>
internal abstract class NetworkNamespaceHandle : IAsyncDisposable
{
    /// <summary>The namespace file: what runc and nsenter join and what <c>ip … netns</c> names.</summary>
    public abstract string Path { get; }

    /// <summary>Runs <paramref name="commands"/> (ip command lines without <c>ip</c>) inside the namespace in one process; throws naming the one that failed.</summary>
    public abstract Task RunIpAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken);

    /// <summary>Deletes the namespace.</summary>
    public abstract ValueTask DisposeAsync();
}

/// <summary>A network namespace of iproute2's, <c>/run/netns/&lt;name&gt;</c> (root only).</summary>
internal sealed class NamedNetworkNamespace : NetworkNamespaceHandle
{
    private int _disposed;

    private NamedNetworkNamespace(string name) => Name = name;

    /// <summary>Its name under <see cref="IpRoute.NamespaceDirectory"/>.</summary>
    public string Name { get; }

    public override string Path => IpRoute.NamespacePath(Name);

    /// <summary>Makes the namespace <paramref name="name"/> and runs <paramref name="setup"/> in it; deletes it again when that fails.</summary>
    public static async Task<NamedNetworkNamespace> CreateAsync(string name, IReadOnlyList<string> setup, CancellationToken cancellationToken)
    {
        await IpRoute.RunAsync(null, [$"netns add {name}"], cancellationToken).ConfigureAwait(false);
        var created = new NamedNetworkNamespace(name);
        try
        {
            if (setup.Count > 0)
            {
                await created.RunIpAsync(setup, cancellationToken).ConfigureAwait(false);
            }

            return created;
        }
        catch
        {
            await created.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override Task RunIpAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken) =>
        IpRoute.RunAsync(Name, commands, cancellationToken);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await IpRoute.DeleteNamespaceAsync(Name, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
