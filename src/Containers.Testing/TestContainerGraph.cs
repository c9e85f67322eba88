using System.Collections.Concurrent;
using Containers.Host.Compose;
using Containers.Host.Images;
using Containers.Host.Lifecycle;

namespace Containers.Testing;

/// <summary>
/// Test containers that run together — the app and the services it needs — on private networks where they find
/// each other by alias: members start in dependency order (independent ones at the same time), each once its
/// dependencies are ready; disposing the running graph stops them in reverse. The generated
/// <c>ContainersUnderTest.Graph</c> holds every <c>ContainerUnderTest</c> and <c>ContainerDependency</c> of the project.
/// </summary>
/// <example>
/// <code>
/// await using var graph = await ContainersUnderTest.Graph.StartAsync(TestContext);
/// using var http = graph["TodoApi"].CreateHttpClient();
/// var rows = await graph["db"].ExecAsync(["psql", "-U", "todo", "-tAc", "select count(*) from todos"]);
/// </code>
/// </example>
public sealed class TestContainerGraph
{
    private static readonly ConcurrentDictionary<TestContainerGraph, Lazy<Task<RunningContainerGraph>>> Shared = new();
    private readonly Func<Action<string>?, ContainerGraph> _define;

    /// <summary>A graph named <paramref name="name"/> of <paramref name="members"/> (their names must differ).</summary>
    /// <exception cref="ArgumentException">The name is not a valid graph name, or two members share a name.</exception>
    public TestContainerGraph(string name, IEnumerable<TestContainer> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Name = GraphName(name);
        Members = members.ToList();
        var duplicate = Members.GroupBy(m => m.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two members of graph {Name} are named '{duplicate.Key}'; give each item its own Name.", nameof(members));
        }

        _define = log => Define(log);
    }

    private TestContainerGraph(string name, Func<Action<string>?, ContainerGraph> define)
    {
        Name = GraphName(name);
        Members = [];
        _define = define;
    }

    /// <summary>The graph's name (in logs, networks and volumes).</summary>
    public string Name { get; }

    /// <summary>
    /// Keep the graph running after the test run and start the next run on it when nothing changed (opt-in:
    /// MSBuild property <c>ContainerTestReuse=true</c>); <c>CONTAINERS_HOST_REUSE=false</c> turns it off for every
    /// graph, e.g. in CI. See docs/host.md, Reusing a graph across test runs.
    /// </summary>
    public bool Reuse { get; init; }

    /// <summary>With <see cref="Reuse"/>, how long the graph goes on running unused before it is stopped; null: the host's default (10 minutes). MSBuild: <c>ContainerTestReuseIdleTimeout</c>.</summary>
    public TimeSpan? ReuseIdleTimeout { get; init; }

    /// <summary>The members, in the order given.</summary>
    public IReadOnlyList<TestContainer> Members { get; }

    /// <summary>The member named <paramref name="name"/> (case-insensitive).</summary>
    public TestContainer this[string name] =>
        Members.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"The graph {Name} has no member '{name}'; it has {string.Join(", ", Members.Select(m => m.Name))}.");

    /// <summary>
    /// The graph of a compose file (docs/compose.md): its services, networks, volumes and health checks. Services built
    /// from a .NET project (<c>build:</c>) run the image the test project built for them: <paramref name="builtImages"/>
    /// maps each build context (as the file resolves it) to the OCI layout of its image, tagged <paramref name="tag"/>.
    /// The file is read when the graph starts; what it asks for that the host does not do is written to the test's log.
    /// <see cref="Members"/> is empty: the services are in <see cref="ToContainerGraph"/>.
    /// </summary>
    public static TestContainerGraph FromCompose(string name, string composeFile, IReadOnlyDictionary<string, string>? builtImages = null, string tag = ContainerUnderTest.DefaultTag)
    {
        ArgumentException.ThrowIfNullOrEmpty(composeFile);
        var images = new Dictionary<string, string>(builtImages ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        return new TestContainerGraph(name, log =>
        {
            var compose = ComposeFile.Load(composeFile);
            foreach (var warning in compose.Warnings)
            {
                log?.Invoke("Compose: " + warning);
            }

            return compose.ToGraph(new ComposeGraphOptions
            {
                BuildImage = service => images.TryGetValue(service.Build!.Context, out var layout)
                    ? (Directory.Exists(layout)
                        ? ContainerImageSource.FromOciLayout(layout, tag)
                        : throw new InvalidOperationException($"The image of compose service {service.Name} is not built: '{layout}' does not exist. Build the test project (its ContainerCompose items publish the projects their services build), and check the build output for the publish errors."))
                    : throw new InvalidOperationException($"The compose service {service.Name} is built from {service.Build.Context}, which the test project's build did not publish; add the file as a ContainerCompose item, or give its image."),
            });
        });
    }

    /// <summary>
    /// Starts every member and waits until all are ready, cancelled by the test's token. Every member's output is written
    /// to <paramref name="testContext"/> when the graph is disposed, or at once when the start fails, so a failed test
    /// shows it. <paramref name="configure"/> changes the host's graph before it starts (volumes, wiring, waits).
    /// </summary>
    /// <exception cref="ContainerGraphStartException">A member could not start; the message names it and ends with its output.</exception>
    public Task<RunningContainerGraph> StartAsync(TestContext testContext, Action<ContainerGraph>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(testContext);
        return StartCoreAsync(configure, testContext.WriteLine, (name, container) => TestContainer.WriteLogs(testContext.WriteLine, name, container), testContext.CancellationToken);
    }

    /// <summary>Starts every member and waits until all are ready.</summary>
    public Task<RunningContainerGraph> StartAsync(CancellationToken cancellationToken = default) => StartCoreAsync(null, null, null, cancellationToken);

    /// <summary>Starts every member, with the host's graph changed by <paramref name="configure"/> first.</summary>
    public Task<RunningContainerGraph> StartAsync(Action<ContainerGraph>? configure, CancellationToken cancellationToken = default) =>
        StartCoreAsync(configure, null, null, cancellationToken);

    /// <summary>
    /// One running graph for every caller in the test process, started on first use — for a class or assembly of
    /// tests. <see cref="TestContainer.DisposeSharedAsync"/> in <c>[AssemblyCleanup]</c> stops it; a graph a killed test
    /// run leaves is reaped by the next start.
    /// </summary>
    public Task<RunningContainerGraph> GetSharedAsync(CancellationToken cancellationToken = default) =>
        Shared.GetOrAdd(this, graph => new Lazy<Task<RunningContainerGraph>>(() => graph.StartCoreAsync(null, null, null, CancellationToken.None))).Value.WaitAsync(cancellationToken);

    /// <summary>
    /// The host's graph this one starts: each member with its start options, dependencies (<c>db</c> waits for db's
    /// waits, <c>db:started</c> for its process), aliases and networks.
    /// </summary>
    public ContainerGraph ToContainerGraph() => _define(null);

    /// <inheritdoc />
    public override string ToString() => $"graph {Name} ({string.Join(", ", Members.Select(m => m.Name))})";

    internal static async Task DisposeSharedGraphsAsync()
    {
        foreach (var (graph, started) in Shared.ToArray())
        {
            Shared.TryRemove(graph, out _);
            if (started.IsValueCreated && started.Value.IsCompletedSuccessfully)
            {
                await started.Value.Result.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string GraphName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var lowered = name.ToLowerInvariant();
        return Host.Networking.ContainerNetwork.ValidateName(lowered) is { } problem
            ? throw new ArgumentException($"'{name}' cannot name a graph: {problem}.", nameof(name))
            : lowered;
    }

    private ContainerGraph Define(Action<string>? log)
    {
        var graph = new ContainerGraph(Name);
        foreach (var member in Members)
        {
            var added = graph.Add(member.Name, member.CreateStartOptions(log: log));
            foreach (var dependency in member.DependsOn)
            {
                var (target, condition) = ParseDependency(member, dependency);
                added.DependsOn(target, condition);
            }

            var aliases = member.Aliases.Count == 0 ? [member.DefaultAlias] : member.Aliases.ToArray();
            foreach (var network in member.Networks.Count == 0 ? [ContainerGraph.DefaultNetwork] : member.Networks)
            {
                added.OnNetwork(network, aliases);
            }
        }

        return graph;
    }

    private static (string Member, ContainerDependencyCondition Condition) ParseDependency(TestContainer member, string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return (text.Trim(), ContainerDependencyCondition.Ready);
        }

        var condition = text[(colon + 1)..].Trim().ToLowerInvariant() switch
        {
            "started" => ContainerDependencyCondition.Started,
            "ready" or "healthy" => ContainerDependencyCondition.Ready,
            _ => throw new ArgumentException($"The DependsOn of {member.Name} has '{text}'; write NAME (started and ready), NAME:ready or NAME:started."),
        };
        return (text[..colon].Trim(), condition);
    }

    private async Task<RunningContainerGraph> StartCoreAsync(Action<ContainerGraph>? configure, Action<string>? log, Action<string, RunningContainer>? onMemberDisposing, CancellationToken cancellationToken)
    {
        var graph = _define(log);
        configure?.Invoke(graph);
        var options = new ContainerGraphOptions
        {
            Log = log,
            OnMemberDisposing = onMemberDisposing,
            Reuse = Reuse ? new ContainerReuseOptions { IdleTimeout = ReuseIdleTimeout ?? new ContainerReuseOptions().IdleTimeout } : null,
        };
        try
        {
            return await graph.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ContainerGraphStartException ex) when (log is not null)
        {
            foreach (var (member, logs) in ex.MemberLogs)
            {
                var output = logs.ToString();
                log($"--- {member} output{(member == ex.Member ? " (the member that failed)" : "")} ---");
                log(output.Length == 0 ? "(nothing)" : output);
            }

            throw;
        }
    }
}
