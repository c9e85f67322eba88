using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>Fixed host ports (<see cref="ContainerStartOptions.HostPorts"/>, <c>dotnet container run -p HOST:CONTAINER</c>) on each backend.</summary>
public abstract partial class ContainerHostTests
{
    [TestMethod]
    public async Task A_fixed_host_port_publishes_the_container_port_there()
    {
        var hostPort = FreeLoopbackPort();
        var options = Options();
        options.HostPorts[8080] = hostPort;
        options.WaitStrategies.Add(Wait.ForHttp("/healthz"));

        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        Assert.AreEqual(hostPort, container.GetPublishedPort(8080));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{hostPort}"), Timeout = TimeSpan.FromSeconds(10) };
        StringAssert.StartsWith(await http.GetStringAsync("/todos", TestContext.CancellationToken), "ok /todos uid=");
    }

    [TestMethod]
    public async Task A_fixed_host_port_in_use_fails_the_start_naming_the_port()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var hostPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var options = Options();
        options.HostPorts[8080] = hostPort;

        var error = await Assert.ThrowsAsync<Containers.Oci.OciException>(() => ContainerHost.StartAsync(options, TestContext.CancellationToken));

        TestContext.WriteLine(error.Message);
        StringAssert.Contains(error.Message, hostPort.ToString(CultureInfo.InvariantCulture));
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
