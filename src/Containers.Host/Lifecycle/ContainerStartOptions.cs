using Containers.Host.Images;
using Containers.Host.Readiness;
using Containers.Host.Runtimes;

namespace Containers.Host.Lifecycle;

/// <summary>How <see cref="ContainerHost.StartAsync"/> runs an image.</summary>
public sealed class ContainerStartOptions
{
    /// <summary>The image to run.</summary>
    public required ContainerImageSource Image { get; init; }

    /// <summary>Replaces the image's Cmd (its Entrypoint is kept); null runs the image's own.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Environment variables added to (or replacing those of) the image's Env.</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Container TCP ports to publish on free 127.0.0.1 ports; empty publishes the image's ExposedPorts (TCP).
    /// </summary>
    public IList<int> PublishedPorts { get; } = [];

    /// <summary>Checks that must all pass before <see cref="ContainerHost.StartAsync"/> returns; none means "the process started".</summary>
    public IList<IContainerWaitStrategy> WaitStrategies { get; } = [];

    /// <summary>How long the waits may take in total.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stop waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Which backend runs the container; <see cref="ContainerBackendKind.Automatic"/> also honours the CONTAINERS_HOST_BACKEND environment variable.</summary>
    public ContainerBackendKind Backend { get; init; } = ContainerBackendKind.Automatic;

    /// <summary>Receives host diagnostics: the backend chosen, fallbacks, published ports.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Called when the container is disposed, after it stopped and before its files go, with everything it
    /// wrote — e.g. to attach the output to a test's results.
    /// </summary>
    public Action<RunningContainer>? OnDisposing { get; init; }

    /// <summary>The root filesystem cache and container state; default <c>/var/tmp/containers-sdk-host</c> (or <c>$XDG_CACHE_HOME/containers-sdk-host</c> when not root).</summary>
    public string? CacheDirectory { get; init; }
}
