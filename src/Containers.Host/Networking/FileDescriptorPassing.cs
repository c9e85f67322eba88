using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Containers.Host.Networking;

/// <summary>
/// Unix-socket plumbing that .NET has no API for: a file descriptor passed along with a 4-byte status (<c>SCM_RIGHTS</c>),
/// and the peer's user id (<c>SO_PEERCRED</c>). The rootless forwarder hands the parent sockets it connected inside a
/// container's network namespace this way.
/// </summary>
internal static class FileDescriptorPassing
{
    // CMSG_SPACE(sizeof(int)) on 64-bit Linux: a 16-byte header and the int, padded to 8.
    private const int ControlSpace = 24;
    private const int ControlHeaderLength = 16;

    /// <summary>Sends <paramref name="status"/> and, when <paramref name="fileDescriptor"/> is not negative, a duplicate of it.</summary>
    public static unsafe void Send(Socket socket, int status, int fileDescriptor)
    {
        var control = stackalloc byte[ControlSpace];
        var vector = new NativeMethods.IoVector { Base = &status, Length = sizeof(int) };
        var message = new NativeMethods.MessageHeader { Vectors = &vector, VectorCount = 1 };
        if (fileDescriptor >= 0)
        {
            new Span<byte>(control, ControlSpace).Clear();
            *(nuint*)control = ControlHeaderLength + sizeof(int);
            *(int*)(control + 8) = NativeMethods.SolSocket;
            *(int*)(control + 12) = NativeMethods.ScmRights;
            *(int*)(control + ControlHeaderLength) = fileDescriptor;
            message.Control = control;
            message.ControlLength = ControlSpace;
        }

        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (NativeMethods.SendMessage((int)handle.DangerousGetHandle(), &message, NativeMethods.MsgNoSignal) != sizeof(int))
            {
                throw Failure("sendmsg");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Waits for a status and the descriptor that may come with it (close-on-exec; -1 when none came).</summary>
    public static async Task<(int Status, int FileDescriptor)> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        // The socket is non-blocking: wait until the message is there, then take it (with its descriptor) in one recvmsg.
        var peek = new byte[1];
        if (await socket.ReceiveAsync(peek, SocketFlags.Peek, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new IOException("The forwarder closed its control connection.", new SocketException((int)SocketError.ConnectionReset));
        }

        return Receive(socket);
    }

    private static unsafe (int Status, int FileDescriptor) Receive(Socket socket)
    {
        int status = 0;
        var control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        var vector = new NativeMethods.IoVector { Base = &status, Length = sizeof(int) };
        var message = new NativeMethods.MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = ControlSpace };
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var received = NativeMethods.ReceiveMessage((int)handle.DangerousGetHandle(), &message, NativeMethods.MsgCmsgCloseOnExec);
            if (received != sizeof(int))
            {
                throw received < 0 ? Failure("recvmsg") : new IOException("The forwarder closed its control connection.", new SocketException((int)SocketError.ConnectionReset));
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        var passed = message.ControlLength >= ControlHeaderLength + sizeof(int)
            && *(int*)(control + 8) == NativeMethods.SolSocket
            && *(int*)(control + 12) == NativeMethods.ScmRights
                ? *(int*)(control + ControlHeaderLength)
                : -1;
        return (status, passed);
    }

    /// <summary>The user id of the process at the other end of a connected Unix socket, as this process's user namespace sees it.</summary>
    public static unsafe uint PeerUserId(Socket socket)
    {
        // struct ucred: pid, uid, gid.
        var credentials = stackalloc int[3];
        var length = (uint)(3 * sizeof(int));
        if (NativeMethods.GetSocketOption((int)socket.Handle, NativeMethods.SolSocket, NativeMethods.SoPeerCred, credentials, &length) != 0)
        {
            throw Failure("getsockopt(SO_PEERCRED)");
        }

        return (uint)credentials[1];
    }

    // The control connection broke (the other end went away); the errno's text goes into the message.
    private static IOException Failure(string call) =>
        new($"{call} failed on the forwarder's control socket: {Marshal.GetLastPInvokeErrorMessage()}", new SocketException((int)SocketError.ConnectionReset));
}
