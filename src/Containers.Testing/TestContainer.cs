using System.Collections.Concurrent;
using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Readiness;

namespace Containers.Testing;

/// <summary>
/// A container a test project declares: an app it builds (<see cref="ContainerUnderTest"/>) or an image it needs
/// (<see cref="ContainerDependency"/>). Start one alone, or several together as a <see cref="TestContainerGraph"/>,
/// where <see cref="DependsOn"/>, <see cref="Aliases"/> and <see cref="Networks"/> apply.
/// </summary>
public abstract class TestContainer
{
    private static readonly ConcurrentDictionary<TestContainer, Lazy<Task<RunningContainer>>> Shared = new();

    /// <summary>Creates a handle named <paramref name="name"/>; lower-cased, it is its default alias in a graph.</summary>
    /// <exception cref="ArgumentException">The name is not a valid member name (letters, digits, '.', '_', '-').</exception>
    protected TestContainer(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (ContainerGraph.ValidateMemberName(name) is { } problem)
        {
            throw new ArgumentException($"'{name}' cannot name a test container: {problem}. Set the item's Name metadata to one that can.", nameof(name));
        }

        Name = name;
    }

    /// <summary>The handle's name: the item's Name metadata, else its project file name or Include.</summary>
    public string Name { get; }

    /// <summary>Environment variables added to the image's (MSBuild: the <c>Environment</c> metadata, one <c>NAME=VALUE</c> per line).</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// In a graph, the members started before this one: <c>db</c> waits until db is ready (its waits passed),
    /// <c>db:started</c> only until its process runs.
    /// </summary>
    public IList<string> DependsOn { get; } = [];

    /// <summary>In a graph, the host names the other members reach this one by; none: <see cref="DefaultAlias"/>.</summary>
    public IList<string> Aliases { get; } = [];

    /// <summary>In a graph, the networks it joins; none: the graph's default network.</summary>
    public IList<string> Networks { get; } = [];

    /// <summary>Container TCP ports published on 127.0.0.1; none: the image's exposed ports.</summary>
    public IList<int> Ports { get; } = [];

    /// <summary>
    /// Waits in text form (<see cref="Wait.Parse"/>): <c>tcp:5432</c>, <c>http:/healthz</c>, <c>log:REGEX</c>,
    /// <c>healthcheck</c>, <c>exit:0</c>; none: <see cref="Wait.ForImageDefaults"/> (the image's health check, else its
    /// exposed port).
    /// </summary>
    public IList<string> Waits { get; } = [];

    /// <summary>Replaces the image's command (its entrypoint stays); empty: the image's own.</summary>
    public IList<string> Command { get; } = [];

    /// <summary>How long its waits may take; null: the host's default (60 s).</summary>
    public TimeSpan? StartupTimeout { get; set; }

    /// <summary>The image this handle runs.</summary>
    public abstract ContainerImageSource Image { get; }

    /// <summary>The name other members reach it by when <see cref="Aliases"/> is empty: <see cref="Name"/> in lower case.</summary>
    public string DefaultAlias => Name.ToLowerInvariant();

    /// <summary>
    /// Starts it alone and waits until it is ready, cancelled by the test's token; its output is written to
    /// <paramref name="testContext"/> when it is disposed, so a failed test shows it.
    /// </summary>
    public Task<RunningContainer> StartAsync(TestContext testContext, Action<ContainerStartOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(testContext);
        return StartCoreAsync(configure, container => WriteLogs(testContext.WriteLine, Name, container), testContext.WriteLine, testContext.CancellationToken);
    }

    /// <summary>Starts it alone and waits until it is ready.</summary>
    public Task<RunningContainer> StartAsync(CancellationToken cancellationToken = default) => StartCoreAsync(null, null, null, cancellationToken);

    /// <summary>Starts it alone with options changed by <paramref name="configure"/> (environment, waits, ports, timeouts).</summary>
    public Task<RunningContainer> StartAsync(Action<ContainerStartOptions>? configure, CancellationToken cancellationToken = default) =>
        StartCoreAsync(configure, null, null, cancellationToken);

    /// <summary>
    /// One container of this handle for every caller in the test process, started on first use — for a class
    /// or assembly of tests that only read from it. Stop them with <see cref="DisposeSharedAsync"/> in
    /// <c>[AssemblyCleanup]</c>; containers a killed test run leaves are reaped by the next start.
    /// </summary>
    public Task<RunningContainer> GetSharedAsync(CancellationToken cancellationToken = default) =>
        Shared.GetOrAdd(this, handle => new Lazy<Task<RunningContainer>>(() => handle.StartCoreAsync(null, null, null, CancellationToken.None))).Value.WaitAsync(cancellationToken);

    /// <summary>Stops and removes every shared container and every shared graph (<see cref="TestContainerGraph.GetSharedAsync"/>).</summary>
    public static async Task DisposeSharedAsync()
    {
        foreach (var (handle, started) in Shared.ToArray())
        {
            Shared.TryRemove(handle, out _);
            if (started.IsValueCreated && started.Value.IsCompletedSuccessfully)
            {
                await started.Value.Result.DisposeAsync().ConfigureAwait(false);
            }
        }

        await TestContainerGraph.DisposeSharedGraphsAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The start options of this handle: its image, command, environment, ports and waits (the declared ones, else
    /// <see cref="Wait.ForImageDefaults"/>), then <paramref name="configure"/>'s changes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The image cannot be there (an app whose image was not built); the message says how to fix it.</exception>
    public ContainerStartOptions CreateStartOptions(Action<ContainerStartOptions>? configure = null, Action<RunningContainer>? onDisposing = null, Action<string>? log = null)
    {
        EnsureImageAvailable();
        var options = new ContainerStartOptions
        {
            Image = Image,
            Command = Command.Count == 0 ? null : Command.ToArray(),
            OnDisposing = onDisposing,
            Log = log,
            StartupTimeout = StartupTimeout ?? ContainerStartOptions.DefaultStartupTimeout,
        };
        foreach (var (name, value) in Environment)
        {
            options.Environment[name] = value;
        }

        foreach (var port in Ports)
        {
            options.PublishedPorts.Add(port);
        }

        foreach (var wait in Waits)
        {
            options.WaitStrategies.Add(Wait.Parse(wait, $"The Wait of {Name}"));
        }

        configure?.Invoke(options);
        if (options.WaitStrategies.Count == 0)
        {
            options.WaitStrategies.Add(Wait.ForImageDefaults());
        }

        return options;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Image})";

    /// <summary>Throws a message that says how to fix it when the image cannot be there (e.g. an app that was not built).</summary>
    protected virtual void EnsureImageAvailable()
    {
    }

    internal static void WriteLogs(Action<string> write, string name, RunningContainer container)
    {
        var output = container.Logs.ToString();
        write($"--- {name} container {container.Id} output ({(container.Exited.IsCompleted ? "exit code " + container.Exited.Result : "running")}) ---");
        write(output.Length == 0 ? "(nothing)" : output);
    }

    private Task<RunningContainer> StartCoreAsync(Action<ContainerStartOptions>? configure, Action<RunningContainer>? onDisposing, Action<string>? log, CancellationToken cancellationToken) =>
        ContainerHost.StartAsync(CreateStartOptions(configure, onDisposing, log), cancellationToken);
}
