using System.Diagnostics;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;

namespace Containers.Host.Runtimes;

/// <summary>
/// What runs a container: an OCI runtime or Linux namespaces on a bundle (<c>config.json</c> + <c>rootfs/</c>) in the
/// container's directory, or a docker/podman CLI from its own image store. One instance per container; the host
/// drives every backend through this and never asks which one it has.
/// </summary>
internal interface IContainerRuntime
{
    /// <summary>The backend's name in logs and <see cref="RunningContainer.BackendName"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Whether a reused graph's supervisor can own its containers: not rootless, where the containers' user namespace and
    /// its port forwarder belong to the process that started them.
    /// </summary>
    bool SupportsReuse => true;

    /// <summary>Makes what <see cref="StartRun"/> runs from the image: the bundle, or the image in the CLI's store. Safe to call again for the same launch (the next runtime of a fallback reuses a bundle).</summary>
    Task PrepareAsync(ContainerLaunch launch, CancellationToken cancellationToken);

    /// <summary>Starts the container in the foreground (its stdout and stderr are the process's); writes the container's host pid to <paramref name="pidFile"/> once it exists.</summary>
    Process StartRun(ContainerLaunch launch, string pidFile);

    /// <summary>Publishes the launch's ports on 127.0.0.1 once the container runs.</summary>
    Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="command"/> in the running container (its namespaces, root, environment plus <paramref name="environment"/>, as <paramref name="user"/> or the image's user).</summary>
    Task<ContainerExecResult> ExecAsync(RunningContainer container, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? user, CancellationToken cancellationToken);

    /// <summary>The content of the file at <paramref name="path"/> in the container, running or stopped (not yet disposed).</summary>
    Task<byte[]> ReadFileAsync(RunningContainer container, string path, CancellationToken cancellationToken);

    /// <summary>Sends <paramref name="signal"/> (e.g. SIGTERM) to the container's first process.</summary>
    Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken);

    /// <summary>Kills whatever is left of the container and removes its state.</summary>
    Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Makes the network <paramref name="id"/> for containers of this kind of runtime; <paramref name="directory"/> is its directory in the cache <paramref name="cacheDirectory"/>.</summary>
    Task<INetworkDriver> CreateNetworkAsync(string id, string cacheDirectory, string directory, Action<string> log, CancellationToken cancellationToken);

    /// <summary>Removes what this kind of runtime keeps outside container directories for owners that are gone (the CLI's networks); returns how many.</summary>
    Task<int> ReapOrphansAsync(CancellationToken cancellationToken);

    /// <summary>The ids of the containers this runtime keeps state for (for reaping state whose directory is gone); empty when it keeps none.</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken);
}
