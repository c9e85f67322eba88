using System.Diagnostics;
using Containers.Host.Networking;
using Containers.Host.Storage;

namespace Containers.Host.Lifecycle;

/// <summary>Realizes a <see cref="ContainerGraph"/>: networks and volumes, then the members, each as soon as its dependencies allow; undoes everything when one fails.</summary>
internal static class ContainerGraphStarter
{
    public static async Task<RunningContainerGraph> StartAsync(ContainerGraph graph, ContainerGraphOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var order = graph.InDependencyOrder();
        var log = options.Log ?? (_ => { });
        var resources = new List<IAsyncDisposable>();
        var started = new List<(string Name, RunningContainer Container)>();
        var startTimes = new Dictionary<string, TimeSpan>(StringComparer.OrdinalIgnoreCase);
        var memberLogs = new Dictionary<string, ContainerLogs>(StringComparer.OrdinalIgnoreCase);
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        (string Member, Exception Error)? firstFailure = null;
        try
        {
            var networkNames = graph.Networks.ToList();
            if (graph.Members.Any(m => m.Networks.Count == 0) && !networkNames.Contains(ContainerGraph.DefaultNetwork))
            {
                networkNames.Add(ContainerGraph.DefaultNetwork);
            }

            var networkOptions = new ContainerNetworkOptions { Backend = options.Backend, CacheDirectory = options.CacheDirectory, Log = log };
            var networks = new Dictionary<string, ContainerNetwork>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, network) in networkNames.Zip(await Task.WhenAll(networkNames.Select(n => ContainerNetwork.CreateAsync(n, networkOptions, cancellationToken))).ConfigureAwait(false)))
            {
                networks[name] = network;
                resources.Add(network);
            }

            // Volume names are the cache's: the graph's name keeps two graphs' "data" apart.
            var volumes = new Dictionary<string, ContainerVolume>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, keep) in graph.Volumes)
            {
                var volume = await ContainerVolume.CreateAsync(graph.Name + "-" + name, new ContainerVolumeOptions { Keep = keep, CacheDirectory = options.CacheDirectory, Log = log }, cancellationToken).ConfigureAwait(false);
                volumes[name] = volume;
                resources.Add(volume);
            }

            var launched = order.ToDictionary(m => m.Name, _ => new TaskCompletionSource<RunningContainer>(TaskCreationOptions.RunContinuationsAsynchronously), StringComparer.OrdinalIgnoreCase);
            var ready = new Dictionary<string, Task<RunningContainer>>(StringComparer.OrdinalIgnoreCase);
            foreach (var member in order)
            {
                ready[member.Name] = StartMemberAsync(member);
            }

            async Task<RunningContainer> StartMemberAsync(ContainerGraphMember member)
            {
                try
                {
                    foreach (var (dependency, condition) in member.Dependencies)
                    {
                        await (condition == ContainerDependencyCondition.Started ? launched[dependency].Task : ready[dependency]).WaitAsync(failFast.Token).ConfigureAwait(false);
                    }

                    var memberOptions = member.Options.Copy(
                        launched: container => launched[member.Name].TrySetResult(container),
                        onDisposing: container =>
                        {
                            member.Options.OnDisposing?.Invoke(container);
                            options.OnMemberDisposing?.Invoke(member.Name, container);
                        },
                        log: line => log($"[{member.Name}] {line}"),
                        backend: options.Backend,
                        cacheDirectory: options.CacheDirectory,
                        supervisor: options.Supervisor);
                    foreach (var (name, value) in member.WiredEnvironment)
                    {
                        memberOptions.Environment[name] = value(graph);
                    }

                    foreach (var (network, aliases) in member.Networks.Count == 0 ? [(ContainerGraph.DefaultNetwork, (IReadOnlyList<string>)[member.DefaultAlias])] : member.Networks)
                    {
                        memberOptions.Networks.Add(new ContainerNetworkAttachment(networks[network], aliases));
                    }

                    foreach (var (volume, path, readOnly) in member.VolumeMounts)
                    {
                        memberOptions.Mounts.Add(ContainerMount.Volume(volumes[volume], path, readOnly));
                    }

                    var memberClock = Stopwatch.StartNew();
                    var container = await ContainerHost.StartAsync(memberOptions, failFast.Token).ConfigureAwait(false);
                    lock (started)
                    {
                        started.Add((member.Name, container));
                        startTimes[member.Name] = memberClock.Elapsed;
                        memberLogs[member.Name] = container.Logs;
                    }

                    log($"[{member.Name}] ready after {memberClock.ElapsedMilliseconds} ms.");
                    return container;
                }
                catch (Exception ex)
                {
                    launched[member.Name].TrySetException(ex);
                    if (ex is not OperationCanceledException || !failFast.IsCancellationRequested)
                    {
                        lock (started)
                        {
                            firstFailure ??= (member.Name, ex);
                            if (ex is ContainerStartException start)
                            {
                                memberLogs[member.Name] = start.Logs;
                            }
                        }

                        // One member down: the others stop waiting and starting.
                        await failFast.CancelAsync().ConfigureAwait(false);
                    }

                    throw;
                }
            }

            await ((Task)Task.WhenAll(ready.Values)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (firstFailure is { } failure)
            {
                throw new ContainerGraphStartException(graph.Name, failure.Member, failure.Error, memberLogs);
            }

            cancellationToken.ThrowIfCancellationRequested();
            log($"Graph {graph.Name} ready after {clock.ElapsedMilliseconds} ms: {string.Join(", ", startTimes.Select(t => $"{t.Key} {t.Value.TotalMilliseconds:0} ms"))}.");
            return new RunningContainerGraph(graph, started, networks, resources, startTimes, clock.Elapsed);
        }
        catch
        {
            foreach (var (_, container) in Enumerable.Reverse(started))
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var resource in Enumerable.Reverse(resources))
            {
                await resource.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }
}
