using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Containers.Host.Networking;

/// <summary>Publishes a container port on a free 127.0.0.1 port: each accepted connection is joined to a connection made inside the container's network namespace.</summary>
internal sealed class PortForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IInsideConnector _netns;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentDictionary<Task, bool> _connections = new();

    public PortForwarder(IInsideConnector netns, int containerPort)
    {
        _netns = netns;
        ContainerPort = containerPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        HostPort = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int HostPort { get; }

    public int ContainerPort { get; }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(_connections.Keys).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            var connection = ForwardAsync(client);
            _connections[connection] = true;
            _ = connection.ContinueWith(done => _connections.TryRemove(done, out _), TaskScheduler.Default);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using (client)
        {
            Socket inside;
            try
            {
                inside = await _netns.ConnectAsync(ContainerPort, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
            {
                // Nothing listens inside yet: the client sees the connection closed, as with docker's proxy.
                return;
            }

            using (inside)
            {
                client.NoDelay = true;
                await Task.WhenAll(PumpAsync(client, inside), PumpAsync(inside, client)).ConfigureAwait(false);
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away; closing both ends (by the caller's using) tells the other.
        }
    }
}
