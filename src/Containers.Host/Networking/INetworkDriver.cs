namespace Containers.Host.Networking;

/// <summary>What makes a <see cref="ContainerNetwork"/> real for one kind of backend.</summary>
internal interface INetworkDriver
{
    /// <summary>Which containers can join: those whose runtime makes endpoints of this kind.</summary>
    NetworkDriverKind Kind { get; }

    /// <summary>The network's IPv4 subnet.</summary>
    string Subnet { get; }

    /// <summary>A free address for a new member (the CLI's networks assign their own: a placeholder until the member runs).</summary>
    string AllocateAddress(IReadOnlySet<string> taken);

    /// <summary>Connects the member's namespace to the network (bridge networks: a veth pair; CLI networks: nothing, the CLI does it at run).</summary>
    Task AttachAsync(NetworkMember member, NetworkNamespaceHandle containerNamespace, string interfaceName, CancellationToken cancellationToken);

    /// <summary>Removes the network.</summary>
    Task DeleteAsync(CancellationToken cancellationToken);
}

/// <summary>The kinds of network; a container joins only a network of its runtime's kind.</summary>
internal enum NetworkDriverKind
{
    /// <summary>A bridge in a network namespace of its own and veth pairs (runc or the namespaces backend; root or rootless).</summary>
    Bridge,

    /// <summary>A network of the docker/podman CLI.</summary>
    Cli,
}

/// <summary>
/// The bridge network: <c>br0</c> in a network namespace of its own (as root <c>/run/netns/&lt;network id&gt;</c>, rootless
/// one held in the rootless user namespace, like its members'), a /24 subnet, members .2 upwards.
/// </summary>
internal sealed class BridgeNetworkDriver : INetworkDriver
{
    // Subnets of this process's live networks: a container on two networks must not see one subnet twice. Networks of
    // other processes may repeat a subnet: each bridge lives in its own namespace, so they never meet.
    private static readonly HashSet<int> UsedSubnets = [];
    private readonly string _id;
    private readonly int _subnet;
    private readonly NetworkNamespaceHandle _namespace;

    private BridgeNetworkDriver(string id, int subnet, NetworkNamespaceHandle networkNamespace)
    {
        _id = id;
        _subnet = subnet;
        _namespace = networkNamespace;
    }

    public NetworkDriverKind Kind => NetworkDriverKind.Bridge;

    public string Subnet => $"10.89.{_subnet}.0/24";

    /// <summary>Makes the network: <paramref name="createNamespace"/> makes its namespace with the ip commands it is given (the bridge).</summary>
    public static async Task<BridgeNetworkDriver> CreateAsync(string id, Func<IReadOnlyList<string>, Task<NetworkNamespaceHandle>> createNamespace, CancellationToken cancellationToken)
    {
        int subnet;
        lock (UsedSubnets)
        {
            subnet = Enumerable.Range(1, 254).Select(i => (i + Random.Shared.Next(254)) % 254 + 1).FirstOrDefault(n => !UsedSubnets.Contains(n));
            if (subnet == 0)
            {
                throw new Oci.OciException("This process has 254 container networks already; dispose networks that are no longer used.");
            }

            UsedSubnets.Add(subnet);
        }

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var networkNamespace = await createNamespace(["link add br0 type bridge", "link set br0 up"]).ConfigureAwait(false);
            return new BridgeNetworkDriver(id, subnet, networkNamespace);
        }
        catch
        {
            Release(subnet);
            throw;
        }
    }

    public string AllocateAddress(IReadOnlySet<string> taken)
    {
        for (var host = 2; host < 255; host++)
        {
            var address = ContainerNetwork.HostAddress(Subnet, host);
            if (!taken.Contains(address))
            {
                return address;
            }
        }

        throw new Oci.OciException($"The network {_id} has no free address left ({Subnet}: 253 members).");
    }

    public async Task AttachAsync(NetworkMember member, NetworkNamespaceHandle containerNamespace, string interfaceName, CancellationToken cancellationToken)
    {
        // The bridge's end is named after the container (unique in the bridge's namespace, at most 15 characters); ip
        // opens the other namespace by its path (a name without '/' would be looked for under /run/netns).
        var hostEnd = "v" + member.ContainerId[^12..];
        await _namespace.RunIpAsync([$"link add {hostEnd} type veth peer name {interfaceName} netns {containerNamespace.Path}", $"link set {hostEnd} master br0 up"], cancellationToken).ConfigureAwait(false);
        await containerNamespace.RunIpAsync([$"addr add {member.Address}/24 dev {interfaceName}", $"link set {interfaceName} up"], cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(CancellationToken cancellationToken)
    {
        await _namespace.DisposeAsync().ConfigureAwait(false);
        Release(_subnet);
    }

    private static void Release(int subnet)
    {
        lock (UsedSubnets)
        {
            UsedSubnets.Remove(subnet);
        }
    }
}
