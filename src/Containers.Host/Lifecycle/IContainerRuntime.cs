using System.Diagnostics;

namespace Containers.Host;

/// <summary>What runs a prepared bundle (<c>config.json</c> + <c>rootfs/</c>): an OCI runtime, or Linux namespaces directly.</summary>
internal interface IContainerRuntime
{
    /// <summary>The backend's name in logs and <see cref="RunningContainer.BackendName"/>.</summary>
    string Name { get; }

    /// <summary>Starts the container in the foreground (its stdout and stderr are the process's); writes the container's host pid to <paramref name="pidFile"/> once it exists.</summary>
    Process StartRun(string bundle, string id, string pidFile);

    /// <summary>Sends <paramref name="signal"/> (e.g. SIGTERM) to the container's first process.</summary>
    Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken);

    /// <summary>Kills whatever is left of the container and removes its state.</summary>
    Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken);
}
