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

    /// <summary>
    /// An exclusive lock on <paramref name="path"/> (its directory and the file made when missing), waiting while others
    /// hold it. A lock file may be deleted by its holder (<see cref="DeleteFile"/>): a lock then got on the deleted file
    /// is let go and the new file locked instead, so two processes never both believe they hold it.
    /// </summary>
    public static async Task<FileLock> ExclusiveAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var held = TryExclusiveCurrent(path);
            if (held is not null)
            {
                return held;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Like <see cref="TryExclusive"/>, but never a lock on a file that was deleted meanwhile (see <see cref="ExclusiveAsync"/>).</summary>
    public static FileLock? TryExclusiveCurrent(string path)
    {
        FileLock? held;
        try
        {
            held = TryExclusive(path);
        }
        catch (IOException) when (!Directory.Exists(Path.GetDirectoryName(path)))
        {
            // Its directory was removed between making and opening: the caller tries again.
            return null;
        }

        if (held is not null && held.IsDeleted())
        {
            held.Dispose();
            return null;
        }

        return held;
    }

    /// <summary>Deletes the lock file while holding it; whoever waits for it then locks a new one.</summary>
    public void DeleteFile()
    {
        if (File.ResolveLinkTarget($"/proc/self/fd/{_descriptor}", returnFinalTarget: false) is { } file && !IsDeleted())
        {
            File.Delete(file.FullName);
        }
    }

    // The kernel names an open file that was unlinked "<path> (deleted)".
    private bool IsDeleted() =>
        File.ResolveLinkTarget($"/proc/self/fd/{_descriptor}", returnFinalTarget: false)?.FullName.EndsWith(" (deleted)", StringComparison.Ordinal) ?? true;

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
