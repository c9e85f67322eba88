using System.Text;
using Containers.Oci;

namespace Containers.Host.Networking;

/// <summary>
/// A container's own network namespace on bridge networks (<c>/run/netns/&lt;container id&gt;</c>), made before the
/// container starts: loopback, one veth interface per network (<c>eth0</c>, <c>eth1</c>, …), and the hosts file that the
/// container sees as <c>/etc/hosts</c>, rewritten in place whenever a member of one of its networks comes or goes.
/// </summary>
internal sealed class ContainerEndpoint : IAsyncDisposable
{
    private readonly List<NetworkMember> _memberships = [];
    private readonly object _gate = new();
    private int _disposed;

    private ContainerEndpoint(string containerId, string hostsPath, string hostname)
    {
        NamespaceName = containerId;
        HostsPath = hostsPath;
        Hostname = hostname;
    }

    /// <summary>The named network namespace (the container id).</summary>
    public string NamespaceName { get; }

    /// <summary>The namespace's path, which the runtime joins.</summary>
    public string NamespacePath => IpRoute.NamespacePath(NamespaceName);

    /// <summary>The file bound onto the container's <c>/etc/hosts</c>.</summary>
    public string HostsPath { get; }

    /// <summary>The container's host name.</summary>
    public string Hostname { get; }

    /// <summary>Makes the namespace and joins <paramref name="attachments"/>; on failure undoes what was done.</summary>
    public static async Task<ContainerEndpoint> CreateAsync(string containerId, string directory, string hostname, IReadOnlyList<ContainerNetworkAttachment> attachments, CancellationToken cancellationToken)
    {
        var endpoint = new ContainerEndpoint(containerId, Path.Combine(directory, "hosts"), hostname);
        try
        {
            await IpRoute.RunAsync(null, [$"netns add {containerId}"], cancellationToken).ConfigureAwait(false);
            await IpRoute.RunAsync(containerId, ["link set lo up"], cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < attachments.Count; i++)
            {
                var network = attachments[i].Network;
                if (network.Driver.Kind != NetworkDriverKind.Bridge)
                {
                    throw new OciException($"The {network} was made for another backend than this container's; create the network with the same Backend as the containers that join it.");
                }

                var member = network.Join(containerId, attachments[i].Aliases, endpoint);
                lock (endpoint._gate)
                {
                    endpoint._memberships.Add(member);
                }

                await network.Driver.AttachAsync(member, containerId, "eth" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            }

            endpoint.WriteHostsFile();
            foreach (var member in endpoint.Memberships)
            {
                member.Network.RewriteHostsFiles(except: member);
            }

            return endpoint;
        }
        catch
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The container's memberships, one per network.</summary>
    public IReadOnlyList<NetworkMember> Memberships
    {
        get
        {
            lock (_gate)
            {
                return [.. _memberships];
            }
        }
    }

    /// <summary>Writes the hosts file: loopback names, the container's own addresses and the other members' aliases. In place (same inode), so a bind mount of it sees the change.</summary>
    public void WriteHostsFile()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var text = new StringBuilder();
        text.Append("# Written by Containers.Host: the members of this container's networks, by alias.\n");
        text.Append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        var named = new HashSet<string>(StringComparer.Ordinal) { "localhost" };
        foreach (var own in Memberships)
        {
            var names = new[] { Hostname }.Concat(own.Aliases).Where(named.Add).ToList();
            text.Append(own.Address).Append('\t').Append(names.Count == 0 ? Hostname : string.Join(' ', names)).Append('\n');
        }

        foreach (var own in Memberships)
        {
            foreach (var other in own.Network.Others(own))
            {
                var names = other.Aliases.Where(named.Add).ToList();
                if (names.Count > 0)
                {
                    text.Append(other.Address).Append('\t').Append(string.Join(' ', names)).Append('\n');
                }
            }
        }

        lock (_gate)
        {
            // FileMode.Create truncates the existing file: the inode stays, and with it the container's bind mount.
            using var stream = new FileStream(HostsPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            stream.Write(bytes);
        }
    }

    /// <summary>Leaves every network (their other members' hosts files drop this one) and deletes the namespace with its interfaces.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var member in Memberships)
        {
            member.Network.Leave(member);
        }

        await IpRoute.DeleteNamespaceAsync(NamespaceName, CancellationToken.None).ConfigureAwait(false);
    }
}
