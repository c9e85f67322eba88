using System.Net.Sockets;
using System.Text.Json;
using Containers.Cli.State;

namespace Containers.Cli.Running;

/// <summary>A request to the process that runs a container: run a command in it, or stop it.</summary>
public sealed record ControlRequest
{
    /// <summary><see cref="Exec"/> or <see cref="Stop"/>.</summary>
    public required string Operation { get; init; }

    /// <summary>For exec: the command and its arguments.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>For exec: environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>For exec: the user to run as; null: the container's.</summary>
    public string? User { get; init; }

    /// <summary>For stop: seconds between the stop signal and SIGKILL.</summary>
    public double GraceSeconds { get; init; }

    /// <summary>The operation that runs a command in the container.</summary>
    public const string Exec = "exec";

    /// <summary>The operation that stops the container.</summary>
    public const string Stop = "stop";
}

/// <summary>The answer to a <see cref="ControlRequest"/>.</summary>
public sealed record ControlResponse
{
    /// <summary>The exec'd command's or the stopped container's exit code.</summary>
    public int ExitCode { get; init; }

    /// <summary>What the exec'd command wrote to stdout.</summary>
    public string StandardOutput { get; init; } = "";

    /// <summary>What the exec'd command wrote to stderr.</summary>
    public string StandardError { get; init; } = "";

    /// <summary>Why the request failed, else null.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// The client side of a container's control socket (<see cref="ContainerEntry.ControlSocket"/>): one JSON request and
/// one JSON answer per connection. The process that runs the container serves it while the container runs, so a
/// connection that succeeds is also how other invocations know it runs.
/// </summary>
public static class ControlChannel
{
    /// <summary>True when the process that runs the container answers on its socket.</summary>
    public static bool IsServed(ContainerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!File.Exists(entry.ControlSocket))
        {
            return false;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(entry.ControlSocket));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns the answer, or null when nothing serves the socket (the container does not run).</summary>
    public static async Task<ControlResponse?> SendAsync(ContainerEntry entry, ControlRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(entry.ControlSocket), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return null;
        }

        using var stream = new NetworkStream(socket, ownsSocket: false);
        await JsonSerializer.SerializeAsync(stream, request, CliJsonContext.Default.ControlRequest, cancellationToken).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, CliJsonContext.Default.ControlResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            // The process ended while answering (the container exited as the request came).
            return null;
        }
    }

    /// <summary>Serves requests on <paramref name="socketPath"/> with <paramref name="handle"/> until <paramref name="cancellationToken"/> is cancelled; then deletes the socket.</summary>
    public static async Task ServeAsync(string socketPath, Func<ControlRequest, CancellationToken, Task<ControlResponse>> handle, Socket listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listener);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                _ = AnswerAsync(client, handle, cancellationToken);
            }
        }
        finally
        {
            listener.Dispose();
            try
            {
                File.Delete(socketPath);
            }
            catch (DirectoryNotFoundException)
            {
                // Removed with its directory (--rm).
            }
        }
    }

    /// <summary>Binds and listens on <paramref name="socketPath"/>.</summary>
    public static Socket Listen(string socketPath)
    {
        File.Delete(socketPath);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(16);
        return listener;
    }

    private static async Task AnswerAsync(Socket client, Func<ControlRequest, CancellationToken, Task<ControlResponse>> handle, CancellationToken cancellationToken)
    {
        using (client)
        {
            using var stream = new NetworkStream(client, ownsSocket: false);
            ControlResponse response;
            try
            {
                var request = await JsonSerializer.DeserializeAsync(stream, CliJsonContext.Default.ControlRequest, cancellationToken).ConfigureAwait(false);
                if (request is null)
                {
                    return;
                }

                response = await handle(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JsonException or IOException or SocketException or OperationCanceledException)
            {
                // A probe (IsServed) connects and closes without a request; a client gone meanwhile needs no answer.
                return;
            }
            catch (Exception ex) when (ex is Containers.Oci.OciException or InvalidOperationException or ObjectDisposedException)
            {
                response = new ControlResponse { ExitCode = CliExitCodes.Failed, Error = ex.Message };
            }

            try
            {
                await JsonSerializer.SerializeAsync(stream, response, CliJsonContext.Default.ControlResponse, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // The client went away.
            }
        }
    }
}
