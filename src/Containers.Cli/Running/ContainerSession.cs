using System.Runtime.InteropServices;
using Containers.Cli.State;
using Containers.Host.Lifecycle;

namespace Containers.Cli.Running;

/// <summary>
/// Runs one container in this process and owns it until it exits: starts it with the runtime host, records it in its
/// state directory (ports, status, exit code), appends its output to the <c>stdout</c>/<c>stderr</c> files there, serves
/// its control socket (<c>exec</c>, <c>stop</c> from other invocations), and, when it exits, removes everything the host
/// made for it (and, with <c>--rm</c>, its state directory). <c>run</c> in the foreground runs a session itself; <c>run
/// -d</c> starts the tool again, detached, to run one (the supervisor, which keeps the port forwarders alive).
/// </summary>
public sealed class ContainerSession
{
    private readonly ContainerEntry _entry;
    private readonly RunRequest _request;
    private readonly Action<string> _log;
    private readonly TaskCompletionSource<TimeSpan> _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the session of <paramref name="entry"/>'s container.</summary>
    public ContainerSession(ContainerEntry entry, RunRequest request, Action<string> log)
    {
        _entry = entry;
        _request = request;
        _log = log;
    }

    /// <summary>Called with each line of the container's output and whether it came from stderr, after it is appended to the files.</summary>
    public Action<string, bool>? OnOutput { get; init; }

    /// <summary>Called once the container runs and is recorded.</summary>
    public Action<ContainerRecord>? OnStarted { get; init; }

    /// <summary>The grace period of a stop that no request names (Ctrl+C, SIGTERM).</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(10);

    /// <summary>Stops the container: its stop signal, then SIGKILL after <paramref name="gracePeriod"/>.</summary>
    public void RequestStop(TimeSpan gracePeriod) => _stopRequested.TrySetResult(gracePeriod);

    /// <summary>
    /// Runs the container until it exits and returns its exit code. A failure to start is recorded
    /// (<see cref="ContainerStatus.Failed"/>) and thrown.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var options = new ContainerStartOptions
        {
            Image = ImageArgument.Resolve(_request.Image),
            Command = _request.Arguments.Count > 0 || _request.Entrypoint is not null ? [.. _request.Arguments] : null,
            Entrypoint = _request.Entrypoint is null ? null : _request.Entrypoint.Length == 0 ? [] : [_request.Entrypoint],
            WorkingDirectory = _request.WorkingDirectory,
            User = _request.User,
            StopGracePeriod = DefaultGracePeriod,
            Log = _log,
        };
        foreach (var (name, value) in _request.Environment)
        {
            options.Environment[name] = value;
        }

        foreach (var port in _request.Ports)
        {
            options.PublishedPorts.Add(port);
        }

        foreach (var (containerPort, hostPort) in _request.HostPorts)
        {
            options.HostPorts[containerPort] = hostPort;
        }

        var record = _entry.Read();
        RunningContainer container;
        using var stopping = new CancellationTokenSource();
        var listener = ControlChannel.Listen(_entry.ControlSocket);
        var serving = ControlChannel.ServeAsync(_entry.ControlSocket, (request, token) => AnswerAsync(request, token), listener, stopping.Token);
        try
        {
            // A stop asked for while the image loads ends the start.
            using var startCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var startToken = startCancellation.Token;
            _ = _stopRequested.Task.ContinueWith(
                _ =>
                {
                    try
                    {
                        startCancellation.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The start was over; the stop is for the running container.
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            container = await ContainerHost.StartAsync(options, startToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            await serving.ConfigureAwait(false);

            // Nothing ran, so nothing is kept; a detached start's client reads why and removes the directory itself.
            if (record.Detached)
            {
                _entry.Write(record with { Status = ContainerStatus.Failed, Error = ex is OperationCanceledException ? "stopped before it started" : FirstLine(ex.Message) });
            }
            else
            {
                _entry.Delete();
            }

            throw;
        }

        _running = container;
        int exitCode;
        using (var standardOutput = OpenAppend(_entry.StandardOutputFile))
        using (var standardError = OpenAppend(_entry.StandardErrorFile))
        {
            var gate = new object();
            using (container.Logs.Follow((line, isError) =>
            {
                lock (gate)
                {
                    var writer = isError ? standardError : standardOutput;
                    writer.WriteLine(line);
                    writer.Flush();
                }

                OnOutput?.Invoke(line, isError);
            }))
            {
                record = record with
                {
                    Status = ContainerStatus.Running,
                    HostId = container.Id,
                    Backend = container.BackendName,
                    Ports = [.. container.PublishedContainerPorts.Select(port => new PublishedPort(container.GetPublishedPort(port), port))],
                };
                _entry.Write(record);
                OnStarted?.Invoke(record);

                if (await Task.WhenAny(container.Exited, _stopRequested.Task).ConfigureAwait(false) != container.Exited)
                {
                    await container.StopAsync(await _stopRequested.Task.ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false);
                }

                exitCode = await container.Exited.ConfigureAwait(false);

                // The output of its last moments: the readers drain the pipes as the process ends.
                await container.DisposeAsync().ConfigureAwait(false);
            }
        }

        _running = null;

        // Its end is recorded (or, with --rm, it is removed) before the socket closes: whoever waits for that (stop, rm)
        // then finds it so.
        if (record.AutoRemove)
        {
            _entry.Delete();
        }
        else
        {
            _entry.Write(record with { Status = ContainerStatus.Exited, ExitCode = exitCode });
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await serving.ConfigureAwait(false);
        return exitCode;
    }

    private RunningContainer? _running;

    private async Task<ControlResponse> AnswerAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        switch (request.Operation)
        {
            case ControlRequest.Stop:
                RequestStop(TimeSpan.FromSeconds(Math.Max(0, request.GraceSeconds)));
                var container = _running;
                return new ControlResponse { ExitCode = container is null ? 0 : await container.Exited.WaitAsync(cancellationToken).ConfigureAwait(false) };
            case ControlRequest.Exec when _running is { } running:
                var result = await running.ExecAsync(request.Command, request.Environment, request.User, cancellationToken).ConfigureAwait(false);
                return new ControlResponse { ExitCode = result.ExitCode, StandardOutput = result.StandardOutput, StandardError = result.StandardError };
            case ControlRequest.Exec:
                return new ControlResponse { ExitCode = CliExitCodes.Failed, Error = "it is not running (starting or exiting)" };
            default:
                return new ControlResponse { ExitCode = CliExitCodes.Failed, Error = $"unknown operation '{request.Operation}'" };
        }
    }

    /// <summary>Turns SIGINT (Ctrl+C), SIGTERM and SIGQUIT into a stop of the container: the first with the grace period, a second at once.</summary>
    public IDisposable[] StopOnSignals()
    {
        var signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            RequestStop(Interlocked.Increment(ref signals) == 1 ? DefaultGracePeriod : TimeSpan.Zero);
            if (signals > 1 && _running is { } running)
            {
                _ = running.StopAsync(TimeSpan.Zero, CancellationToken.None);
            }
        }

        return [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal)];
    }

    private static StreamWriter OpenAppend(string path) => new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete));

    private static string FirstLine(string message) => message.ReplaceLineEndings("\n").Split('\n', 2)[0];
}
