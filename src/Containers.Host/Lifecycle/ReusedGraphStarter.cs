using System.Diagnostics;
using System.Globalization;
using System.Text;
using Containers.Host.Images;
using Containers.Host.Networking;
using Containers.Host.Readiness;
using Containers.Host.Runtimes;
using Containers.Host.Storage;
using Containers.Oci;
using Containers.Oci.Json;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Starts a graph with <see cref="ContainerGraphOptions.Reuse"/>: under the graph's lock, attaches to the running graph
/// when its key matches (and no member has ended unexpectedly since), replaces it when the key changed, removes what a
/// killed supervisor left, and otherwise starts it afresh, with everything it makes owned by a new supervisor.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class ReusedGraphStarter
{
    public static async Task<RunningContainerGraph> StartAsync(ContainerGraph graph, ContainerGraphOptions options, CancellationToken cancellationToken)
    {
        var log = options.Log ?? (_ => { });
        if (ContainerReuseOptions.IsTurnedOff)
        {
            log($"Reuse is turned off ({ContainerReuseOptions.EnvironmentVariable}={System.Environment.GetEnvironmentVariable(ContainerReuseOptions.EnvironmentVariable)}): graph {graph.Name} runs for this test run only.");
            return await ContainerGraphStarter.StartAsync(graph, Plain(options), cancellationToken).ConfigureAwait(false);
        }

        if (options.Reuse!.IdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ContainerReuseOptions.IdleTimeout is {options.Reuse.IdleTimeout}; give it a positive time, e.g. TimeSpan.FromMinutes(10).", nameof(options));
        }

        var clock = Stopwatch.StartNew();
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? ContainerHost.DefaultCacheDirectory);
        var paths = new ReusePaths(cacheDirectory, graph.Name);
        var selected = RuntimeSelector.Select(options.Backend, cacheDirectory, log)[0];
        if (!selected.SupportsReuse)
        {
            log($"Graph {graph.Name} cannot be reused with {selected.Name} rootless (its containers' user namespace and port forwarder live as long as this process); it runs for this test run only. Run as root, or with the podman CLI, to reuse it.");
            return await ContainerGraphStarter.StartAsync(graph, Plain(options), cancellationToken).ConfigureAwait(false);
        }

        var runtime = selected.Name;
        var recorded = ReuseState.TryRead(paths.State);
        var images = await ResolveImagesAsync(graph, cacheDirectory, recorded, log, cancellationToken).ConfigureAwait(false);
        var description = ReuseKey.Describe(graph, images, runtime);

        // The same description has the same key: a start that attaches need not hash it (SHA-256's first use loads OpenSSL).
        var key = recorded is not null && recorded.Description == description ? recorded.Key : ReuseKey.Hash(description);

        using var graphLock = await LockAsync(paths, log, cancellationToken).ConfigureAwait(false);
        try
        {
            var supervisor = OwnerStamp.Read(paths.SupervisorStamp);
            if (supervisor is not null && OwnerStamp.IsAlive(supervisor))
            {
                var state = ReuseState.TryRead(paths.State);
                if (state is null)
                {
                    log($"Graph {graph.Name}: an earlier start of it did not finish; its supervisor (pid {OwnerStamp.Pid(supervisor)}) removes what it made.");
                }
                else if (state.Key != key)
                {
                    log($"Graph {graph.Name} changed (key {ReuseKey.Short(state.Key)}≠{ReuseKey.Short(key)}: {ReuseKey.Differences(state.Description, description)}): replacing it.");
                    WarnAboutUnstableWiring(graph, log);
                }
                else if (await TryAttachAsync(graph, options, paths, state, clock, log, cancellationToken).ConfigureAwait(false) is { } attached)
                {
                    return attached;
                }

                await StopSupervisorAsync(paths, supervisor, state, log, cancellationToken).ConfigureAwait(false);
            }
            else if (Directory.Exists(paths.Directory))
            {
                log($"Graph {graph.Name}: its supervisor{(supervisor is null ? "" : $" (pid {OwnerStamp.Pid(supervisor)})")} is gone; removing what it left and starting the graph again.");
                await ContainerHost.ReapAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
                ContainerDirectory.DeleteDirectory(paths.Directory);
            }

            return await StartFreshAsync(graph, options, paths, graph.InDependencyOrder(), key, description, images, runtime, clock, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!Directory.Exists(paths.Directory))
            {
                graphLock.DeleteFile();
            }
        }
    }

    /// <summary>Stops the reused graph <paramref name="name"/> if one runs; false when none did.</summary>
    public static async Task<bool> StopAsync(string name, ContainerGraphOptions options, CancellationToken cancellationToken)
    {
        var log = options.Log ?? (_ => { });
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? ContainerHost.DefaultCacheDirectory);
        var paths = new ReusePaths(cacheDirectory, name);
        if (!Directory.Exists(paths.Directory))
        {
            return false;
        }

        using var graphLock = await LockAsync(paths, log, cancellationToken).ConfigureAwait(false);
        try
        {
            var supervisor = OwnerStamp.Read(paths.SupervisorStamp);
            if (supervisor is not null && OwnerStamp.IsAlive(supervisor))
            {
                await StopSupervisorAsync(paths, supervisor, ReuseState.TryRead(paths.State), log, cancellationToken).ConfigureAwait(false);
                log($"Graph {name} stopped.");
                return true;
            }

            if (Directory.Exists(paths.Directory))
            {
                await ContainerHost.ReapAsync(cacheDirectory, log, cancellationToken).ConfigureAwait(false);
                ContainerDirectory.DeleteDirectory(paths.Directory);
            }

            return false;
        }
        finally
        {
            if (!Directory.Exists(paths.Directory))
            {
                graphLock.DeleteFile();
            }
        }
    }

    private static ContainerGraphOptions Plain(ContainerGraphOptions options, SupervisorConnection? supervisor = null, string? cacheDirectory = null) => new()
    {
        Backend = options.Backend,
        CacheDirectory = cacheDirectory ?? options.CacheDirectory,
        Log = options.Log,
        OnMemberDisposing = options.OnMemberDisposing,
        Supervisor = supervisor,
    };

    private static async Task<FileLock> LockAsync(ReusePaths paths, Action<string> log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Root);
        if (FileLock.TryExclusiveCurrent(paths.Lock) is { } held)
        {
            return held;
        }

        log($"Graph {paths.Graph} is being started or stopped by another process; waiting for it ({paths.Lock}).");
        return await FileLock.ExclusiveAsync(paths.Lock, cancellationToken).ConfigureAwait(false);
    }

    // Each member's image as it would start now: a layout's or archive's manifest, a registry tag's current digest. An
    // image whose source has the fingerprint recorded by the running graph is that graph's (not read again).
    private static async Task<Dictionary<string, ReusedImage>> ResolveImagesAsync(ContainerGraph graph, string cacheDirectory, ReuseState? running, Action<string> log, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, ReusedImage>(StringComparer.Ordinal);
        var toLoad = new List<ContainerGraphMember>();
        foreach (var member in graph.Members)
        {
            var fingerprint = member.Options.Image.Fingerprint;
            if (fingerprint is not null && running?.Members.FirstOrDefault(m => m.Name == member.Name)?.Image is { } recorded && recorded.Fingerprint == fingerprint)
            {
                resolved[member.Name] = recorded;
            }
            else
            {
                toLoad.Add(member);
            }
        }

        if (toLoad.Count > 0)
        {
            var context = new ImageLoadContext(ContainerImageSource.HostPlatform, cacheDirectory, log);
            var loaded = await Task.WhenAll(toLoad.Select(member => LoadImageAsync(member.Options.Image, context, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < toLoad.Count; i++)
            {
                resolved[toLoad[i].Name] = loaded[i];
            }
        }

        return resolved;
    }

    private static async Task<ReusedImage> LoadImageAsync(ContainerImageSource source, ImageLoadContext context, CancellationToken cancellationToken)
    {
        var fingerprint = source.Fingerprint;
        var (image, owner) = await source.LoadAsync(context, cancellationToken).ConfigureAwait(false);
        using (owner)
        {
            return new ReusedImage(fingerprint, image.ManifestDescriptor.Digest.ToString(), Encoding.UTF8.GetString(image.ConfigBytes.Span));
        }
    }

    private static void WarnAboutUnstableWiring(ContainerGraph graph, Action<string> log)
    {
        foreach (var member in graph.Members)
        {
            if (member.WiredEnvironment.Count == 0)
            {
                continue;
            }

            var first = ReuseKey.WiredEnvironment(graph, member);
            var second = ReuseKey.WiredEnvironment(graph, member);
            foreach (var (name, value) in first)
            {
                if (second[name] != value)
                {
                    log($"Graph {graph.Name}: member {member.Name}'s {name} (WithEnvironment) is different each time it is computed, so the graph's key is too and it is replaced at every start; compute it from the graph's definition only (no random values) to reuse it.");
                }
            }
        }
    }

    private static async Task<RunningContainerGraph?> TryAttachAsync(ContainerGraph graph, ContainerGraphOptions options, ReusePaths paths, ReuseState state, Stopwatch clock, Action<string> log, CancellationToken cancellationToken)
    {
        var connection = await SupervisorConnection.ConnectAsync(paths.SocketName, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            log($"Graph {graph.Name}: its supervisor does not answer: replacing it.");
            return null;
        }

        var members = new List<(string Name, RunningContainer Container)>();
        try
        {
            var reply = await connection.RequestAsync("attach", TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (!reply.StartsWith("ok", StringComparison.Ordinal))
            {
                log($"Graph {graph.Name}: its supervisor is stopping it ({reply}).");
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            // Made when first used (exec, stop, reading files): finding it costs more than the rest of an attach.
            var runtime = new LazyRuntime(state.Runtime, () => RuntimeSelector.Named(state.Runtime, paths.CacheDirectory));
            foreach (var recorded in state.Members)
            {
                var member = graph[recorded.Name];
                var directory = ContainerDirectory.Open(paths.CacheDirectory, recorded.Id);
                if (!Directory.Exists(directory.Path))
                {
                    throw new ContainerStartException($"Its container {recorded.Id} is gone.", new ContainerLogs());
                }

                var container = RunningContainer.Attach(
                    recorded.Id,
                    directory,
                    runtime,
                    recorded.Pid,
                    () => OciJson.DeserializeConfig(Encoding.UTF8.GetBytes(recorded.Image.Config), $"the recorded config of {recorded.Image.Digest}"),
                    new SupervisedPorts(recorded.Ports, recorded.Pid, recorded.Forwarded),
                    member.Options.StopGracePeriod,
                    recorded.StopSignal,
                    container =>
                    {
                        member.Options.OnDisposing?.Invoke(container);
                        options.OnMemberDisposing?.Invoke(member.Name, container);
                    });
                members.Add((recorded.Name, container));
            }


            // Its members passed their waits when the graph started; what can have changed since is that one ended. One
            // that ended is checked against its waits (a job waited for with Wait.ForExit passes, any other fails at once);
            // running ones are not asked again (an HTTP wait alone would cost more than the whole attach).
            var times = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
            foreach (var (name, container) in members)
            {
                var memberClock = Stopwatch.StartNew();
                if (container.Exited.IsCompleted)
                {
                    try
                    {
                        var member = graph[name];
                        await ReadinessCheck.WaitUntilReadyAsync(container, member.Options, cancellationToken).ConfigureAwait(false);
                    }
                    catch (ContainerStartException ex)
                    {
                        throw new ContainerGraphStartException(graph.Name, name, ex, members.ToDictionary(x => x.Name, x => x.Container.Logs));
                    }
                }

                times[name] = memberClock.Elapsed;
            }

            var networks = state.Networks.ToDictionary(
                n => n.Name,
                n => ContainerNetwork.Recorded(n.Name, n.Id, n.Subnet, n.Members.Select(m => new ContainerNetworkMember(m.ContainerId, m.Address, m.Aliases))),
                StringComparer.Ordinal);
            log($"Reusing graph {graph.Name} (key {ReuseKey.Short(state.Key)}, started {Ago(state.StartedAt)} by {state.StartedBy}): {Summary(state)}; ready in {clock.ElapsedMilliseconds} ms.");
            return new RunningContainerGraph(graph, members, networks, [], times, clock.Elapsed, connection, state.Key, foundRunning: true);
        }
        catch (Exception ex) when (ex is ContainerStartException or ContainerGraphStartException or IOException or OciException or KeyNotFoundException)
        {
            var reason = ex is ContainerGraphStartException member ? $"member {member.Member}: {FirstLine(member.InnerException!.Message)}" : FirstLine(ex.Message);
            log($"Graph {graph.Name} cannot be reused ({reason}): replacing it.");
            foreach (var (_, container) in members)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    private static async Task<RunningContainerGraph> StartFreshAsync(ContainerGraph graph, ContainerGraphOptions options, ReusePaths paths, IReadOnlyList<ContainerGraphMember> order, string key, string description, Dictionary<string, ReusedImage> images, string runtime, Stopwatch clock, Action<string> log, CancellationToken cancellationToken)
    {
        ContainerDirectory.DeleteDirectory(paths.Directory);
        Directory.CreateDirectory(paths.Directory);
        var startedBy = $"pid {System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} ({System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? Process.GetCurrentProcess().ProcessName})";
        string supervisor;
        try
        {
            supervisor = await SupervisorProcess.StartAsync(paths, new SupervisorSettings(graph.Name, paths.CacheDirectory, options.Reuse!.IdleTimeout.TotalSeconds, startedBy), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ContainerDirectory.DeleteDirectory(paths.Directory);
            throw;
        }

        var connection = await SupervisorConnection.ConnectAsync(paths.SocketName, cancellationToken).ConfigureAwait(false)
            ?? throw new OciException($"The supervisor of graph {graph.Name} (pid {OwnerStamp.Pid(supervisor)}) does not answer; see {paths.Log}.");
        RunningContainerGraph running;
        try
        {
            var reply = await connection.RequestAsync("start", TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (reply != "ok")
            {
                throw new OciException($"The supervisor of graph {graph.Name} refused the start: {reply}");
            }

            // Everything the start makes belongs to the supervisor from the first moment: a test process killed halfway
            // leaves nothing the supervisor (which then stops) or a reaper would not remove.
            using (OwnerStamp.Assign(supervisor))
            {
                running = await ContainerGraphStarter.StartAsync(graph, Plain(options, connection, paths.CacheDirectory), cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await AbandonAsync(connection, paths, supervisor, log).ConfigureAwait(false);
            throw;
        }

        try
        {
            var rank = order.Select((m, i) => (m.Name, i)).ToDictionary(m => m.Name, m => m.i, StringComparer.Ordinal);
            var state = new ReuseState(
                graph.Name,
                key,
                description,
                DateTimeOffset.UtcNow,
                startedBy,
                runtime,
                [.. running.StartOrder.OrderBy(m => rank[m.Name]).Select(m => Record(graph[m.Name], m.Container, images[m.Name]))],
                [.. running.Networks.Values.Select(n => new ReusedNetwork(n.Name, n.Id, n.Subnet, [.. n.Members.Select(m => new ReusedNetworkMember(m.ContainerId, m.Address, m.Aliases))]))],
                [.. running.Resources.OfType<ContainerVolume>().Select(v => new ReusedVolume(v.Name, v.Keep))]);
            state.Write(paths.State);
            var reply = await connection.RequestAsync("ready", TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (reply != "ok")
            {
                throw new OciException($"The supervisor of graph {graph.Name} did not take it over: {reply}");
            }

            log($"Graph {graph.Name} started for reuse (key {ReuseKey.Short(key)}) in {clock.ElapsedMilliseconds} ms; its supervisor (pid {OwnerStamp.Pid(supervisor)}) keeps it for later test runs and stops it after {ReuseSupervisor.Describe(options.Reuse.IdleTimeout)} without one (log: {paths.Log}).");
            return running.HandOver(connection, key);
        }
        catch
        {
            await running.DisposeAsync().ConfigureAwait(false);
            await AbandonAsync(connection, paths, supervisor, log).ConfigureAwait(false);
            throw;
        }
    }

    private static ReusedMember Record(ContainerGraphMember member, RunningContainer container, ReusedImage image) => new(
        member.Name,
        container.Id,
        container.Pid,
        container.StopSignal,
        member.Options.StopGracePeriod.TotalSeconds,
        [.. container.PublishedContainerPorts.Select(p => new ReusedPort(p, container.GetPublishedPort(p)))],
        container.Ports is SupervisedPorts,
        image);

    // The start failed: its supervisor, left without a starter, removes whatever it was to own and exits.
    private static async Task AbandonAsync(SupervisorConnection connection, ReusePaths paths, string supervisor, Action<string> log)
    {
        await connection.DisposeAsync().ConfigureAwait(false);
        if (!await ExitsWithinAsync(supervisor, TimeSpan.FromSeconds(60)).ConfigureAwait(false))
        {
            log($"The supervisor of graph {paths.Graph} (pid {OwnerStamp.Pid(supervisor)}) did not exit after the failed start; killing it.");
            await KillAsync(supervisor).ConfigureAwait(false);
            await ContainerHost.ReapAsync(paths.CacheDirectory, log, CancellationToken.None).ConfigureAwait(false);
        }

        ContainerDirectory.DeleteDirectory(paths.Directory);
    }

    // Asks the supervisor to stop the graph (it removes everything); one that does not is killed and what it had reaped.
    private static async Task StopSupervisorAsync(ReusePaths paths, string supervisor, ReuseState? state, Action<string> log, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(60 + (state?.Members.Sum(m => m.StopGraceSeconds) ?? 0));
        if (state is not null && await SupervisorConnection.ConnectAsync(paths.SocketName, cancellationToken).ConfigureAwait(false) is { } connection)
        {
            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    await connection.RequestAsync("stop", timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    log($"Graph {paths.Graph}: its supervisor did not stop it ({ex.Message}).");
                }
            }
        }

        if (!await ExitsWithinAsync(supervisor, state is null ? timeout : TimeSpan.FromSeconds(10)).ConfigureAwait(false))
        {
            log($"Graph {paths.Graph}: killing its supervisor (pid {OwnerStamp.Pid(supervisor)}), which does not stop.");
            await KillAsync(supervisor).ConfigureAwait(false);
        }

        if (Directory.Exists(paths.Directory))
        {
            // What a killed supervisor owned carries a dead stamp now.
            await ContainerHost.ReapAsync(paths.CacheDirectory, log, cancellationToken).ConfigureAwait(false);
            ContainerDirectory.DeleteDirectory(paths.Directory);
        }
    }

    private static async Task<bool> ExitsWithinAsync(string stamp, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (OwnerStamp.IsAlive(stamp))
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        return true;
    }

    private static async Task KillAsync(string stamp)
    {
        if (OwnerStamp.IsAlive(stamp) && OwnerStamp.Pid(stamp) is { } pid)
        {
            NativeMethods.Kill(pid, 9);
            await ExitsWithinAsync(stamp, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }

    private static string Summary(ReuseState state) =>
        string.Join(", ", state.Members.Select(m => m.Ports.Count == 0 ? m.Name : $"{m.Name} {string.Join(" ", m.Ports.Select(p => $"{p.ContainerPort}→127.0.0.1:{p.HostPort}"))}"));

    private static string Ago(DateTimeOffset then)
    {
        var span = DateTimeOffset.UtcNow - then;
        return span.TotalMinutes < 1 ? $"{Math.Max(0, span.TotalSeconds):0} s ago"
            : span.TotalHours < 1 ? $"{span.TotalMinutes:0} min ago"
            : $"{span.TotalHours:0.#} h ago";
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    // A reused member's backend, found when first needed.
    private sealed class LazyRuntime(string name, Func<IContainerRuntime> find) : IContainerRuntime
    {
        private readonly Lazy<IContainerRuntime> _runtime = new(find);

        public string Name => name;

        private IContainerRuntime Runtime => _runtime.Value;

        public Task PrepareAsync(ContainerLaunch launch, CancellationToken cancellationToken) => Runtime.PrepareAsync(launch, cancellationToken);

        public Process StartRun(ContainerLaunch launch, string pidFile) => Runtime.StartRun(launch, pidFile);

        public Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken) => Runtime.PublishPortsAsync(container, launch, cancellationToken);

        public Task<ContainerExecResult> ExecAsync(RunningContainer container, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? user, CancellationToken cancellationToken) =>
            Runtime.ExecAsync(container, command, environment, user, cancellationToken);

        public Task<byte[]> ReadFileAsync(RunningContainer container, string path, CancellationToken cancellationToken) => Runtime.ReadFileAsync(container, path, cancellationToken);

        public Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken) => Runtime.KillAsync(id, signal, cancellationToken);

        public Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken) => Runtime.DeleteAsync(id, cancellationToken);

        public Task<INetworkDriver> CreateNetworkAsync(string id, string cacheDirectory, string directory, Action<string> log, CancellationToken cancellationToken) => Runtime.CreateNetworkAsync(id, cacheDirectory, directory, log, cancellationToken);

        public Task<int> ReapOrphansAsync(CancellationToken cancellationToken) => Runtime.ReapOrphansAsync(cancellationToken);

        public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) => Runtime.ListAsync(cancellationToken);
    }
}
