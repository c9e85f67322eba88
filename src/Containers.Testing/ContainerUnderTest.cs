using System.Collections.Concurrent;
using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Readiness;
using Containers.Oci;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Containers.Testing;

/// <summary>
/// An app whose image the test project builds (a <c>ContainerUnderTest</c> item): start it for a test, or
/// share one container across a class or the whole assembly. The generated <c>ContainersUnderTest</c> class
/// has one per item.
/// </summary>
/// <example>
/// <code>
/// [TestMethod]
/// public async Task Healthz_answers()
/// {
///     await using var app = await ContainersUnderTest.WebApi.StartAsync(TestContext);
///     using var http = app.CreateHttpClient();
///     Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/healthz", TestContext.CancellationToken)).StatusCode);
/// }
/// </code>
/// </example>
public sealed class ContainerUnderTest
{
    /// <summary>The tag the package's targets give the image in its layout.</summary>
    public const string DefaultTag = "test";

    private static readonly ConcurrentDictionary<ContainerUnderTest, Lazy<Task<RunningContainer>>> Shared = new();

    /// <summary>Creates a handle for the image tagged <paramref name="tag"/> in the OCI layout <paramref name="layoutDirectory"/>.</summary>
    public ContainerUnderTest(string name, string layoutDirectory, string tag = DefaultTag)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(layoutDirectory);
        Name = name;
        LayoutDirectory = layoutDirectory;
        Tag = tag;
    }

    /// <summary>The app's name (its project file name, or the item's Name metadata).</summary>
    public string Name { get; }

    /// <summary>The OCI layout the app's image is built into.</summary>
    public string LayoutDirectory { get; }

    /// <summary>The image's tag in the layout.</summary>
    public string Tag { get; }

    /// <summary>
    /// Starts the app and waits until it is ready, cancelled by the test's token; the container's output is
    /// written to <paramref name="testContext"/> when it is disposed, so a failed test shows it.
    /// </summary>
    public Task<RunningContainer> StartAsync(TestContext testContext, Action<ContainerStartOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(testContext);
        return StartCoreAsync(configure, container => WriteLogs(testContext, container), testContext.WriteLine, testContext.CancellationToken);
    }

    /// <summary>Starts the app and waits until it is ready (see <see cref="DefaultWaitsAsync"/>).</summary>
    public Task<RunningContainer> StartAsync(CancellationToken cancellationToken = default) => StartCoreAsync(null, null, null, cancellationToken);

    /// <summary>Starts the app with options changed by <paramref name="configure"/> (environment, waits, ports, timeouts).</summary>
    public Task<RunningContainer> StartAsync(Action<ContainerStartOptions>? configure, CancellationToken cancellationToken = default) =>
        StartCoreAsync(configure, null, null, cancellationToken);

    /// <summary>
    /// One container of this app for every caller in the test process, started on first use — for a class
    /// or assembly of tests that only read from it. Stop them with <see cref="DisposeSharedAsync"/> in
    /// <c>[AssemblyCleanup]</c>; containers a killed test run leaves are reaped by the next start.
    /// </summary>
    public Task<RunningContainer> GetSharedAsync(CancellationToken cancellationToken = default) =>
        Shared.GetOrAdd(this, handle => new Lazy<Task<RunningContainer>>(() => handle.StartCoreAsync(null, null, null, CancellationToken.None))).Value.WaitAsync(cancellationToken);

    /// <summary>Stops and removes every shared container.</summary>
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
    }

    /// <summary>
    /// The waits used when the caller adds none: the image's health check when it declares one
    /// (<c>[assembly: ContainerHealthCheck]</c>), else a TCP connect to its first exposed port, else none.
    /// </summary>
    public async Task<IReadOnlyList<IContainerWaitStrategy>> DefaultWaitsAsync(CancellationToken cancellationToken = default)
    {
        var image = await OciLayout.Open(LayoutDirectory).ReadImageAsync(Tag, ContainerImageSource.HostPlatform, cancellationToken).ConfigureAwait(false);
        var config = image.Config.Config;
        if (config?.Labels?.ContainsKey("dev.containers-sdk.health-check") == true)
        {
            return [Wait.ForHealthCheck()];
        }

        var port = config?.ExposedPorts?.Keys.FirstOrDefault(key => key.EndsWith("/tcp", StringComparison.Ordinal) || !key.Contains('/', StringComparison.Ordinal));
        return port is null ? [] : [Wait.ForTcpPort(int.Parse(port.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({LayoutDirectory}:{Tag})";

    private async Task<RunningContainer> StartCoreAsync(Action<ContainerStartOptions>? configure, Action<RunningContainer>? onDisposing, Action<string>? log, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(LayoutDirectory))
        {
            throw new InvalidOperationException($"The image of {Name} is not built: '{LayoutDirectory}' does not exist. Build the test project (its ContainerUnderTest items publish the apps' images after Build), and check the build output for the app's publish errors.");
        }

        var options = new ContainerStartOptions
        {
            Image = ContainerImageSource.FromOciLayout(LayoutDirectory, Tag),
            OnDisposing = onDisposing,
            Log = log,
        };
        configure?.Invoke(options);
        if (options.WaitStrategies.Count == 0)
        {
            foreach (var wait in await DefaultWaitsAsync(cancellationToken).ConfigureAwait(false))
            {
                options.WaitStrategies.Add(wait);
            }
        }

        return await ContainerHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
    }

    private void WriteLogs(TestContext testContext, RunningContainer container)
    {
        var output = container.Logs.ToString();
        testContext.WriteLine($"--- {Name} container {container.Id} output ({(container.Exited.IsCompleted ? "exit code " + container.Exited.Result : "running")}) ---");
        testContext.WriteLine(output.Length == 0 ? "(nothing)" : output);
    }
}
