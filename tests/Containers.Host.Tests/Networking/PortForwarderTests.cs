using System.Net;
using System.Net.Sockets;
using System.Text;
using Containers.Host.Networking;

namespace Containers.Host.Tests.Networking;

/// <summary>
/// The port forwarder between 127.0.0.1 and a container's network namespace, with a loopback server standing in for
/// the container: how a connection's end on one side reaches the other.
/// </summary>
[TestClass]
public sealed class PortForwarderTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task A_server_that_answers_and_resets_without_reading_the_request_ends_the_clients_connection()
    {
        // As an HTTP/1.0 server that writes its answer and closes without reading the request: with the request unread,
        // the kernel resets the connection instead of closing it.
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serving = Task.Run(async () =>
        {
            using var accepted = await server.AcceptSocketAsync(TestContext.CancellationToken);
            await WaitForUnreadBytesAsync(accepted);
            await accepted.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\n\r\nhello\n"));
            accepted.LingerState = new LingerOption(true, 0);
            accepted.Close();
        });

        await using var forwarder = new PortForwarder(new LoopbackConnector(), ((IPEndPoint)server.LocalEndpoint).Port);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, forwarder.HostPort, TestContext.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), TestContext.CancellationToken);
        await serving;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, timeout.Token);
        }
        catch (IOException)
        {
            // A reset passed on as a reset is an end too.
        }
        catch (OperationCanceledException) when (!TestContext.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail("the client's connection stayed open after the server reset its side (got: " + Encoding.ASCII.GetString(received.ToArray()) + ")");
        }
    }

    [TestMethod]
    public async Task A_server_that_closes_after_answering_passes_its_answer_and_the_end_on()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serving = Task.Run(async () =>
        {
            using var accepted = await server.AcceptSocketAsync(TestContext.CancellationToken);
            var buffer = new byte[1024];
            await accepted.ReceiveAsync(buffer, TestContext.CancellationToken);
            await accepted.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\n\r\nhello\n"));
            accepted.Shutdown(SocketShutdown.Both);
        });

        await using var forwarder = new PortForwarder(new LoopbackConnector(), ((IPEndPoint)server.LocalEndpoint).Port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{forwarder.HostPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        Assert.AreEqual("hello\n", await http.GetStringAsync("/", TestContext.CancellationToken));
        await serving;
    }

    private static async Task WaitForUnreadBytesAsync(Socket socket)
    {
        for (var i = 0; i < 500 && socket.Available == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.IsGreaterThan(0, socket.Available, "the request reached the server");
    }

    // "Inside the namespace" is the host's loopback here.
    private sealed class LoopbackConnector : IInsideConnector
    {
        public async Task<Socket> ConnectAsync(int port, TimeSpan timeout)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            using var cancel = new CancellationTokenSource(timeout);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancel.Token);
            return socket;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
