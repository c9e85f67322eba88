using System.Globalization;
using Containers.Host.Lifecycle;
using Containers.Host.Runtimes;
using Containers.Oci;

namespace Containers.Host.Networking;

/// <summary>
/// A private network that containers join with aliases: each member keeps its own network namespace and gets an
/// address on the network, every member resolves every other member by alias, and containers on different networks
/// cannot reach each other. Ports are still published on 127.0.0.1 for the test. Dispose it after its containers.
/// </summary>
/// <remarks>
/// With runc or the namespaces backend, a network is a bridge in a network namespace of its own (as root
/// <c>/run/netns/containers-sdk-net-…</c>; rootless one held in the user namespace that the process's rootless containers
/// share), each member a veth pair from that bridge into the member's namespace, and aliases are written into each
/// member's <c>/etc/hosts</c>; nothing is added to the host's own network namespace.
/// With the podman CLI, it is an internal podman network (its DNS resolves the aliases).
/// </remarks>
/// <example>
/// <code>
/// await using var network = await ContainerNetwork.CreateAsync("backend");
/// var db = new ContainerStartOptions { Image = ContainerImageSource.Parse("postgres:15") };
/// db.Networks.Add(new ContainerNetworkAttachment(network, ["db"]));
/// </code>
/// </example>
public sealed class ContainerNetwork : IAsyncDisposable
{
    /// <summary>The prefix of network ids (and of their namespaces and CLI networks).</summary>
    public const string IdPrefix = ContainerHost.IdPrefix + "net-";

    private readonly object _gate = new();
    private readonly List<NetworkMember> _members = [];
    private readonly string _directory;
    private int _disposed;

    private ContainerNetwork(string name, string id, string directory, INetworkDriver driver)
    {
        Name = name;
        Id = id;
        _directory = directory;
        Driver = driver;
    }

    /// <summary>The name it was created with (for messages and graphs).</summary>
    public string Name { get; }

    /// <summary>Its id, <see cref="IdPrefix"/> and 12 hex digits.</summary>
    public string Id { get; }

    /// <summary>Its IPv4 subnet, e.g. <c>10.89.7.0/24</c>.</summary>
    public string Subnet => Driver.Subnet;

    /// <summary>The containers on it now, with their addresses and aliases.</summary>
    public IReadOnlyList<ContainerNetworkMember> Members
    {
        get
        {
            lock (_gate)
            {
                return _members.Select(m => new ContainerNetworkMember(m.ContainerId, m.Address, m.Aliases)).ToList();
            }
        }
    }

    internal INetworkDriver Driver { get; }

    /// <summary>Creates a network for containers started with <see cref="ContainerNetworkOptions.Backend"/> (the same backend as theirs).</summary>
    /// <exception cref="OciException">The name is not a valid network name, or the backend cannot make networks here; the message says why.</exception>
    public static async Task<ContainerNetwork> CreateAsync(string name, ContainerNetworkOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (ValidateName(name) is { } problem)
        {
            throw new OciException($"'{name}' is not a network name: {problem}");
        }

        options ??= new ContainerNetworkOptions();
        var log = options.Log ?? (_ => { });
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? ContainerHost.DefaultCacheDirectory);
        var runtime = RuntimeSelector.Select(options.Backend, cacheDirectory, log)[0];
        await ContainerHost.ReapAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);

        var id = IdPrefix + Guid.NewGuid().ToString("N")[..12];
        var directory = Path.Combine(NetworksDirectory(cacheDirectory), id);
        var staging = Path.Combine(NetworksDirectory(cacheDirectory), ".new-" + id);
        Directory.CreateDirectory(staging);
        await File.WriteAllTextAsync(Path.Combine(staging, "owner"), OwnerStamp.Current, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(staging, "name"), name, cancellationToken).ConfigureAwait(false);
        Directory.Move(staging, directory);
        try
        {
            var driver = await runtime.CreateNetworkAsync(id, cacheDirectory, directory, log, cancellationToken).ConfigureAwait(false);
            log($"Network {name} ({id}, {driver.Subnet}) created for {runtime.Name}.");
            return new ContainerNetwork(name, id, directory, driver);
        }
        catch
        {
            ContainerDirectory.DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>
    /// A network that another process made and a reused graph's supervisor keeps, as it was recorded: its members are
    /// listed, nothing can join it, and disposing it removes nothing.
    /// </summary>
    internal static ContainerNetwork Recorded(string name, string id, string subnet, IEnumerable<ContainerNetworkMember> members)
    {
        var network = new ContainerNetwork(name, id, directory: "", new RecordedNetworkDriver(subnet)) { _disposed = 1 };
        foreach (var member in members)
        {
            network._members.Add(new NetworkMember(network, member.ContainerId, member.Address, member.Aliases, Endpoint: null));
        }

        return network;
    }

    /// <summary>Null when <paramref name="name"/> is a valid network name or alias (lower-case letters, digits, '.', '_', '-'; a letter or digit first; at most 63 characters), else why not.</summary>
    public static string? ValidateName(string? name) =>
        string.IsNullOrEmpty(name) ? "it is empty"
        : name.Length > 63 ? "it is longer than 63 characters"
        : !char.IsAsciiLetterOrDigit(name[0]) ? "it must start with a letter or digit"
        : name.FirstOrDefault(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-')) is var bad && bad != default
            ? $"'{bad}' is not allowed; use lower-case letters, digits, '.', '_' and '-' (it becomes a host name)"
            : null;

    /// <summary>Removes the network (and whatever of its members is still attached).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Driver.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
        ContainerDirectory.DeleteDirectory(_directory);
    }

    /// <inheritdoc />
    public override string ToString() => $"network {Name} ({Id})";

    internal static string NetworksDirectory(string cacheDirectory) => Path.Combine(cacheDirectory, "networks");

    /// <summary>Adds a member: the next free address on the network (or the one the CLI gave it), its aliases, its endpoint (whose hosts file lists the others).</summary>
    internal NetworkMember Join(string containerId, IReadOnlyList<string> aliases, ContainerEndpoint? endpoint)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(ToString(), "The network was disposed before this container joined it; dispose networks after their containers.");
        }

        lock (_gate)
        {
            foreach (var alias in aliases)
            {
                if (_members.FirstOrDefault(m => m.Aliases.Contains(alias, StringComparer.Ordinal)) is { } taken)
                {
                    throw new OciException($"The alias '{alias}' is taken on {this} by container {taken.ContainerId}; give each member its own aliases.");
                }
            }

            var address = Driver.AllocateAddress(_members.Select(m => m.Address).ToHashSet(StringComparer.Ordinal));
            var member = new NetworkMember(this, containerId, address, aliases, endpoint);
            _members.Add(member);
            return member;
        }
    }

    /// <summary>Removes a member and tells the others' hosts files.</summary>
    internal void Leave(NetworkMember member)
    {
        lock (_gate)
        {
            _members.Remove(member);
        }

        RewriteHostsFiles(except: member);
    }

    /// <summary>Every member but <paramref name="except"/>, for hosts files.</summary>
    internal IReadOnlyList<NetworkMember> Others(NetworkMember except)
    {
        lock (_gate)
        {
            return _members.Where(m => !ReferenceEquals(m, except)).ToList();
        }
    }

    /// <summary>Rewrites the hosts file of every member but <paramref name="except"/> (a member joined or left).</summary>
    internal void RewriteHostsFiles(NetworkMember except)
    {
        foreach (var other in Others(except))
        {
            other.Endpoint?.WriteHostsFile();
        }
    }

    internal static string HostAddress(string subnet, int host)
    {
        var prefix = subnet[..subnet.LastIndexOf('.')];
        return prefix + "." + host.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>How a container joins a network: which one, and the names the other members reach it by (none: only its address).</summary>
/// <param name="Network">The network.</param>
/// <param name="Aliases">Host names the other members resolve to this container on this network.</param>
public sealed record ContainerNetworkAttachment(ContainerNetwork Network, IReadOnlyList<string> Aliases);

/// <summary>A container on a network.</summary>
/// <param name="ContainerId">The container.</param>
/// <param name="Address">Its IPv4 address on the network.</param>
/// <param name="Aliases">The names it is reached by.</param>
public sealed record ContainerNetworkMember(string ContainerId, string Address, IReadOnlyList<string> Aliases);

/// <summary>How <see cref="ContainerNetwork.CreateAsync"/> makes a network.</summary>
public sealed class ContainerNetworkOptions
{
    /// <summary>The backend of the containers that join it (as in <see cref="ContainerStartOptions.Backend"/>).</summary>
    public ContainerBackendKind Backend { get; init; } = ContainerBackendKind.Automatic;

    /// <summary>The host's cache and state directory, as in <see cref="ContainerStartOptions.CacheDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Receives host diagnostics.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>A container's membership of one network.</summary>
internal sealed record NetworkMember(ContainerNetwork Network, string ContainerId, string Address, IReadOnlyList<string> Aliases, ContainerEndpoint? Endpoint);

/// <summary>What a recorded network (<see cref="ContainerNetwork.Recorded"/>) has of a driver: its subnet.</summary>
internal sealed class RecordedNetworkDriver(string subnet) : INetworkDriver
{
    public NetworkDriverKind Kind => NetworkDriverKind.Bridge;

    public string Subnet { get; } = subnet;

    public string AllocateAddress(IReadOnlySet<string> taken) => throw new InvalidOperationException("A recorded network takes no members.");

    public Task AttachAsync(NetworkMember member, NetworkNamespaceHandle containerNamespace, string interfaceName, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A recorded network takes no members.");

    public Task DeleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
