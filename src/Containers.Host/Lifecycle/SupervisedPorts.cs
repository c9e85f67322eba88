using System.Net;
using System.Net.Sockets;
using Containers.Host.Networking;

namespace Containers.Host.Lifecycle;

/// <summary>
/// The ports of a reused graph's member, which outlive every test process: forwarded by the graph's supervisor into the
/// container's network namespace, or published by the runtime itself (the CLI, a rootless container on the host's
/// network). A TCP wait still connects inside the container's namespace where the supervisor forwards (a connect to a
/// forwarder always succeeds).
/// </summary>
internal sealed class SupervisedPorts(IReadOnlyList<ReusedPort> ports, int pid, bool forwarded) : IPublishedPorts
{
    private readonly SemaphoreSlim _entering = new(1, 1);
    private NetworkNamespace? _namespace;

    public IReadOnlyList<int> ContainerPorts { get; } = ports.Select(p => p.ContainerPort).ToList();

    public int? GetHostPort(int containerPort) => ports.FirstOrDefault(p => p.ContainerPort == containerPort)?.HostPort;

    public async Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            if (forwarded)
            {
                var inside = await EnterAsync(cancellationToken).ConfigureAwait(false);
                using var socket = await inside.ConnectAsync(port, TimeSpan.FromSeconds(2)).WaitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }

            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, GetHostPort(port) ?? port, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException or IOException or ObjectDisposedException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_namespace is not null)
        {
            await _namespace.DisposeAsync().ConfigureAwait(false);
        }

        _entering.Dispose();
    }

    private async Task<NetworkNamespace> EnterAsync(CancellationToken cancellationToken)
    {
        await _entering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _namespace ??= await NetworkNamespace.EnterAsync(pid, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _entering.Release();
        }
    }
}
