using System.Collections;
using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Containers.Sdk.Tasks.BuildServer;

/// <summary>
/// Hands a task to the Containers.Sdk build server when one is running for this build of the tasks, and starts
/// one for the next build when none is. A build runs in a fresh MSBuild process whose first registry request and
/// first pass through the publish code cost more than the rest of a no-change publish; the server is a process
/// that has paid that already (as the compiler server VBCSCompiler is for csc).
/// </summary>
internal static class BuildServerClient
{
    /// <summary>
    /// The socket of the server for this exact tasks assembly (its MVID), this MSBuild and this protocol, under the
    /// user's own local application data (not /tmp, where another user could squat the name); null where there is
    /// none to use (Windows, no home, a path too long for a Unix socket).
    /// </summary>
    public static string? SocketPath => LazySocketPath.Value;

    private static readonly string[] ProcessWideVariables =
    [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "DOTNET_SYSTEM_NET_HTTP_USESOCKETSHTTPHANDLER",
    ];

    private static readonly Lazy<string?> LazySocketPath = new(ComputeSocketPath);

    /// <summary>What became of a request.</summary>
    public enum Outcome
    {
        /// <summary>The server ran the task; its log and outputs are the task's.</summary>
        Ran,

        /// <summary>No server is listening: run here, and start one for the next build.</summary>
        NotRunning,

        /// <summary>The server is running another build's task: run here.</summary>
        Busy,

        /// <summary>The server went away before it answered: run here (publishing again is safe, tags move last).</summary>
        Lost,
    }

    // When this process started a server: a request in the next seconds waits for its socket rather than publish here.
    private static long s_startedTicks;

    /// <summary>The calling user's build-server directory (<c>&lt;LocalApplicationData&gt;/containers-sdk/build-server</c>); null on Windows or without a home.</summary>
    public static string? ServerDirectory =>
        OperatingSystem.IsWindows() || Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify) is not { Length: > 0 } root
            ? null
            : Path.Combine(root, "containers-sdk", "build-server");

    /// <summary>
    /// Asks every server of the calling user (each socket in <see cref="ServerDirectory"/>, whatever its package or SDK
    /// version) to exit, waits until its socket is gone, and removes sockets nobody answers on. Returns how many stopped.
    /// </summary>
    public static int StopAll(TaskLoggingHelper log, TimeSpan wait)
    {
        if (ServerDirectory is not { } directory || !Directory.Exists(directory))
        {
            log.LogMessage(MessageImportance.High, "No Containers.Sdk build server is running (no server directory).");
            return 0;
        }

        var stopped = 0;
        var sockets = Directory.GetFiles(directory, "*.sock");
        foreach (var socketPath in sockets)
        {
            ServerMessage? answer;
            try
            {
                using var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                connection.Connect(new UnixDomainSocketEndPoint(socketPath));
                connection.ReceiveTimeout = (int)wait.TotalMilliseconds;
                BuildServerFrames.Write(connection, new ServerRequest { Protocol = BuildServerFrames.ProtocolVersion, TaskName = BuildServerHost.StopRequest }, BuildServerJson.Default.ServerRequest);
                answer = BuildServerFrames.Read(connection, BuildServerJson.Default.ServerMessage);
            }
            catch (SocketException)
            {
                // Nobody listens: a server that died left it.
                File.Delete(socketPath);
                log.LogMessage(MessageImportance.Normal, $"Removed {socketPath}: no server answered on it.");
                continue;
            }

            switch (answer?.Kind)
            {
                case ServerMessage.Result:
                    var gone = Stopwatch.StartNew();
                    while (File.Exists(socketPath) && gone.Elapsed < wait)
                    {
                        Thread.Sleep(50);
                    }

                    if (File.Exists(socketPath))
                    {
                        log.LogMessage(MessageImportance.High, $"The Containers.Sdk build server (pid {answer.ServerProcessId}) was asked to stop but still listens on {socketPath} after {wait.TotalSeconds:0} s; it exits when its current work ends.");
                    }
                    else
                    {
                        stopped++;
                        log.LogMessage(MessageImportance.High, $"Stopped the Containers.Sdk build server (pid {answer.ServerProcessId}, {socketPath}).");
                    }

                    break;
                case ServerMessage.Busy:
                    log.LogMessage(MessageImportance.High, $"The Containers.Sdk build server on {socketPath} is running another build's publish; run StopContainerBuildServer again when it has finished.");
                    break;
                default:
                    // A server from a package without the stop request closes the connection without an answer.
                    log.LogMessage(MessageImportance.High, $"The Containers.Sdk build server on {socketPath} (an older package version) does not know the stop request; it exits after 10 minutes without a build.");
                    break;
            }
        }

        if (sockets.Length == 0)
        {
            log.LogMessage(MessageImportance.High, "No Containers.Sdk build server is running.");
        }

        return stopped;
    }

    /// <summary>Starts a server unless one answers on the socket already.</summary>
    public static void EnsureStarted(TaskLoggingHelper log)
    {
        if (SocketPath is not { } socketPath)
        {
            return;
        }

        // A socket file that does not answer was left by a server that died: start another.
        if (!File.Exists(socketPath) || !BuildServerFrames.Answers(socketPath))
        {
            Start(log);
        }
    }

    // A server this process started moments ago may not listen yet: wait a little for it (its start and warm-up
    // overlap the compilation, so usually it is there already).
    private static void AwaitStartingServer(string socketPath, CancellationToken cancellationToken)
    {
        var started = Interlocked.Read(ref s_startedTicks);
        if (started == 0)
        {
            return;
        }

        var waited = Stopwatch.StartNew();
        var limit = StartingServerPatience - TimeSpan.FromTicks(Math.Max(0, Stopwatch.GetTimestamp() - started) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
        while (!File.Exists(socketPath) && waited.Elapsed < limit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Thread.Sleep(20);
        }
    }

    // Past that, publishing here is as fast as waiting (CONTAINERS_SDK_BUILD_SERVER_START_WAIT_SECONDS overrides).
    private static TimeSpan StartingServerPatience =>
        double.TryParse(Environment.GetEnvironmentVariable("CONTAINERS_SDK_BUILD_SERVER_START_WAIT_SECONDS"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(3);

    /// <summary>Sends <paramref name="task"/> (its parameters, this build's environment and directory) to the server.</summary>
    /// <returns>The outcome, and when the server ran it, whether the task succeeded.</returns>
    public static (Outcome Outcome, bool Success) TryRun(ContainerTask task, TaskLoggingHelper log, CancellationToken cancellationToken)
    {
        if (SocketPath is not { } socketPath)
        {
            return (Outcome.NotRunning, false);
        }

        AwaitStartingServer(socketPath, cancellationToken);
        if (!File.Exists(socketPath))
        {
            return (Outcome.NotRunning, false);
        }

        var stopwatch = Stopwatch.StartNew();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException)
        {
            // A socket file left by a server that died: the next server replaces it.
            return (Outcome.NotRunning, false);
        }

        // Ctrl+C: closing the connection is the server's signal to cancel the task.
        using var cancellation = cancellationToken.Register(() => socket.Dispose());
        try
        {
            var request = CreateRequest(task);
            var prepared = stopwatch.ElapsedMilliseconds;
            BuildServerFrames.Write(socket, request, BuildServerJson.Default.ServerRequest);
            var sent = stopwatch.ElapsedMilliseconds;
            while (BuildServerFrames.Read(socket, BuildServerJson.Default.ServerMessage) is { } message)
            {
                switch (message.Kind)
                {
                    case ServerMessage.Busy:
                        return (Outcome.Busy, false);
                    case ServerMessage.Message:
                        log.LogMessage((MessageImportance)message.Importance, message.Text ?? "");
                        break;
                    case ServerMessage.Warning:
                        log.LogWarning(message.Subcategory, message.Code, message.HelpKeyword, message.File, message.Line, message.Column, message.EndLine, message.EndColumn, message.Text ?? "");
                        break;
                    case ServerMessage.Error:
                        log.LogError(message.Subcategory, message.Code, message.HelpKeyword, message.File, message.Line, message.Column, message.EndLine, message.EndColumn, message.Text ?? "");
                        break;
                    case ServerMessage.Result:
                        SetProperties(task, Outputs(task.GetType()), message.Outputs ?? []);
                        log.LogMessage(MessageImportance.Low, $"Ran in the Containers.Sdk build server (pid {message.ServerProcessId}): request ready after {prepared} ms, sent after {sent} ms, answered after {stopwatch.ElapsedMilliseconds} ms.");
                        return (Outcome.Ran, message.Success);
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or IOException or InvalidDataException or System.Text.Json.JsonException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            log.LogMessage(MessageImportance.Low, $"The Containers.Sdk build server went away ({exception.Message}); building in this process.");
            return (Outcome.Lost, false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        log.LogMessage(MessageImportance.Low, "The Containers.Sdk build server closed the connection without a result; building in this process.");
        return (Outcome.Lost, false);
    }

    /// <summary>
    /// Starts a server in the background. It has no console (nothing of this build waits for
    /// it) and exits after <see cref="BuildServerHost.DefaultIdleTimeout"/> without work.
    /// </summary>
    public static void Start(TaskLoggingHelper log)
    {
        if (SocketPath is not { } socketPath || DotnetHost() is not { } dotnet)
        {
            return;
        }

        var startInfo = new ProcessStartInfo(dotnet)
        {
            UseShellExecute = false,
            // Pipes, closed right away on this side: an inherited console would keep whoever reads this build's
            // output (a CI log, a test) waiting for the server to exit.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(socketPath)!,
        };
        // The runtime MSBuild runs on: the MSBuild assemblies the server loads are built for it.
        foreach (var argument in new[] { "exec", "--fx-version", Environment.Version.ToString(), typeof(BuildServerClient).Assembly.Location, BuildServerHost.ServerArgument, socketPath, BuildServerHost.MSBuildArgument, MSBuildDirectory })
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            CreatePrivateDirectory(Path.GetDirectoryName(socketPath)!);
            using var process = Process.Start(startInfo);
            Interlocked.Exchange(ref s_startedTicks, Stopwatch.GetTimestamp());
            log.LogMessage(MessageImportance.Normal, $"Started the Containers.Sdk build server (pid {process?.Id}); ContainerUseBuildServer=false turns it off.");
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            log.LogMessage(MessageImportance.Low, $"The Containers.Sdk build server could not be started ({exception.Message}); every publish runs in its build.");
        }
    }

    /// <summary>Creates the socket's directory readable only by its user (who alone may then connect).</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            // Also when it existed already (made by something else, with other modes): only its user may reach the socket.
            const UnixFileMode userOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Directory.CreateDirectory(path, userOnly);
            File.SetUnixFileMode(path, userOnly);
        }
    }

    private static string MSBuildDirectory => Path.GetDirectoryName(typeof(Microsoft.Build.Utilities.Task).Assembly.Location)!;

    // The dotnet CLI tells tasks where its host is; MSBuild itself may run as `dotnet MSBuild.dll`.
    private static string? DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        var process = Environment.ProcessPath;
        return process is not null && Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? process : null;
    }

    private static string? ComputeSocketPath()
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(root))
        {
            return null;
        }

        // Also what a process reads once, at its start or first use, and keeps: proxies and the trusted CAs. A build
        // that sets them differently gets a server of its own.
        var processWide = string.Join("|", ProcessWideVariables.Select(name => name + "=" + Environment.GetEnvironmentVariable(name)));
        var identity = $"{BuildServerFrames.ProtocolVersion}|{typeof(BuildServerClient).Assembly.ManifestModule.ModuleVersionId}|{MSBuildDirectory}|{Environment.Version}|{processWide}";
        var name = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..24].ToLowerInvariant() + ".sock";
        var path = Path.Combine(root, "containers-sdk", "build-server", name);
        // sockaddr_un holds 108 bytes on Linux, 104 on macOS.
        return Encoding.UTF8.GetByteCount(path) < 100 ? path : null;
    }

    private static ServerRequest CreateRequest(ContainerTask task)
    {
        var request = new ServerRequest
        {
            Protocol = BuildServerFrames.ProtocolVersion,
            TaskName = task.GetType().Name,
            CurrentDirectory = Directory.GetCurrentDirectory(),
            ProjectFile = task.BuildEngine?.ProjectFileOfTaskNode,
            ProjectFullPath = task.ProjectFullPath,
        };
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            request.Environment[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        request.Parameters = GetProperties(task, Parameters(task.GetType()));
        return request;
    }

    /// <summary>The task's parameters: its public settable properties of the types MSBuild passes (string, bool, int, items).</summary>
    public static IEnumerable<PropertyInfo> Parameters(Type taskType) =>
        taskType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && IsWireType(p.PropertyType));

    /// <summary>The task's [Output] properties.</summary>
    public static IEnumerable<PropertyInfo> Outputs(Type taskType) =>
        taskType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<OutputAttribute>() is not null && IsWireType(p.PropertyType));

    private static bool IsWireType(Type type) =>
        type == typeof(string) || type == typeof(bool) || type == typeof(int) || type == typeof(ITaskItem[]);

    /// <summary>A property's value on the wire.</summary>
    private static WireParameter ToWire(object? value) => value switch
    {
        string text => new WireParameter { Value = text },
        bool flag => new WireParameter { Value = flag ? "true" : "false" },
        int number => new WireParameter { Value = number.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        ITaskItem[] items => new WireParameter { Items = items.Select(ToWire).ToList() },
        _ => new WireParameter(),
    };

    private static WireItem ToWire(ITaskItem item)
    {
        var wire = new WireItem();
        if (item is ITaskItem2 escaped)
        {
            wire.Spec = escaped.EvaluatedIncludeEscaped;
            foreach (DictionaryEntry entry in escaped.CloneCustomMetadataEscaped())
            {
                wire.Metadata[(string)entry.Key] = (string?)entry.Value ?? "";
            }
        }
        else
        {
            wire.Spec = EscapeItemText(item.ItemSpec);
            foreach (DictionaryEntry entry in item.CloneCustomMetadata())
            {
                wire.Metadata[(string)entry.Key] = EscapeItemText((string?)entry.Value ?? "");
            }
        }

        return wire;
    }

    private static ITaskItem FromWire(WireItem item) => new TaskItem(item.Spec, item.Metadata);

    /// <summary>The values of <paramref name="properties"/> of <paramref name="task"/>, for the wire.</summary>
    public static Dictionary<string, WireParameter> GetProperties(object task, IEnumerable<PropertyInfo> properties) =>
        properties.ToDictionary(property => property.Name, property => ToWire(property.GetValue(task)), StringComparer.Ordinal);

    /// <summary>Sets <paramref name="properties"/> of <paramref name="task"/> from the wire; one without a value keeps its default.</summary>
    public static void SetProperties(object task, IEnumerable<PropertyInfo> properties, Dictionary<string, WireParameter> values)
    {
        foreach (var property in properties)
        {
            if (values.TryGetValue(property.Name, out var value))
            {
                SetValue(task, property, value);
            }
        }
    }

    private static void SetValue(object task, PropertyInfo property, WireParameter value)
    {
        if (property.PropertyType == typeof(ITaskItem[]))
        {
            if (value.Items is { } items)
            {
                property.SetValue(task, items.Select(FromWire).ToArray());
            }
        }
        else if (property.PropertyType == typeof(string))
        {
            property.SetValue(task, value.Value);
        }
        else if (value.Value is { } text)
        {
            property.SetValue(task, property.PropertyType == typeof(bool)
                ? bool.Parse(text)
                : int.Parse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    // MSBuild's escaping (%XX) of the characters it treats specially, for items that only give the unescaped text.
    private static string EscapeItemText(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '%' or '*' or '?' or '@' or '$' or '(' or ')' or ';' or '\'')
            {
                builder.Append('%').Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
