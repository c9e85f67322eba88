using Containers.Sdk.Tasks.BuildServer;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Stops the calling user's Containers.Sdk build servers (every version's, each socket in the user's own build-server
/// directory): asks each to exit and waits until its socket is gone. Nothing of another user is touched, and no
/// process is found by name. <c>dotnet msbuild -t:StopContainerBuildServer</c>; docs/build-server.md.
/// </summary>
public sealed class StopContainerBuildServer : ContainerTask
{
    /// <inheritdoc />
    protected override bool ExecuteCore(CancellationToken cancellationToken)
    {
        BuildServerClient.StopAll(Log, TimeSpan.FromSeconds(15));
        return true;
    }
}
