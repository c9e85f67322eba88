using System.Runtime.InteropServices;

namespace Containers.Host;

internal static partial class NativeMethods
{
    /// <summary>setns(2) namespace type of a network namespace.</summary>
    internal const int CloneNewNet = 0x40000000;

    /// <summary>getrlimit(2) resource number of the open files limit on Linux.</summary>
    internal const int RlimitNofile = 7;

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Link(string existingPath, string newPath);

    /// <summary>umount2(2) flag: detach now, clean up when no longer busy.</summary>
    internal const int MntDetach = 2;

    [LibraryImport("libc", EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Unmount(string target, int flags);

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int LChown(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int StatX(int directoryFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The owner of <paramref name="path"/> (not following a final symbolic link), or null. statx(2): its struct has one layout on every architecture.</summary>
    internal static unsafe (uint Uid, uint Gid)? LStat(string path)
    {
        const int atFdCwd = -100, atSymlinkNoFollow = 0x100;
        const uint statxUid = 0x8, statxGid = 0x10;
        var buffer = stackalloc byte[256];
        if (StatX(atFdCwd, path, atSymlinkNoFollow, statxUid | statxGid, buffer) != 0)
        {
            return null;
        }

        // struct statx: u32 stx_mask, u32 stx_blksize, u64 stx_attributes, u32 stx_nlink, u32 stx_uid, u32 stx_gid.
        return (*(uint*)(buffer + 20), *(uint*)(buffer + 24));
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int nsType);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    internal static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "getegid")]
    internal static partial uint GetEffectiveGroupId();

    /// <summary>open(2) flags: read-write, create, close on exec (Linux values, the same on x86-64 and arm64).</summary>
    internal const int OpenReadWriteCreateCloseOnExec = 0x2 | 0x40 | 0x80000;

    /// <summary>flock(2) operations.</summary>
    internal const int LockShared = 1, LockExclusive = 2, LockNonBlocking = 4;

    /// <summary>errno values.</summary>
    internal const int ErrorInterrupted = 4, ErrorWouldBlock = 11;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    internal static partial int FLock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "getuid")]
    internal static partial uint GetUserId();

    /// <summary>access(2) modes: readable and writable.</summary>
    internal const int AccessReadWrite = 4 | 2;

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Access(string path, int mode);

    /// <summary>Socket-level constants (Linux, the same on x86-64 and arm64): SOL_SOCKET, SCM_RIGHTS, SO_PEERCRED; recvmsg's MSG_CMSG_CLOEXEC; MSG_NOSIGNAL.</summary>
    internal const int SolSocket = 1, ScmRights = 1, SoPeerCred = 17, MsgCmsgCloseOnExec = 0x40000000, MsgNoSignal = 0x4000;

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint SendMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint ReceiveMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSocketOption(int socket, int level, int name, void* value, uint* length);

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (64-bit Linux layout).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}
