using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Containers.Host.Networking;

/// <summary>
/// Connects inside rootless containers' network namespaces for the host process, which cannot: joining a network
/// namespace that a user namespace of ours owns needs privilege in that user namespace, and a multi-threaded process
/// such as .NET cannot enter a user namespace (<c>setns</c> gives EINVAL). So this runs in a process of its own that
/// was started inside the user namespace (<c>unshare --user … dotnet exec Containers.Host.dll --port-forwarder</c>)
/// and is that namespace's keeper: as its root it may enter every network namespace made in it.
/// </summary>
/// <remarks>
/// Protocol, as rootlesskit's port driver does it: the host process listens on 127.0.0.1 itself; for each connection
/// it connects to this process's abstract Unix socket and sends the pid of a process in the target network namespace,
/// the port and a timeout (three little-endian int32s). This process creates a TCP socket inside that namespace (on a
/// short-lived thread that joined it: a socket keeps its namespace for life), connects it to 127.0.0.1:port and
/// answers a status (a <see cref="SocketError"/>, 0 for success) with the connected socket attached (SCM_RIGHTS). The
/// host process then pumps bytes between the two sockets itself. Only processes of the same user are served
/// (SO_PEERCRED). The process exits when its standard input closes: the host process ended, or dropped it.
/// </remarks>
internal static class RootlessForwarder
{
    /// <summary>The first command-line argument that runs Containers.Host.dll as the forwarder.</summary>
    public const string Argument = "--port-forwarder";

    /// <summary>What the forwarder prints on stdout once it serves.</summary>
    public const string ReadyLine = "ready";

    private const int RequestLength = 12;

    /// <summary>Serves on the abstract socket <paramref name="socketName"/> until standard input closes; returns the exit code.</summary>
    public static int Serve(string socketName)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + socketName));
        listener.Listen(128);
        var ownUser = NativeMethods.GetUserId();
        Console.Out.WriteLine(ReadyLine);
        Console.Out.Flush();

        // The parent holds the other end of stdin: when it exits (or is killed) the read ends, and so does this process.
        var parentGone = Task.Run(() =>
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (input.Read(buffer) > 0)
            {
            }
        });
        var serving = AcceptAsync(listener, ownUser);
        Task.WaitAny(parentGone, serving);
        return 0;
    }

    /// <summary>Asks the forwarder on <paramref name="socketName"/> for a connection to 127.0.0.1:<paramref name="port"/> in the network namespace of process <paramref name="pid"/>.</summary>
    /// <exception cref="SocketException">Nothing accepted the connection inside (refused, timed out), or the namespace is gone.</exception>
    /// <exception cref="IOException">The forwarder is not there or broke the connection.</exception>
    public static async Task<Socket> ConnectAsync(string socketName, int pid, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var control = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await control.ConnectAsync(new UnixDomainSocketEndPoint("\0" + socketName), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new IOException($"The rootless port forwarder ({socketName}) does not answer: {ex.Message}", ex);
        }

        var request = new byte[RequestLength];
        BinaryPrimitives.WriteInt32LittleEndian(request, pid);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(4), port);
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(8), (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue));
        await control.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var (status, descriptor) = await FileDescriptorPassing.ReceiveAsync(control, cancellationToken).ConfigureAwait(false);
        if (status != 0 || descriptor < 0)
        {
            if (descriptor >= 0)
            {
                NativeMethods.Close(descriptor);
            }

            throw new SocketException(status != 0 ? status : (int)SocketError.SocketError);
        }

        return new Socket(new SafeSocketHandle(descriptor, ownsHandle: true)) { NoDelay = true };
    }

    private static async Task AcceptAsync(Socket listener, uint ownUser)
    {
        while (true)
        {
            var connection = await listener.AcceptAsync().ConfigureAwait(false);
            _ = Task.Run(() => AnswerAsync(connection, ownUser));
        }
    }

    private static async Task AnswerAsync(Socket connection, uint ownUser)
    {
        using (connection)
        {
            try
            {
                if (FileDescriptorPassing.PeerUserId(connection) != ownUser)
                {
                    return;
                }

                var request = new byte[RequestLength];
                for (var read = 0; read < request.Length;)
                {
                    var count = await connection.ReceiveAsync(request.AsMemory(read), SocketFlags.None).ConfigureAwait(false);
                    if (count == 0)
                    {
                        return;
                    }

                    read += count;
                }

                var pid = BinaryPrimitives.ReadInt32LittleEndian(request);
                var port = BinaryPrimitives.ReadInt32LittleEndian(request.AsSpan(4));
                var timeout = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadInt32LittleEndian(request.AsSpan(8)));
                using var inside = CreateSocketIn(pid);
                if (inside is null)
                {
                    FileDescriptorPassing.Send(connection, (int)SocketError.NetworkDown, -1);
                    return;
                }

                var status = await ConnectInsideAsync(inside, port, timeout).ConfigureAwait(false);
                FileDescriptorPassing.Send(connection, (int)status, status == SocketError.Success ? (int)inside.Handle : -1);
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
            {
                // The host process went away mid-request; nothing to answer.
            }
        }
    }

    private static async Task<SocketError> ConnectInsideAsync(Socket inside, int port, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await inside.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token).ConfigureAwait(false);
            return SocketError.Success;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode;
        }
        catch (OperationCanceledException)
        {
            return SocketError.TimedOut;
        }
    }

    // A socket belongs to the network namespace of the thread that created it: a thread of its own joins the target's
    // namespace, makes the socket and ends (a thread cannot go back to the host's namespace, which it has no privilege in).
    private static Socket? CreateSocketIn(int pid)
    {
        Socket? socket = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/proc/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/ns/net", FileMode.Open, FileAccess.Read);
                if (NativeMethods.SetNs((int)handle.DangerousGetHandle(), NativeMethods.CloneNewNet) == 0)
                {
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process is gone, and its namespace with it.
            }
        })
        { IsBackground = true, Name = "containers-sdk netns " + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        thread.Start();
        thread.Join();
        return socket;
    }
}
