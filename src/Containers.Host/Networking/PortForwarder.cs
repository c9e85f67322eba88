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

    /// <param name="netns">Makes the connections inside the container's network.</param>
    /// <param name="containerPort">The container port.</param>
    /// <param name="hostPort">The 127.0.0.1 port to listen on; 0 takes a free one.</param>
    /// <exception cref="Oci.OciException">The host port is in use or not allowed.</exception>
    public PortForwarder(IInsideConnector netns, int containerPort, int hostPort = 0)
    {
        _netns = netns;
        ContainerPort = containerPort;
        _listener = new TcpListener(IPAddress.Loopback, hostPort);
        try
        {
            _listener.Start();
        }
        catch (SocketException ex)
        {
            throw new Oci.OciException($"Cannot publish container port {containerPort} on 127.0.0.1:{hostPort}: {ex.Message}. Choose a free host port, or leave it out to take any free one.", ex);
        }

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
            using (var connection = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                client.NoDelay = true;
                await Task.WhenAll(PumpAsync(client, inside, connection), PumpAsync(inside, client, connection)).ConfigureAwait(false);
            }
        }
    }

    // Copies one direction. A clean end (EOF) is passed on as a half-close, so the other direction keeps going (an HTTP/1.0
    // server closes after its answer while the client may still be sending). An error (a reset: a server that closes
    // without reading the request resets the connection) ends the other direction too: the client must see its
    // connection end, not wait for bytes that will never come.
    private static async Task PumpAsync(Socket from, Socket to, CancellationTokenSource connection)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, connection.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, connection.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closing both sockets (by the caller's using) once both directions ended tells each side.
            try
            {
                await connection.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
