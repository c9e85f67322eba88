using Containers.Host.Networking;
using Containers.Oci;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Several containers that run together — an app and the services it needs — on private networks where they find
/// each other by alias. <see cref="StartAsync"/> starts them in dependency order (independent ones in parallel), each
/// after its dependencies are started or ready; disposing the running graph stops them in reverse and removes its
/// networks and volumes. A member that fails fails the whole start at once, with its own output.
/// </summary>
/// <example>
/// <code>
/// var graph = new ContainerGraph("todo");
/// graph.Add("db", new ContainerStartOptions { Image = ContainerImageSource.Parse("postgres:15") })
///      .WithWait(Wait.ForTcpPort(5432));
/// graph.Add("app", new ContainerStartOptions { Image = ContainerImageSource.FromOciLayout("obj/containers/TodoApi") })
///      .DependsOn("db")
///      .WithEnvironment("ConnectionStrings__Db", g => $"Host=db;Password={g["db"].Options.Environment["POSTGRES_PASSWORD"]}");
/// await using var running = await graph.StartAsync();
/// using var http = running["app"].CreateHttpClient();
/// </code>
/// </example>
public sealed class ContainerGraph
{
    /// <summary>The network members join when they name none.</summary>
    public const string DefaultNetwork = "default";

    private readonly List<ContainerGraphMember> _members = [];
    private readonly List<string> _networks = [];
    private readonly Dictionary<string, bool> _volumes = new(StringComparer.Ordinal);

    /// <summary>Creates an empty graph named <paramref name="name"/> (in logs, networks and reuse).</summary>
    public ContainerGraph(string name)
    {
        if (ContainerNetwork.ValidateName(name) is { } problem)
        {
            throw new OciException($"'{name}' is not a graph name: {problem}");
        }

        Name = name;
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>The members, in the order they were added.</summary>
    public IReadOnlyList<ContainerGraphMember> Members => _members;

    /// <summary>The networks declared with <see cref="AddNetwork"/> (plus <see cref="DefaultNetwork"/> when a member names none).</summary>
    public IReadOnlyList<string> Networks => _networks;

    /// <summary>The member named <paramref name="name"/>.</summary>
    public ContainerGraphMember this[string name] =>
        _members.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) ?? throw new KeyNotFoundException($"The graph {Name} has no member '{name}'; it has {string.Join(", ", _members.Select(m => m.Name))}.");

    /// <summary>Adds a member; <paramref name="options"/> say what it runs (the graph's backend, cache and log apply).</summary>
    public ContainerGraphMember Add(string name, ContainerStartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ValidateMemberName(name) is { } problem)
        {
            throw new OciException($"'{name}' is not a member name: {problem} (lower-cased, it is the member's default alias)");
        }

        if (_members.Any(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new OciException($"The graph {Name} has a member '{name}' already; give each member its own name.");
        }

        var member = new ContainerGraphMember(this, name, options);
        _members.Add(member);
        return member;
    }

    /// <summary>Declares a network members can join (<see cref="ContainerGraphMember.OnNetwork"/>).</summary>
    public ContainerGraph AddNetwork(string name)
    {
        if (ContainerNetwork.ValidateName(name) is { } problem)
        {
            throw new OciException($"'{name}' is not a network name: {problem}");
        }

        if (!_networks.Contains(name))
        {
            _networks.Add(name);
        }

        return this;
    }

    /// <summary>Declares a named volume members can mount (<see cref="ContainerGraphMember.MountVolume"/>); <paramref name="keep"/> keeps it after the graph.</summary>
    public ContainerGraph AddVolume(string name, bool keep = false)
    {
        if (ContainerNetwork.ValidateName(name) is { } problem)
        {
            throw new OciException($"'{name}' is not a volume name: {problem}");
        }

        _volumes[name] = keep;
        return this;
    }

    /// <summary>The declared volumes and whether each is kept.</summary>
    public IReadOnlyDictionary<string, bool> Volumes => _volumes;

    /// <summary>
    /// Starts every member: networks and volumes first, then each member once its dependencies are started or ready,
    /// independent members at the same time. Returns when every member is ready (its waits passed).
    /// </summary>
    /// <exception cref="ContainerGraphStartException">A member could not start; the message names it and ends with its output.</exception>
    public Task<RunningContainerGraph> StartAsync(ContainerGraphOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ContainerGraphOptions();
        if (options.Reuse is not null && !OperatingSystem.IsLinux())
        {
            options.Log?.Invoke($"Reuse of graph {Name} needs Linux; it runs for this test run only.");
        }

        return options.Reuse is not null && OperatingSystem.IsLinux()
            ? ReusedGraphStarter.StartAsync(this, options, cancellationToken)
            : ContainerGraphStarter.StartAsync(this, options, cancellationToken);
    }

    /// <summary>
    /// Stops the reused graph named <paramref name="name"/> (in <paramref name="options"/>' cache) if one runs, and removes
    /// everything of it, as its idle timeout would; returns false when none ran. Test processes attached to it lose it.
    /// </summary>
    public static Task<bool> StopReusedAsync(string name, ContainerGraphOptions? options = null, CancellationToken cancellationToken = default) =>
        OperatingSystem.IsLinux() ? ReusedGraphStarter.StopAsync(name, options ?? new ContainerGraphOptions(), cancellationToken) : Task.FromResult(false);

    /// <summary>Null when <paramref name="name"/> is a valid member name (what <see cref="ContainerNetwork.ValidateName"/> allows, in either case), else why not.</summary>
    public static string? ValidateMemberName(string? name) => ContainerNetwork.ValidateName(name?.ToLowerInvariant());

    /// <summary>Checks the graph without starting anything: every dependency names a member and none closes a circle.</summary>
    /// <exception cref="OciException">A dependency names no member, or the dependencies form a circle; the message names them.</exception>
    public void Validate() => InDependencyOrder();

    /// <summary>The members in an order where every member comes after its dependencies.</summary>
    /// <exception cref="OciException">A dependency names no member, or the dependencies form a cycle.</exception>
    internal IReadOnlyList<ContainerGraphMember> InDependencyOrder()
    {
        var order = new List<ContainerGraphMember>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        void Visit(ContainerGraphMember member, Stack<string> path)
        {
            if (state.GetValueOrDefault(member.Name) == 2)
            {
                return;
            }

            if (state.GetValueOrDefault(member.Name) == 1)
            {
                throw new OciException($"The members of graph {Name} depend on each other in a circle: {string.Join(" -> ", path.Reverse().SkipWhile(n => n != member.Name))} -> {member.Name}.");
            }

            state[member.Name] = 1;
            path.Push(member.Name);
            foreach (var (dependency, _) in member.Dependencies)
            {
                var target = _members.FirstOrDefault(m => string.Equals(m.Name, dependency, StringComparison.OrdinalIgnoreCase))
                    ?? throw new OciException($"Member {member.Name} of graph {Name} depends on '{dependency}', which is not a member; add it, or remove the dependency.");
                Visit(target, path);
            }

            path.Pop();
            state[member.Name] = 2;
            order.Add(member);
        }

        foreach (var member in _members)
        {
            Visit(member, new Stack<string>());
        }

        return order;
    }
}

/// <summary>One member of a <see cref="ContainerGraph"/>: what it runs, what it needs, which networks and volumes.</summary>
public sealed class ContainerGraphMember
{
    private readonly ContainerGraph _graph;
    private readonly List<(string Member, ContainerDependencyCondition Condition)> _dependencies = [];
    private readonly List<(string Network, IReadOnlyList<string> Aliases)> _networks = [];
    private readonly List<(string Volume, string Path, bool ReadOnly)> _volumes = [];
    private readonly List<(string Name, Func<ContainerGraph, string> Value)> _wiredEnvironment = [];

    internal ContainerGraphMember(ContainerGraph graph, string name, ContainerStartOptions options)
    {
        _graph = graph;
        Name = name;
        Options = options;
    }

    /// <summary>Its name; lower-cased, its default alias on the networks it joins.</summary>
    public string Name { get; }

    /// <summary>The name the other members reach it by when it names no aliases: <see cref="Name"/> in lower case.</summary>
    public string DefaultAlias => Name.ToLowerInvariant();

    /// <summary>What it runs.</summary>
    public ContainerStartOptions Options { get; }

    /// <summary>The members it waits for, and for what.</summary>
    public IReadOnlyList<(string Member, ContainerDependencyCondition Condition)> Dependencies => _dependencies;

    /// <summary>The networks it joins with its aliases; none: <see cref="ContainerGraph.DefaultNetwork"/> with its <see cref="DefaultAlias"/>.</summary>
    public IReadOnlyList<(string Network, IReadOnlyList<string> Aliases)> Networks => _networks;

    /// <summary>The graph volumes it mounts.</summary>
    public IReadOnlyList<(string Volume, string Path, bool ReadOnly)> VolumeMounts => _volumes;

    /// <summary>The environment variables computed from the graph when it starts.</summary>
    public IReadOnlyList<(string Name, Func<ContainerGraph, string> Value)> WiredEnvironment => _wiredEnvironment;

    /// <summary>Starts this member only after <paramref name="member"/> is ready (its waits passed) or, with <see cref="ContainerDependencyCondition.Started"/>, running.</summary>
    public ContainerGraphMember DependsOn(string member, ContainerDependencyCondition condition = ContainerDependencyCondition.Ready)
    {
        ArgumentException.ThrowIfNullOrEmpty(member);
        _dependencies.RemoveAll(d => d.Member == member);
        _dependencies.Add((member, condition));
        return this;
    }

    /// <summary>Joins the graph network <paramref name="network"/> (declared on the fly), reached there as <paramref name="aliases"/> (none: its name).</summary>
    public ContainerGraphMember OnNetwork(string network, params string[] aliases)
    {
        _graph.AddNetwork(network);
        foreach (var alias in aliases)
        {
            if (ContainerNetwork.ValidateName(alias) is { } problem)
            {
                throw new OciException($"'{alias}' (an alias of {Name}) is not a host name: {problem}");
            }
        }

        _networks.RemoveAll(n => n.Network == network);
        _networks.Add((network, aliases.Length == 0 ? [DefaultAlias] : aliases));
        return this;
    }

    /// <summary>Mounts the graph volume <paramref name="volume"/> (declared on the fly, not kept) at <paramref name="containerPath"/>.</summary>
    public ContainerGraphMember MountVolume(string volume, string containerPath, bool readOnly = false)
    {
        if (!_graph.Volumes.ContainsKey(volume))
        {
            _graph.AddVolume(volume);
        }

        _volumes.Add((volume, containerPath, readOnly));
        return this;
    }

    /// <summary>Sets <paramref name="name"/> from the graph's definition when it starts, e.g. a connection string with another member's alias and password.</summary>
    public ContainerGraphMember WithEnvironment(string name, Func<ContainerGraph, string> value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        _wiredEnvironment.Add((name, value));
        return this;
    }

    /// <summary>Adds a wait strategy (the member is ready when all of its waits pass).</summary>
    public ContainerGraphMember WithWait(Readiness.IContainerWaitStrategy wait)
    {
        Options.WaitStrategies.Add(wait);
        return this;
    }

    /// <inheritdoc />
    public override string ToString() => $"{_graph.Name}/{Name}";
}

/// <summary>What a member waits for before it starts.</summary>
public enum ContainerDependencyCondition
{
    /// <summary>The dependency's process runs (compose's <c>service_started</c>).</summary>
    Started,

    /// <summary>The dependency's waits passed (compose's <c>service_healthy</c>).</summary>
    Ready,
}

/// <summary>How <see cref="ContainerGraph.StartAsync"/> runs a graph.</summary>
public sealed class ContainerGraphOptions
{
    /// <summary>The backend of every member and network (they must share one).</summary>
    public Runtimes.ContainerBackendKind Backend { get; init; } = Runtimes.ContainerBackendKind.Automatic;

    /// <summary>The host's cache and state directory.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Receives host diagnostics, each line prefixed with the member's name.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Called for each member when it is disposed, after it stopped (e.g. to attach its output to a test); for a reused graph, when it is let go (it goes on running).</summary>
    public Action<string, RunningContainer>? OnMemberDisposing { get; init; }

    /// <summary>
    /// Reuse the graph across test runs (null: start it for this run only). A reused graph outlives the test process: the
    /// next <see cref="ContainerGraph.StartAsync"/> of a graph with the same name and the same definition (image digests,
    /// commands, environment, ports, networks, volumes, files, waits, backend) finds it running and attaches to it in
    /// milliseconds; a changed definition replaces it; it stops after <see cref="ContainerReuseOptions.IdleTimeout"/>
    /// without a test process using it. <c>CONTAINERS_HOST_REUSE=false</c> turns reuse off everywhere (e.g. in CI).
    /// </summary>
    public ContainerReuseOptions? Reuse { get; init; }

    /// <summary>The supervisor a reused graph's members are handed to (set by the reuse start, not by callers).</summary>
    internal SupervisorConnection? Supervisor { get; init; }
}

/// <summary>
/// A started <see cref="ContainerGraph"/>. Dispose it to stop every member (dependents first) and remove the graph's networks
/// and volumes — or, for a reused graph (<see cref="ContainerGraphOptions.Reuse"/>), to let go of it: it goes on running for
/// the next test run.
/// </summary>
public sealed class RunningContainerGraph : IAsyncDisposable
{
    private readonly IReadOnlyList<(string Name, RunningContainer Container)> _startOrder;
    private readonly IReadOnlyList<IAsyncDisposable> _resources;
    private readonly SupervisorConnection? _lease;
    private int _disposed;

    internal RunningContainerGraph(ContainerGraph graph, IReadOnlyList<(string Name, RunningContainer Container)> startOrder, IReadOnlyDictionary<string, ContainerNetwork> networks, IReadOnlyList<IAsyncDisposable> resources, IReadOnlyDictionary<string, TimeSpan> startTimes, TimeSpan elapsed, SupervisorConnection? lease = null, string? reuseKey = null, bool foundRunning = false)
    {
        Graph = graph;
        _startOrder = startOrder;
        Networks = networks;
        _resources = resources;
        MemberStartTimes = startTimes;
        StartTime = elapsed;
        _lease = lease;
        ReuseKey = reuseKey;
        FoundRunning = foundRunning;
    }

    /// <summary>The graph's definition.</summary>
    public ContainerGraph Graph { get; }

    /// <summary>The members by name.</summary>
    public IReadOnlyDictionary<string, RunningContainer> Members => _startOrder.ToDictionary(m => m.Name, m => m.Container, StringComparer.OrdinalIgnoreCase);

    /// <summary>The member named <paramref name="name"/>.</summary>
    public RunningContainer this[string name] =>
        _startOrder.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)).Container ?? throw new KeyNotFoundException($"The graph {Graph.Name} has no member '{name}'; it has {string.Join(", ", _startOrder.Select(m => m.Name))}.");

    /// <summary>The graph's networks by name.</summary>
    public IReadOnlyDictionary<string, ContainerNetwork> Networks { get; }

    /// <summary>How long each member took from its own start call until it was ready (found running: until its waits passed again).</summary>
    public IReadOnlyDictionary<string, TimeSpan> MemberStartTimes { get; }

    /// <summary>How long the whole start took.</summary>
    public TimeSpan StartTime { get; }

    /// <summary>The reuse key (<c>sha256:…</c> of the graph's definition as it starts) when the graph is reused; null otherwise.</summary>
    public string? ReuseKey { get; }

    /// <summary>True when this start found the reused graph running (started by an earlier test run) instead of starting it.</summary>
    public bool FoundRunning { get; }

    /// <summary>The last <paramref name="lines"/> lines of every member's output, member by member.</summary>
    public string DescribeLogs(int lines = 50) =>
        string.Join(System.Environment.NewLine, _startOrder.Select(m => $"--- {m.Name} ({m.Container.Id}, {(m.Container.Exited.IsCompleted ? "exit code " + ExitCodes.Describe(m.Container.Exited.Result) : "running")}) ---{System.Environment.NewLine}{m.Container.Logs.Tail(lines)}"));

    /// <summary>Stops every member, dependents first, then removes the networks and volumes; a reused graph is let go instead and goes on running.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var (_, container) in _startOrder.Reverse())
        {
            await container.DisposeAsync().ConfigureAwait(false);
        }

        if (_lease is not null)
        {
            await _lease.DisposeAsync().ConfigureAwait(false);
            return;
        }

        foreach (var resource in _resources.Reverse())
        {
            await resource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The members in start order.</summary>
    internal IReadOnlyList<(string Name, RunningContainer Container)> StartOrder => _startOrder;

    /// <summary>The networks and volumes the start made.</summary>
    internal IReadOnlyList<IAsyncDisposable> Resources => _resources;

    /// <summary>The same graph, now owned by its reuse supervisor: disposing it releases <paramref name="lease"/> and leaves everything running.</summary>
    internal RunningContainerGraph HandOver(SupervisorConnection lease, string key)
    {
        foreach (var (_, container) in _startOrder)
        {
            container.HandOver();
        }

        Interlocked.Exchange(ref _disposed, 1);
        return new RunningContainerGraph(Graph, _startOrder, Networks, [], MemberStartTimes, StartTime, lease, key, foundRunning: false);
    }
}

/// <summary>A graph member could not start: <see cref="Member"/> names it; the message ends with its output.</summary>
public sealed class ContainerGraphStartException : OciException
{
    internal ContainerGraphStartException(string graph, string member, Exception inner, IReadOnlyDictionary<string, ContainerLogs> memberLogs)
        : base($"Graph {graph}: member {member} could not start. {inner.Message}", inner)
    {
        Member = member;
        MemberLogs = memberLogs;
    }

    /// <summary>The member that failed first.</summary>
    public string Member { get; }

    /// <summary>The output of every member that ran, by name.</summary>
    public IReadOnlyDictionary<string, ContainerLogs> MemberLogs { get; }
}
