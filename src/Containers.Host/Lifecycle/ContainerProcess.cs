using System.Diagnostics;
using System.Text;

namespace Containers.Host.Lifecycle;

/// <summary>
/// The process that runs a container on this machine (<c>runc run</c>, <c>unshare</c>, <c>podman run</c>) as the host
/// sees it: whether and how it ended, and where its output goes into <see cref="ContainerLogs"/>.
/// </summary>
internal abstract class ContainerProcess : IDisposable
{
    /// <summary>True once it has ended.</summary>
    public abstract bool HasExited { get; }

    /// <summary>Completes with its exit code when it ends.</summary>
    public abstract Task<int> Exited { get; }

    /// <summary>Kills it (the runtime process, not the container: deleting the container does that).</summary>
    public abstract void Kill();

    /// <summary>Waits (at most <paramref name="timeout"/>) until nothing of it writes into the container's directory any more, so the directory can go.</summary>
    public virtual Task EndedAsync(TimeSpan timeout) => Task.CompletedTask;

    public abstract void Dispose();
}

/// <summary>A child of this process with its stdout and stderr piped into the logs: every container that is not reused.</summary>
internal sealed class ChildContainerProcess : ContainerProcess
{
    private readonly Process _process;

    public ChildContainerProcess(Process process, ContainerLogs logs)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                logs.Add(isError: false, e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                logs.Add(isError: true, e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        Exited = WaitAsync();
    }

    public override bool HasExited => _process.HasExited;

    public override Task<int> Exited { get; }

    public override void Kill() => _process.Kill(entireProcessTree: true);

    // Disposing a Process that has not been seen to exit stops watching it, and Exited would then never complete: a
    // killed runtime process is reaped a moment after the kill (seconds on a loaded machine), so dispose waits for that.
    public override async Task EndedAsync(TimeSpan timeout) => await Task.WhenAny(Exited, Task.Delay(timeout)).ConfigureAwait(false);

    public override void Dispose() => _process.Dispose();

    private async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return _process.ExitCode;
    }
}

/// <summary>
/// A detached run (<see cref="DetachedRun"/>), seen from any process: its output followed from the <c>stdout</c> and
/// <c>stderr</c> files of the container's directory, its end from the exit file its waiting shell writes. The process
/// that started it, the reused graph's supervisor and every test process attached to it see it the same way.
/// </summary>
internal sealed class DetachedContainerProcess : ContainerProcess
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    private readonly string _directory;
    private readonly Process? _waiter;
    private readonly CancellationTokenSource _stop = new();
    private readonly LogFile _stdout;
    private readonly LogFile _stderr;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _following;

    /// <summary>How much of each stream a process attaching to a running container reads of what was written before.</summary>
    public const int AttachHistoryBytes = 1024 * 1024;

    /// <param name="directory">The container's directory.</param>
    /// <param name="logs">Receives the output: what was written so far at once (attaching: its last <see cref="AttachHistoryBytes"/> per stream), then as it comes.</param>
    /// <param name="waiter">The waiting shell, when this process started it (disposed with this); null when attaching.</param>
    public DetachedContainerProcess(string directory, ContainerLogs logs, Process? waiter = null)
    {
        _directory = directory;
        _waiter = waiter;
        var history = waiter is null ? AttachHistoryBytes : long.MaxValue;
        _stdout = new LogFile(Path.Combine(directory, DetachedRun.StandardOutputFile), history, line => logs.Add(isError: false, line));
        _stderr = new LogFile(Path.Combine(directory, DetachedRun.StandardErrorFile), history, line => logs.Add(isError: true, line));
        ReadNewOutput();
        _following = FollowAsync();
    }

    public override bool HasExited => _exited.Task.IsCompleted || DetachedRun.ExitCode(_directory) is not null;

    public override Task<int> Exited => _exited.Task;

    // The waiting shell writes the exit file as the container ends.
    public override Task EndedAsync(TimeSpan timeout) => DetachedRun.WaitForWaiterAsync(_directory, timeout);

    // The waiter leads a process group of its own (setsid): the group is it and the runtime process it waits for.
    public override void Kill()
    {
        if (DetachedRun.WaiterPid(_directory) is { } pid)
        {
            NativeMethods.Kill(-pid, 9);
        }
    }

    /// <summary>Stops following (the process goes on); what it wrote until now is in the logs.</summary>
    public override void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        _following.Wait(TimeSpan.FromSeconds(1));
        _stdout.Dispose();
        _stderr.Dispose();
        _waiter?.Dispose();
        _stop.Dispose();
    }

    private async Task FollowAsync()
    {
        var checks = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                ReadNewOutput();
                if (DetachedRun.ExitCode(_directory) is { } code)
                {
                    // Everything written before the exit is in the files now.
                    ReadNewOutput();
                    _stdout.Flush();
                    _stderr.Flush();
                    _exited.TrySetResult(code);
                    return;
                }

                // A waiter killed outright writes no exit file; its container is gone with it (or soon will be).
                if (++checks % 40 == 0 && DetachedRun.WaiterPid(_directory) is null && File.Exists(Path.Combine(_directory, DetachedRun.WaiterFile)))
                {
                    await Task.Delay(Poll).ConfigureAwait(false);
                    if (DetachedRun.ExitCode(_directory) is null)
                    {
                        ReadNewOutput();
                        _exited.TrySetResult(-1);
                        return;
                    }
                }

                await Task.Delay(Poll, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed: no longer followed.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory went away (the container was removed): it has ended.
            _exited.TrySetResult(DetachedRun.ExitCode(_directory) ?? -1);
        }
    }

    private void ReadNewOutput()
    {
        _stdout.ReadNew();
        _stderr.ReadNew();
    }

    // Reads a growing file line by line from where it stopped; a last line without its newline waits for the rest. At
    // first it starts at most `history` bytes before the end, after the first newline there (no half line).
    private sealed class LogFile(string path, long history, Action<string> onLine) : IDisposable
    {
        private bool _skipToNewline;

        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly StringBuilder _partial = new();
        private readonly byte[] _buffer = new byte[16 * 1024];
        private readonly char[] _chars = new char[Encoding.UTF8.GetMaxCharCount(16 * 1024)];
        private FileStream? _stream;

        public void ReadNew()
        {
            lock (_partial)
            {
                if (_stream is null)
                {
                    if (!File.Exists(path))
                    {
                        return;
                    }

                    _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
                    if (_stream.Length > history)
                    {
                        _stream.Position = _stream.Length - history;
                        _skipToNewline = true;
                    }
                }

                int read;
                while ((read = _stream.Read(_buffer, 0, _buffer.Length)) > 0)
                {
                    var count = _decoder.GetChars(_buffer, 0, read, _chars, 0);
                    for (var i = 0; i < count; i++)
                    {
                        if (_skipToNewline)
                        {
                            _skipToNewline = _chars[i] != '\n';
                        }
                        else if (_chars[i] == '\n')
                        {
                            EmitLine();
                        }
                        else
                        {
                            _partial.Append(_chars[i]);
                        }
                    }
                }
            }
        }

        public void Flush()
        {
            lock (_partial)
            {
                if (_partial.Length > 0)
                {
                    EmitLine();
                }
            }
        }

        public void Dispose()
        {
            lock (_partial)
            {
                _stream?.Dispose();
            }
        }

        private void EmitLine()
        {
            var length = _partial.Length > 0 && _partial[^1] == '\r' ? _partial.Length - 1 : _partial.Length;
            var line = _partial.ToString(0, length);
            _partial.Clear();
            onLine(line);
        }
    }
}
