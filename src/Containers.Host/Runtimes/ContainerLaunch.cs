using System.Diagnostics;
using Containers.Host.Lifecycle;
using Containers.Oci.Images;
using Containers.Oci.Models;

namespace Containers.Host.Runtimes;

/// <summary>One container to start: its directory, the image, the caller's options and the container ports to publish.</summary>
internal sealed record ContainerLaunch(ContainerDirectory Directory, IImage Image, ContainerStartOptions Options, IReadOnlyList<int> Ports, Action<string> Log)
{
    public string Id => Directory.Id;

    public ImageConfig Config => Image.Config;

    /// <summary>The container's host name: the one asked for, else its first alias, else the short container id.</summary>
    public string Hostname =>
        Options.Hostname ?? Options.Networks.SelectMany(n => n.Aliases).FirstOrDefault() ?? Id[ContainerHost.IdPrefix.Length..];

    /// <summary>The first signal a stop sends: the one asked for, else the image's StopSignal, else SIGTERM.</summary>
    public string StopSignal =>
        Options.StopSignal is { Length: > 0 } asked ? asked
        : string.IsNullOrEmpty(Config.Config?.StopSignal) ? "SIGTERM" : Config.Config!.StopSignal!;

    /// <summary>What the start made besides the runtime's state, undone when the container goes.</summary>
    public LaunchResources Resources { get; } = new();

    /// <summary>
    /// Starts the runtime's process for this container: a child of this process whose output is piped, or for a member of
    /// a reused graph one detached from it (<see cref="DetachedRun"/>) that outlives the test run.
    /// </summary>
    public Process StartProcess(ProcessStartInfo start) =>
        Options.Supervisor is null
            ? Process.Start(start) ?? throw new IOException($"Could not start {start.FileName} for container {Id}.")
            : DetachedRun.Start(start, Directory.Path);

    /// <summary>Rootless: the container's own network namespace (in the keeper's user namespace), or null when it shares the host's.</summary>
    public Networking.HeldNetworkNamespace? PrivateNetwork { get; set; }

    /// <summary>Rootless without a private network: why, for the log.</summary>
    public string? HostNetworkReason { get; set; }
}
