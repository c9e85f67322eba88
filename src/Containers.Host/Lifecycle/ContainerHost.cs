using System.Diagnostics;
using System.Globalization;
using Containers.Host.Images;
using Containers.Host.Readiness;
using Containers.Host.Runtimes;
using Containers.Oci;
using Containers.Oci.Models;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Runs OCI images on this machine for tests: unpacks the image (cached by layer chain), runs it under an OCI
/// runtime in its own pid, mount, ipc, uts and network namespaces, publishes its ports on free 127.0.0.1
/// ports, and waits until it is ready — with no Docker daemon.
/// </summary>
/// <example>
/// <code>
/// var options = new ContainerStartOptions { Image = ContainerImageSource.FromOciLayout("obj/container", "latest") };
/// options.WaitStrategies.Add(Wait.ForHttp("/healthz"));
/// await using var app = await ContainerHost.StartAsync(options, cancellationToken);
/// using var http = app.CreateHttpClient();
/// var body = await http.GetStringAsync("/todos", cancellationToken);
/// </code>
/// </example>
public static class ContainerHost
{
    /// <summary>The prefix of every container id, state and bundle directory the host creates.</summary>
    public const string IdPrefix = "containers-sdk-";

    /// <summary>How many unpacked images the cache keeps (most recently used first); images of live containers are always kept.</summary>
    public const int CachedImages = 8;

    /// <summary>The environment variable that names another default cache directory (a private one for a tool's tests, say).</summary>
    public const string CacheDirectoryVariable = "CONTAINERS_HOST_CACHE_DIRECTORY";

    /// <summary>
    /// The default cache and state directory: <see cref="CacheDirectoryVariable"/> when set; else, as root,
    /// <c>/var/tmp/containers-sdk-host</c>; else <c>$XDG_CACHE_HOME/containers-sdk-host</c> (<c>~/.cache/…</c>).
    /// </summary>
    public static string DefaultCacheDirectory =>
        System.Environment.GetEnvironmentVariable(CacheDirectoryVariable) is { Length: > 0 } configured
            ? configured
            : NativeMethods.GetEffectiveUserId() == 0
            ? "/var/tmp/containers-sdk-host"
            : Path.Combine(System.Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache"), "containers-sdk-host");

    /// <summary>Starts a container and waits until every wait strategy passes.</summary>
    /// <exception cref="ContainerStartException">The container exited, a wait timed out, or no runtime could start it; the message ends with its output.</exception>
    public static async Task<RunningContainer> StartAsync(ContainerStartOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = options.Log ?? (_ => { });
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? DefaultCacheDirectory);
        var candidates = RuntimeSelector.Select(options.Backend, cacheDirectory, log);
        CheckHostPorts(options);

        // Leftovers of dead test processes go first.
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(ContainerDirectory.ContainersDirectory(cacheDirectory));
        await ReapAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
        var reaped = clock.ElapsedMilliseconds;
        var directory = await ContainerDirectory.CreateAsync(cacheDirectory, cancellationToken).ConfigureAwait(false);
        ContainerLaunch? launch = null;
        try
        {
            var (image, owner) = await options.Image.LoadAsync(new ImageLoadContext(ContainerImageSource.HostPlatform, cacheDirectory, log), cancellationToken).ConfigureAwait(false);
            log($"Image {options.Image} ready {clock.ElapsedMilliseconds} ms into the start (leftovers checked in {reaped} ms).");
            RunningContainer? container = null;
            var failures = new List<string>();
            var lastLogs = new ContainerLogs();
            using (owner)
            {
                launch = new ContainerLaunch(directory, image, options, PortsToPublish(options, image.Config), log);
                for (var i = 0; i < candidates.Count && container is null; i++)
                {
                    var runtime = candidates[i];
                    RuntimeSelector.RecordBackend(directory.Path, runtime.Name);
                    await runtime.PrepareAsync(launch, cancellationToken).ConfigureAwait(false);
                    var logs = lastLogs = new ContainerLogs();
                    var started = Stopwatch.StartNew();
                    container = await RunningContainer.LaunchAsync(launch, runtime, logs, cancellationToken).ConfigureAwait(false);
                    if (container is not null)
                    {
                        log($"Container {directory.Id} started with {runtime.Name} in {started.ElapsedMilliseconds} ms (image {options.Image}).");
                        break;
                    }

                    // The runtime failed before the container existed (crun on this kernel's hybrid cgroups, say): the next one may work.
                    var failure = logs.Tail(20).ReplaceLineEndings(" ");
                    RuntimeSelector.MarkBroken(runtime.Name, failure);
                    failures.Add(runtime.Name + ": " + failure);
                    await runtime.DeleteAsync(directory.Id, CancellationToken.None).ConfigureAwait(false);
                    if (i + 1 < candidates.Count)
                    {
                        log($"The runtime {runtime.Name} could not start a container here ({failure}); trying the next one.");
                    }
                }
            }

            if (container is null)
            {
                throw new ContainerStartException($"No runtime could start {options.Image}: {string.Join("; ", failures)}.", lastLogs);
            }

            return await MakeReadyAsync(container, launch, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A container that ran was disposed (with its resources) by MakeReadyAsync; these are a start that failed before.
            if (launch is not null)
            {
                await launch.Resources.DisposeAsync().ConfigureAwait(false);
            }

            directory.Remove();
            throw;
        }
    }

    /// <summary>
    /// Removes containers left by test processes that are gone (killed test runs): stops them, deletes their
    /// runtime state and their directories. Runs at every start; containers of live processes are left alone.
    /// </summary>
    public static Task<int> ReapAsync(string cacheDirectory, Action<string>? log = null, CancellationToken cancellationToken = default) =>
        ContainerReaper.ReapAsync(cacheDirectory, log, cancellationToken);

    // Before anything is made, and the same on every backend: the CLI's port publishing (netavark's DNAT) would not
    // notice a port that something on 127.0.0.1 listens on already.
    private static void CheckHostPorts(ContainerStartOptions options)
    {
        foreach (var (containerPort, hostPort) in options.HostPorts)
        {
            if (containerPort is < 1 or > 65535 || hostPort is < 1 or > 65535)
            {
                throw new OciException($"ContainerStartOptions.HostPorts maps container port {containerPort} to host port {hostPort}; both must be TCP ports from 1 to 65535.");
            }

            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                probe.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, hostPort));
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                throw new OciException($"Cannot publish container port {containerPort} on 127.0.0.1:{hostPort}: {ex.Message}. Choose a free host port, or leave it out to take any free one.", ex);
            }
        }
    }

    private static List<int> PortsToPublish(ContainerStartOptions options, ImageConfig config) =>
        options.PublishedPorts.Count > 0 || options.HostPorts.Count > 0
            ? options.PublishedPorts.Concat(options.HostPorts.Keys).Distinct().ToList()
            : (config.Config?.ExposedPorts?.Keys ?? [])
                .Where(key => key.EndsWith("/tcp", StringComparison.Ordinal) || !key.Contains('/', StringComparison.Ordinal))
                .Select(key => int.Parse(key.Split('/')[0], NumberStyles.None, CultureInfo.InvariantCulture))
                .ToList();

    // Publishes the ports and runs the waits; a container that does not get ready is stopped and removed.
    private static async Task<RunningContainer> MakeReadyAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken)
    {
        try
        {
            await container.PublishPortsAsync(launch, cancellationToken).ConfigureAwait(false);
            launch.Options.Launched?.Invoke(container);
            await ReadinessCheck.WaitUntilReadyAsync(container, launch.Options, cancellationToken).ConfigureAwait(false);
            return container;
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
