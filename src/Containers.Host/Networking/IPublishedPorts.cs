using Containers.Host.Lifecycle;
using Containers.Oci;

namespace Containers.Host.Networking;

/// <summary>How a container's ports are reached from the host: which 127.0.0.1 port serves each container port, and a connect test inside the container's network.</summary>
internal interface IPublishedPorts : IAsyncDisposable
{
    /// <summary>The container ports published, in the order they were asked for.</summary>
    IReadOnlyList<int> ContainerPorts { get; }

    /// <summary>The 127.0.0.1 port for <paramref name="containerPort"/>, or null when it is not published.</summary>
    int? GetHostPort(int containerPort);

    /// <summary>True when a TCP connection to <paramref name="port"/> inside the container's network succeeds (what a TCP wait checks).</summary>
    Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken);
}

/// <summary>No ports: the container exited before they could be published.</summary>
internal sealed class NoPublishedPorts : IPublishedPorts
{
    public static readonly NoPublishedPorts Instance = new();

    public IReadOnlyList<int> ContainerPorts => [];

    public int? GetHostPort(int containerPort) => null;

    public Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken) => Task.FromResult(false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Ports reached directly on 127.0.0.1 with no forwarder of ours: published by a docker/podman CLI, or the container's own ports when it shares the host's network (rootless fallback).</summary>
internal sealed class DirectPorts(IReadOnlyDictionary<int, int> hostPorts, IReadOnlyList<int> order) : IPublishedPorts
{
    /// <summary>A container on the host's network (rootless, when no private network can be made): its ports are the host's own.</summary>
    public static IPublishedPorts SharedHostNetwork(string id, IReadOnlyList<int> ports, IDictionary<int, int> hostPorts, string reason, Action<string> log)
    {
        if (hostPorts.FirstOrDefault(p => p.Key != p.Value) is { Key: not 0 } moved)
        {
            throw new OciException($"Container port {moved.Key} cannot be published on 127.0.0.1:{moved.Value}: container {id} shares the host's network ({reason}), so its port {moved.Key} is the host's port {moved.Key}. Publish it on the same port ({moved.Key}:{moved.Key}), or run as root.");
        }

        log($"Rootless: container {id} shares the host's network ({reason}); its ports are the host's{(ports.Count == 0 ? "" : ": " + string.Join(", ", ports.Select(p => "127.0.0.1:" + p.ToString(System.Globalization.CultureInfo.InvariantCulture))))}.");
        return new DirectPorts(ports.ToDictionary(p => p, p => p), ports);
    }

    public IReadOnlyList<int> ContainerPorts => order;

    public int? GetHostPort(int containerPort) => hostPorts.TryGetValue(containerPort, out var port) ? port : null;

    public async Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken)
    {
        // The CLI's port publishing (netavark/docker-proxy) passes the connection on only when the app accepts it;
        // on the host's network the port is the app's own.
        var hostPort = GetHostPort(port) ?? port;
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, hostPort, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Ports published by forwarders of ours into the container's own network namespace.</summary>
internal sealed class ForwardedPorts(IInsideConnector network, IReadOnlyList<PortForwarder> forwarders) : IPublishedPorts
{
    /// <summary>Enters the network namespace of the container's process and publishes <paramref name="ports"/>.</summary>
    public static async Task<IPublishedPorts> PublishAsync(RunningContainer container, IReadOnlyList<int> ports, IDictionary<int, int> hostPorts, Action<string> log, CancellationToken cancellationToken)
    {
        NetworkNamespace network;
        try
        {
            network = await NetworkNamespace.EnterAsync(container.Pid, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // The process is gone already (a quick job, or a crash): its namespace went with it.
            if (await Task.WhenAny(container.Exited, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false) != container.Exited)
            {
                throw new ContainerStartException($"Cannot enter the container's network namespace: {ex.Message}", container.Logs, ex);
            }

            // Nothing to publish on an exited container. Whether that is the end of a job (an exit-code wait) or a
            // crash (any other wait) is for the wait strategies to say, with the container's output.
            if (ports.Count > 0)
            {
                log($"Container {container.Id} exited (code {container.Exited.Result}) before its ports could be published.");
            }

            return NoPublishedPorts.Instance;
        }

        return Publish(container.Id, network, ports, hostPorts, log);
    }

    /// <summary>Publishes <paramref name="ports"/> of a container whose connections <paramref name="network"/> makes, on the <paramref name="hostPorts"/> asked for, else free ones.</summary>
    public static IPublishedPorts Publish(string id, IInsideConnector network, IReadOnlyList<int> ports, IDictionary<int, int> hostPorts, Action<string> log)
    {
        var forwarders = new List<PortForwarder>();
        foreach (var port in ports)
        {
            PortForwarder forwarder;
            try
            {
                forwarder = new PortForwarder(network, port, hostPorts.TryGetValue(port, out var hostPort) ? hostPort : 0);
            }
            catch (OciException)
            {
                foreach (var made in forwarders)
                {
                    made.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }

                throw;
            }

            forwarders.Add(forwarder);
            log($"Container {id} port {port}/tcp published on 127.0.0.1:{forwarder.HostPort}.");
        }

        return new ForwardedPorts(network, forwarders);
    }

    public IReadOnlyList<int> ContainerPorts { get; } = forwarders.Select(f => f.ContainerPort).ToList();

    public int? GetHostPort(int containerPort) => forwarders.FirstOrDefault(f => f.ContainerPort == containerPort)?.HostPort;

    public async Task<bool> CanConnectInsideAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var socket = await network.ConnectAsync(port, TimeSpan.FromSeconds(2)).WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var forwarder in forwarders)
        {
            await forwarder.DisposeAsync().ConfigureAwait(false);
        }

        await network.DisposeAsync().ConfigureAwait(false);
    }
}
