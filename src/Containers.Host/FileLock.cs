using System.Runtime.InteropServices;

namespace Containers.Host;

/// <summary>
/// An advisory flock(2) lock on a file, held until disposed (or until the process dies: the kernel drops it with
/// the descriptor, so a killed test run never leaves the cache locked).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class FileLock : IDisposable
{
    private int _descriptor;

    private FileLock(int descriptor) => _descriptor = descriptor;

    /// <summary>Waits for a shared lock on <paramref name="path"/> (created when missing).</summary>
    public static FileLock Shared(string path) => Acquire(path, NativeMethods.LockShared)
        ?? throw new InvalidOperationException("A blocking flock returned without the lock.");

    /// <summary>An exclusive lock on <paramref name="path"/> if nobody holds any lock on it right now; otherwise null.</summary>
    public static FileLock? TryExclusive(string path) => Acquire(path, NativeMethods.LockExclusive | NativeMethods.LockNonBlocking);

    private static FileLock? Acquire(string path, int operation)
    {
        var descriptor = NativeMethods.Open(path, NativeMethods.OpenReadWriteCreateCloseOnExec, Convert.ToInt32("666", 8));
        if (descriptor < 0)
        {
            throw new IOException($"Could not open the lock file '{path}': {Marshal.GetLastPInvokeErrorMessage()}.");
        }

        while (NativeMethods.FLock(descriptor, operation) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            if (error == NativeMethods.ErrorInterrupted)
            {
                continue;
            }

            NativeMethods.Close(descriptor);
            return error == NativeMethods.ErrorWouldBlock
                ? null
                : throw new IOException($"Could not lock '{path}': {Marshal.GetPInvokeErrorMessage(error)}.");
        }

        return new FileLock(descriptor);
    }

    public void Dispose()
    {
        var descriptor = Interlocked.Exchange(ref _descriptor, -1);
        if (descriptor >= 0)
        {
            NativeMethods.Close(descriptor);
        }
    }
}
