using Containers.Sdk.Tasks.BuildServer;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Starts the Containers.Sdk build server, when none is running, while the project still compiles: by the time the
/// container step runs, the server has warmed up and the first publish of a session runs in it too. It only starts
/// a process (the warm-up touches nothing outside it); it neither waits for it nor talks to a registry.
/// </summary>
public sealed class StartContainerBuildServer : ContainerTask
{
    /// <summary>ContainerUseBuildServer: <c>false</c> starts nothing.</summary>
    public string? ContainerUseBuildServer { get; set; }

    /// <inheritdoc />
    protected override bool ExecuteCore(CancellationToken cancellationToken)
    {
        if (Switch(ContainerUseBuildServer))
        {
            BuildServerClient.EnsureStarted(Log);
        }

        return true;
    }
}
