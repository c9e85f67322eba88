using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Readiness;
using Containers.Host.Storage;

namespace Containers.Host.Compose;

/// <summary>Maps a read compose file onto a <see cref="ContainerGraph"/>.</summary>
internal static class ComposeGraphBuilder
{
    /// <summary>Checks what needs the whole file: dependency cycles, health conditions against the dependencies' checks.</summary>
    public static void Validate(ComposeFile file)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        void Visit(ComposeService service)
        {
            if (state.GetValueOrDefault(service.Name) == 2)
            {
                return;
            }

            if (state.GetValueOrDefault(service.Name) == 1)
            {
                var cycle = path.SkipWhile(n => n != service.Name).Append(service.Name);
                throw file.Error($"services.{path[^1]}.depends_on", $"the services depend on each other in a circle ({string.Join(" -> ", cycle)}); remove one of these dependencies.");
            }

            state[service.Name] = 1;
            path.Add(service.Name);
            foreach (var dependency in service.DependsOn)
            {
                Visit(file[dependency.Service]);
            }

            path.RemoveAt(path.Count - 1);
            state[service.Name] = 2;
        }

        foreach (var service in file.Services)
        {
            Visit(service);
        }

        foreach (var service in file.Services)
        {
            foreach (var dependency in service.DependsOn.Where(d => d.Condition == ComposeDependencyCondition.ServiceHealthy))
            {
                if (file[dependency.Service].HealthCheck is { Disabled: true })
                {
                    throw file.Error($"services.{service.Name}.depends_on.{dependency.Service}", $"the condition is service_healthy, but the health check of {dependency.Service} is disabled, so it never gets healthy; enable it, or depend on it with service_started.");
                }
            }
        }
    }

    public static ContainerGraph Build(ComposeFile file, ComposeGraphOptions options)
    {
        var graph = new ContainerGraph(file.ProjectName);
        var jobs = file.Services
            .SelectMany(s => s.DependsOn)
            .Where(d => d.Condition == ComposeDependencyCondition.ServiceCompletedSuccessfully)
            .Select(d => d.Service)
            .ToHashSet(StringComparer.Ordinal);
        var needHealth = file.Services
            .SelectMany(s => s.DependsOn)
            .Where(d => d.Condition == ComposeDependencyCondition.ServiceHealthy)
            .Select(d => d.Service)
            .ToHashSet(StringComparer.Ordinal);

        foreach (var service in file.Services)
        {
            var path = "services." + service.Name;
            var waits = new List<IContainerWaitStrategy>();
            var startupTimeout = options.StartupTimeout;
            int? httpPort = null;
            if (jobs.Contains(service.Name))
            {
                // Depended on to complete: its exit with 0 is what "ready" means (a run-to-completion job).
                waits.Add(Wait.ForExit(0));
            }
            else if (service.HealthCheck is { Disabled: false, Test: not null } check)
            {
                waits.Add(ComposeHealthChecks.ToWait(check, service.Environment, out httpPort));
                var window = ComposeHealthChecks.Window(check);
                startupTimeout = window > startupTimeout ? window : startupTimeout;
            }
            else if (service.HealthCheck is not { Disabled: true })
            {
                // As `docker compose up --wait`: the image's own health check counts when the file declares none.
                waits.Add(ComposeHealthChecks.ImageHealthCheck(required: needHealth.Contains(service.Name)));
            }

            var memberOptions = new ContainerStartOptions
            {
                Image = Image(file, service, options, path),
                Command = service.Command,
                Entrypoint = service.Entrypoint,
                User = service.User,
                WorkingDirectory = service.WorkingDirectory,
                Hostname = service.Hostname,
                StopSignal = service.StopSignal,
                StopGracePeriod = service.StopGracePeriod ?? TimeSpan.FromSeconds(10),
                MemoryLimitBytes = service.MemoryLimitBytes,
                CpuLimit = service.Cpus is > 0 ? service.Cpus : null,
                StartupTimeout = startupTimeout,
            };
            foreach (var (name, value) in service.Environment)
            {
                memberOptions.Environment[name] = value;
            }

            foreach (var (name, value) in service.Labels)
            {
                memberOptions.Labels[name] = value;
            }

            // Every port the file names is published on 127.0.0.1 (tests reach them from outside), and so is the one an HTTP health check calls.
            foreach (var port in service.Ports.Select(p => p.ContainerPort).Concat(service.Expose).Concat(httpPort is { } health ? [health] : []).Distinct())
            {
                memberOptions.PublishedPorts.Add(port);
            }

            foreach (var wait in waits)
            {
                memberOptions.WaitStrategies.Add(wait);
            }

            var member = graph.Add(service.Name, memberOptions);
            var anonymous = 0;
            foreach (var mount in service.Mounts)
            {
                switch (mount.Type)
                {
                    case ComposeMountType.Volume:
                        member.MountVolume(mount.Source ?? $"{service.Name}-anonymous-{++anonymous}", mount.Target, mount.ReadOnly);
                        break;
                    case ComposeMountType.Bind:
                        // Compose creates a missing bind source as a directory.
                        if (!File.Exists(mount.Source) && !Directory.Exists(mount.Source))
                        {
                            Directory.CreateDirectory(mount.Source!);
                        }

                        memberOptions.Mounts.Add(ContainerMount.Bind(mount.Source!, mount.Target, mount.ReadOnly));
                        break;
                    case ComposeMountType.Tmpfs:
                        memberOptions.Mounts.Add(ContainerMount.Tmpfs(mount.Target, mount.TmpfsSizeBytes, mount.TmpfsMode));
                        break;
                }
            }

            // The service's name is an alias on every network it joins, besides the aliases the file gives.
            foreach (var network in service.Networks)
            {
                member.OnNetwork(network.Network, [service.Name, .. network.Aliases.Where(a => a != service.Name)]);
            }

            foreach (var dependency in service.DependsOn)
            {
                member.DependsOn(dependency.Service, dependency.Condition == ComposeDependencyCondition.ServiceStarted ? ContainerDependencyCondition.Started : ContainerDependencyCondition.Ready);
            }
        }

        return graph;
    }

    private static ContainerImageSource Image(ComposeFile file, ComposeService service, ComposeGraphOptions options, string path)
    {
        if (service.Build is { } build && options.BuildImage is { } resolve)
        {
            return resolve(service) ?? throw file.Error(path + ".build", "ComposeGraphOptions.BuildImage gave no image for this service; return its ContainerImageSource.");
        }

        return service.ImageSource
            ?? throw file.Error(path + ".build", $"the service is built from {service.Build!.Context} and has no image:; pass ComposeGraphOptions.BuildImage (a function giving the image a built service runs, e.g. ContainerImageSource.FromOciLayout(\"obj/containers/{service.Name}\", \"test\")), or add image:.");
    }
}
