using System.Collections;
using System.Net.Sockets;
using Microsoft.Build.Framework;

namespace Containers.Sdk.Tasks.BuildServer;

/// <summary>
/// The Containers.Sdk build server: a process that runs <see cref="ComputeContainerConfig"/> and
/// <see cref="PublishContainerImage"/> for builds, one at a time, with each build's environment and working directory, relaying its log and outputs. It listens on a Unix
/// socket in the user's own directory and exits after <see cref="DefaultIdleTimeout"/> without a request.
/// </summary>
internal static class BuildServerHost
{
    public const string ServerArgument = "--build-server", MSBuildArgument = "--msbuild";

    /// <summary>The request that asks a server to exit (StopContainerBuildServer); any protocol version may send it.</summary>
    public const string StopRequest = "stop";

    /// <summary>How long the server waits for the next request before it exits (CONTAINERS_SDK_BUILD_SERVER_IDLE_SECONDS overrides).</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(10);

    // The only tasks a build may ask for.
    private static readonly Dictionary<string, Func<ContainerSettingsTask>> Tasks = new(StringComparer.Ordinal)
    {
        [nameof(ComputeContainerConfig)] = () => new ComputeContainerConfig(),
        [nameof(PublishContainerImage)] = () => new PublishContainerImage(),
    };

    // CONTAINERS_SDK_BUILD_SERVER_LOG names a file the server appends its own story to (start, warm-up, requests, exit).
    private static readonly string? DiagnosticsFile = Environment.GetEnvironmentVariable("CONTAINERS_SDK_BUILD_SERVER_LOG") is { Length: > 0 } file ? Path.GetFullPath(file) : null;

    private static readonly object DiagnosticsLock = new();

    // Requests wait for the warm-up: run side by side, both would compile the same code, and the request would be slower.
    private static readonly TaskCompletionSource WarmedUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static int _busy;
    private static bool _stopRequested;
    private static long _lastActivityTicks = DateTime.UtcNow.Ticks;

    /// <summary>True in the build server process.</summary>
    public static bool IsServer { get; private set; }

    /// <summary>Serves on <paramref name="socketPath"/> until idle; returns the process exit code.</summary>
    public static int Run(string socketPath)
    {
        IsServer = true;
        var idle = int.TryParse(Environment.GetEnvironmentVariable("CONTAINERS_SDK_BUILD_SERVER_IDLE_SECONDS"), out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : DefaultIdleTimeout;
        BuildServerClient.CreatePrivateDirectory(Path.GetDirectoryName(socketPath)!);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (!TryListen(listener, socketPath))
        {
            return 0;
        }

        try
        {
            Diagnose($"listening on {socketPath} (pid {Environment.ProcessId}, .NET {Environment.Version}, idle timeout {idle.TotalSeconds:F0} s)");
            // Connections are accepted meanwhile; a request waits for the warm-up before it runs.
            _ = Task.Run(async () =>
            {
                var started = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    await BuildServerWarmup.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    // Also when the warm-up could not even begin (no temporary directory): requests must not wait for it.
                    WarmedUp.TrySetResult();
                }

                Diagnose($"warmed up in {started.ElapsedMilliseconds} ms{(BuildServerWarmup.WarmupErrors.Count > 0 ? "; its publish failed: " + string.Join(" | ", BuildServerWarmup.WarmupErrors) : "")}");
            });
            Task<Socket>? pending = null;
            var assembly = typeof(BuildServerHost).Assembly.Location;
            while (true)
            {
                pending ??= listener.AcceptAsync();
                // Short waits once a stop is asked for: the stopper waits for the socket to go.
                if (pending.Wait(Volatile.Read(ref _stopRequested) ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(2)))
                {
                    Accept(pending.Result);
                    pending = null;
                    continue;
                }

                // Idle long enough, or the package it was started from is gone (a newer one has its own server).
                var quiet = DateTime.UtcNow - new DateTime(Interlocked.Read(ref _lastActivityTicks), DateTimeKind.Utc) > idle;
                var stop = Volatile.Read(ref _stopRequested);
                if (Volatile.Read(ref _busy) == 0 && (stop || quiet || !File.Exists(assembly)))
                {
                    Diagnose(stop ? "asked to stop: exiting" : quiet ? "idle: exiting" : $"{assembly} is gone: exiting");
                    return 0;
                }
            }
        }
        finally
        {
            // Gone before the listener closes: a build never connects to a socket nobody will answer.
            File.Delete(socketPath);
        }
    }

    // Listens on a private name first and then renames the socket into place, so a build never finds the socket
    // of a server that does not listen yet (and never takes it for one that died).
    private static bool TryListen(Socket listener, string socketPath)
    {
        if (File.Exists(socketPath) && BuildServerFrames.Answers(socketPath))
        {
            return false;
        }

        var temporary = Path.Combine(Path.GetDirectoryName(socketPath)!, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp");
        File.Delete(temporary);
        listener.Bind(new UnixDomainSocketEndPoint(temporary));
        listener.Listen(16);
        try
        {
            if (File.Exists(socketPath) && !BuildServerFrames.Answers(socketPath))
            {
                // Left by a server that died.
                File.Delete(socketPath);
            }

            File.Move(temporary, socketPath, overwrite: false);
            return true;
        }
        catch (IOException)
        {
            // Another server, started at the same moment, is in place first.
            File.Delete(temporary);
            return false;
        }
    }

    private static void Accept(Socket connection)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            using (connection)
            {
                TrySend(connection, new ServerMessage { Kind = ServerMessage.Busy });
            }

            return;
        }

        // A thread of its own, not one of the thread pool's: the request holds it for the whole publish (the task's
        // Execute waits for the publish's async work), and on a 2-core machine a held pool thread is one of the two the
        // publish's compression and uploads run on; the pool adds more only slowly (a cold 47 MiB layer took 2.7 s
        // instead of 2.0 s in the build's own process, where MSBuild's threads run tasks).
        new Thread(() =>
        {
            var released = 0;
            void Release()
            {
                // Once: after the release another request may already have claimed the server.
                if (Interlocked.Exchange(ref released, 1) == 0)
                {
                    Interlocked.Exchange(ref _lastActivityTicks, DateTime.UtcNow.Ticks);
                    Volatile.Write(ref _busy, 0);
                }
            }

            try
            {
                Serve(connection, Release);
            }
            catch (Exception exception) when (exception is SocketException or IOException or InvalidDataException or System.Text.Json.JsonException or ObjectDisposedException)
            {
                // The build went away (Ctrl+C, killed) or spoke another protocol: nothing to answer.
            }
            finally
            {
                connection.Dispose();
                Release();
            }
        })
        { IsBackground = true, Name = "Containers.Sdk build server request" }.Start();
    }

    private static async Task CancelWhenClosedAsync(Socket connection, ContainerTask task)
    {
        try
        {
            await connection.ReceiveAsync(new byte[1], SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
        }

        task.Cancel();
    }

    // Runs one request. release() frees the server for the next one: called before the result is sent, because the
    // build sends its next request (PublishContainerImage right after ComputeContainerConfig) as soon as it has the
    // result, and a server still marked busy would turn it away to run in the build.
    private static void Serve(Socket connection, Action release)
    {
        var request = BuildServerFrames.Read(connection, BuildServerJson.Default.ServerRequest);
        if (request?.TaskName == StopRequest)
        {
            // Only its own user reaches the socket (its directory is 0700), so whoever asks may stop it.
            Diagnose("stop requested");
            Volatile.Write(ref _stopRequested, true);
            release();
            TrySend(connection, new ServerMessage { Kind = ServerMessage.Result, Success = true, ServerProcessId = Environment.ProcessId });
            return;
        }

        if (request is null || request.Protocol != BuildServerFrames.ProtocolVersion || !Tasks.TryGetValue(request.TaskName, out var create))
        {
            // A probe (a build checking that the server answers) or another protocol: nothing to run, nothing to wait for.
            return;
        }

        WarmedUp.Task.Wait(TimeSpan.FromSeconds(30));

        // The build's environment (credentials, DOTNET_CONTAINER_*, PATH for docker/podman, HOME) and directory, as
        // if the task ran in it; requests run one at a time, so the process-wide state is this request's alone.
        ReplaceEnvironment(request.Environment);
        if (Directory.Exists(request.CurrentDirectory))
        {
            Directory.SetCurrentDirectory(request.CurrentDirectory);
        }

        var task = create();
        var relay = new RelayBuildEngine(connection, request.ProjectFile);
        task.BuildEngine = relay;
        BuildServerClient.SetProperties(task, BuildServerClient.Parameters(task.GetType()), request.Parameters);

        // Run here, never handed on again.
        ((ContainerSettingsTask)task).ContainerUseBuildServer = "false";

        // The build closes the connection to cancel (Ctrl+C); after the result it closes it too, which is harmless.
        // Waited for without holding a thread (see Accept).
        _ = CancelWhenClosedAsync(connection, (ContainerTask)task);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var success = task.Execute();
        Diagnose($"{request.TaskName} for {request.ProjectFullPath ?? request.ProjectFile}: {(success ? "succeeded" : "failed")} in {stopwatch.ElapsedMilliseconds} ms");
        var outputs = BuildServerClient.GetProperties(task, BuildServerClient.Outputs(task.GetType()));
        release();
        relay.Send(new ServerMessage { Kind = ServerMessage.Result, Success = success, Outputs = outputs, ServerProcessId = Environment.ProcessId });
    }

    private static void Diagnose(string line)
    {
        if (DiagnosticsFile is null)
        {
            return;
        }

        try
        {
            lock (DiagnosticsLock)
            {
                File.AppendAllText(DiagnosticsFile, $"{DateTime.UtcNow:O} {line}{Environment.NewLine}");
            }
        }
        catch (IOException)
        {
        }
    }

    private static void ReplaceEnvironment(Dictionary<string, string> environment)
    {
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (!environment.ContainsKey((string)variable.Key))
            {
                Environment.SetEnvironmentVariable((string)variable.Key, null);
            }
        }

        foreach (var (name, value) in environment)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    private static void TrySend(Socket connection, ServerMessage message)
    {
        try
        {
            BuildServerFrames.Write(connection, message, BuildServerJson.Default.ServerMessage);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>The build engine the server's tasks log to: every event goes back to the build that asked.</summary>
    private sealed class RelayBuildEngine(Socket connection, string? projectFile) : IBuildEngine
    {
        private readonly object _sending = new();
        private bool _broken;

        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => projectFile ?? "";

        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;

        public void LogCustomEvent(CustomBuildEventArgs e) =>
            Send(new ServerMessage { Kind = ServerMessage.Message, Importance = (int)MessageImportance.Low, Text = e.Message });

        public void LogErrorEvent(BuildErrorEventArgs e) => Send(new ServerMessage
        {
            Kind = ServerMessage.Error,
            Text = e.Message,
            Code = e.Code,
            Subcategory = e.Subcategory,
            HelpKeyword = e.HelpKeyword,
            File = e.File,
            Line = e.LineNumber,
            Column = e.ColumnNumber,
            EndLine = e.EndLineNumber,
            EndColumn = e.EndColumnNumber,
        });

        public void LogMessageEvent(BuildMessageEventArgs e)
        {
            if (e.Importance == MessageImportance.High)
            {
                Diagnose("  " + e.Message?.Trim());
            }

            Send(new ServerMessage { Kind = ServerMessage.Message, Importance = (int)e.Importance, Text = e.Message });
        }

        public void LogWarningEvent(BuildWarningEventArgs e) => Send(new ServerMessage
        {
            Kind = ServerMessage.Warning,
            Text = e.Message,
            Code = e.Code,
            Subcategory = e.Subcategory,
            HelpKeyword = e.HelpKeyword,
            File = e.File,
            Line = e.LineNumber,
            Column = e.ColumnNumber,
            EndLine = e.EndLineNumber,
            EndColumn = e.EndColumnNumber,
        });

        // Log events come from the publisher's threads too (layers, SBOM): one frame at a time.
        public void Send(ServerMessage message)
        {
            // Once the build is gone, logging must not fail the task's own code: the closed connection cancels it.
            lock (_sending)
            {
                if (_broken)
                {
                    return;
                }

                try
                {
                    BuildServerFrames.Write(connection, message, BuildServerJson.Default.ServerMessage);
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                    _broken = true;
                }
            }
        }
    }
}
