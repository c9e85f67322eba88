using System.Text;
using Containers.Oci;

namespace Containers.Host.Networking;

/// <summary>
/// A container's memberships of bridge networks, in its own network namespace (made before the container starts, and
/// owned by the launch: <c>/run/netns/&lt;container id&gt;</c> as root, a held namespace rootless): one veth interface per
/// network (<c>eth0</c>, <c>eth1</c>, …), and the hosts file that the container sees as <c>/etc/hosts</c>, rewritten in
/// place whenever a member of one of its networks comes or goes.
/// </summary>
internal sealed class ContainerEndpoint : IAsyncDisposable
{
    private readonly List<NetworkMember> _memberships = [];
    private readonly object _gate = new();
    private int _disposed;

    private ContainerEndpoint(NetworkNamespaceHandle networkNamespace, string hostsPath, string hostname)
    {
        Namespace = networkNamespace;
        HostsPath = hostsPath;
        Hostname = hostname;
    }

    /// <summary>The container's network namespace.</summary>
    public NetworkNamespaceHandle Namespace { get; }

    /// <summary>The file bound onto the container's <c>/etc/hosts</c>.</summary>
    public string HostsPath { get; }

    /// <summary>The container's host name.</summary>
    public string Hostname { get; }

    /// <summary>Joins <paramref name="attachments"/> in <paramref name="networkNamespace"/> (which the caller owns); on failure leaves them again.</summary>
    public static async Task<ContainerEndpoint> CreateAsync(string containerId, NetworkNamespaceHandle networkNamespace, string directory, string hostname, IReadOnlyList<ContainerNetworkAttachment> attachments, CancellationToken cancellationToken)
    {
        var endpoint = new ContainerEndpoint(networkNamespace, Path.Combine(directory, "hosts"), hostname);
        try
        {
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

                await network.Driver.AttachAsync(member, networkNamespace, "eth" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Leaves every network (their other members' hosts files drop this one); the interfaces go with the namespace.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (var member in Memberships)
            {
                member.Network.Leave(member);
            }
        }

        return ValueTask.CompletedTask;
    }
}
