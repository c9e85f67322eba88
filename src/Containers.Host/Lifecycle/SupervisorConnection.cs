using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Containers.Host.Networking;
using Containers.Oci;

namespace Containers.Host.Lifecycle;

/// <summary>
/// A test process's connection to a reused graph's supervisor (<see cref="ReuseSupervisor"/>), one line per request and
/// reply. While it is open it is a lease on the graph: the supervisor stops the graph only after every lease is gone
/// for its idle time. The kernel closes it with the process, so a killed test run lets go by itself.
/// </summary>
internal sealed class SupervisorConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<byte> _received = [];
    private int _disposed;

    private SupervisorConnection(Socket socket) => _socket = socket;

    /// <summary>Connects to the supervisor listening on <paramref name="socketName"/>; null when none does.</summary>
    /// <remarks>
    /// Requests and replies are a few bytes each, sent and received with blocking calls: an attach runs in a test process
    /// that has used no socket yet, and the asynchronous socket machinery would cost more to start than the attach itself.
    /// </remarks>
    public static Task<SupervisorConnection?> ConnectAsync(string socketName, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketName));
            return Task.FromResult<SupervisorConnection?>(new SupervisorConnection(socket));
        }
        catch (SocketException)
        {
            socket.Dispose();
            return Task.FromResult<SupervisorConnection?>(null);
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns the reply line.</summary>
    /// <exception cref="IOException">The supervisor closed the connection or did not answer in time.</exception>
    public async Task<string> RequestAsync(string request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A long request (a stop waits for the members' grace periods) blocks a pool thread of its own, not the caller.
            return timeout > TimeSpan.FromSeconds(10)
                ? await Task.Run(() => Exchange(request, timeout), cancellationToken).ConfigureAwait(false)
                : Exchange(request, timeout);
        }
        finally
        {
            _gate.Release();
        }
    }

    private string Exchange(string request, TimeSpan timeout)
    {
        try
        {
            _socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds);
            _socket.Send(Encoding.UTF8.GetBytes(request + "\n"));
            var buffer = new byte[1024];
            while (true)
            {
                var newline = _received.IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var line = Encoding.UTF8.GetString([.. _received.Take(newline)]);
                    _received.RemoveRange(0, newline + 1);
                    return line;
                }

                var read = _socket.Receive(buffer);
                if (read == 0)
                {
                    throw new IOException("The reuse supervisor closed the connection.");
                }

                _received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            throw new IOException($"The reuse supervisor did not answer '{request.Split(' ')[0]}' within {timeout.TotalSeconds:0} s.", ex);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw new IOException("The reuse supervisor closed the connection: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// Hands <paramref name="ports"/> of a starting member to the supervisor when this process forwards them (they would
    /// close with it): the supervisor forwards the same container ports on ports of its own, this process's forwarders
    /// close. Ports the runtime publishes itself outlive this process and are kept as they are.
    /// </summary>
    public async Task<IPublishedPorts> TakeOverPortsAsync(RunningContainer container, IPublishedPorts ports, Action<string> log, CancellationToken cancellationToken)
    {
        if (ports is not ForwardedPorts || ports.ContainerPorts.Count == 0)
        {
            return ports;
        }

        var reply = await RequestAsync(
            $"publish {container.Id} {container.Pid.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', ports.ContainerPorts.Select(p => p.ToString(CultureInfo.InvariantCulture)))}",
            TimeSpan.FromSeconds(30),
            cancellationToken).ConfigureAwait(false);
        if (!reply.StartsWith("published ", StringComparison.Ordinal))
        {
            throw new OciException($"The reuse supervisor could not publish the ports of container {container.Id}: {reply}");
        }

        var published = reply["published ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('='))
            .Select(pair => new ReusedPort(int.Parse(pair[0], CultureInfo.InvariantCulture), int.Parse(pair[1], CultureInfo.InvariantCulture)))
            .ToList();
        await ports.DisposeAsync().ConfigureAwait(false);
        log($"Container {container.Id} ports are published by the reuse supervisor, so they stay across test runs: {string.Join(", ", published.Select(p => $"{p.ContainerPort}/tcp on 127.0.0.1:{p.HostPort}"))}.");
        return new SupervisedPorts(published, container.Pid, forwarded: true);
    }

    /// <summary>Closes the connection: the lease ends (or, before the graph was ready, the start is abandoned).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
            _gate.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
