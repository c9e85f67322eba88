using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Host;

/// <summary>
/// Opens TCP connections inside a container's network namespace. A dedicated thread enters the namespace
/// once (setns(2) affects only the calling thread) and creates sockets there on request; a socket keeps
/// its namespace for life, so the caller then uses it from any thread. Thread-pool threads never switch
/// namespaces.
/// </summary>
internal sealed class NetworkNamespace : IDisposable
{
    private readonly BlockingCollection<(int Port, TimeSpan Timeout, TaskCompletionSource<Socket> Result)> _requests = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NetworkNamespace(SafeFileHandle namespaceHandle, string description)
    {
        _thread = new Thread(() => Run(namespaceHandle, description)) { IsBackground = true, Name = "containers-sdk netns " + description };
        _thread.Start();
    }

    /// <summary>Enters the network namespace of process <paramref name="pid"/> on a new thread.</summary>
    public static async Task<NetworkNamespace> EnterAsync(int pid, CancellationToken cancellationToken)
    {
        var handle = File.OpenHandle($"/proc/{pid}/ns/net", FileMode.Open, FileAccess.Read);
        var netns = new NetworkNamespace(handle, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            await netns._entered.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return netns;
        }
        catch
        {
            netns.Dispose();
            throw;
        }
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> inside the namespace.</summary>
    public Task<Socket> ConnectAsync(int port, TimeSpan timeout)
    {
        var result = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _requests.Add((port, timeout, result));
        }
        catch (InvalidOperationException)
        {
            result.SetException(new ObjectDisposedException(nameof(NetworkNamespace)));
        }

        return result.Task;
    }

    public void Dispose() => _requests.CompleteAdding();

    private void Run(SafeFileHandle namespaceHandle, string description)
    {
        using (namespaceHandle)
        {
            if (NativeMethods.SetNs((int)namespaceHandle.DangerousGetHandle(), NativeMethods.CloneNewNet) != 0)
            {
                _entered.SetException(new IOException($"Cannot enter the network namespace of process {description}: {Marshal.GetLastPInvokeErrorMessage()} (setns needs CAP_SYS_ADMIN)."));
                return;
            }
        }

        _entered.SetResult();
        foreach (var (port, timeout, result) in _requests.GetConsumingEnumerable())
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                // Synchronous on purpose: the connect must happen on this thread, in this namespace. Loopback
                // connects finish or are refused at once; the timeout only guards a full listen backlog.
                var connect = socket.BeginConnect(new IPEndPoint(IPAddress.Loopback, port), null, null);
                if (!connect.AsyncWaitHandle.WaitOne(timeout))
                {
                    throw new SocketException((int)SocketError.TimedOut);
                }

                socket.EndConnect(connect);
                result.SetResult(socket);
            }
            catch (Exception ex)
            {
                socket.Dispose();
                result.SetException(ex);
            }
        }
    }
}

/// <summary>Publishes a container port on a free 127.0.0.1 port: each accepted connection is joined to a connection made inside the container's network namespace.</summary>
internal sealed class PortForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly NetworkNamespace _netns;
    private readonly int _containerPort;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentDictionary<Task, bool> _connections = new();

    public PortForwarder(NetworkNamespace netns, int containerPort)
    {
        _netns = netns;
        _containerPort = containerPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        HostPort = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int HostPort { get; }

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
                inside = await _netns.ConnectAsync(_containerPort, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
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
