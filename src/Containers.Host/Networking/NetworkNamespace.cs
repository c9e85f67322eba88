using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Host.Networking;

/// <summary>
/// Opens TCP connections inside a container's network namespace. A dedicated thread enters the namespace
/// once (setns(2) affects only the calling thread) and creates sockets there on request; a socket keeps
/// its namespace for life, so the caller then uses it from any thread. Thread-pool threads never switch
/// namespaces.
/// </summary>
internal sealed class NetworkNamespace : IInsideConnector
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
            await netns.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
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

    public ValueTask DisposeAsync()
    {
        _requests.CompleteAdding();
        return ValueTask.CompletedTask;
    }

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

/// <summary>Opens TCP connections to 127.0.0.1 inside a container's network namespace.</summary>
internal interface IInsideConnector : IAsyncDisposable
{
    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> inside the namespace.</summary>
    /// <exception cref="SocketException">Nothing accepted the connection (refused, timed out).</exception>
    /// <exception cref="IOException">The way into the namespace is broken (rootless: the forwarder is gone).</exception>
    Task<Socket> ConnectAsync(int port, TimeSpan timeout);
}

/// <summary>Rootless: connections made by the keeper's forwarder in a held network namespace (which the container's resources own).</summary>
internal sealed class HeldNamespaceConnector(HeldNetworkNamespace network) : IInsideConnector
{
    public Task<Socket> ConnectAsync(int port, TimeSpan timeout) => network.ConnectAsync(port, timeout, CancellationToken.None);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
