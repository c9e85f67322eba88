namespace Containers.Shared;

/// <summary>
/// Names of the labels through which Containers.Sdk tells its own runtime host about an image. Linked into
/// Containers.Build (which writes them) and Containers.Host (which reads them) so both use the same name.
/// </summary>
internal static class ContainerLabelNames
{
    /// <summary>The label that carries a health check declared in code (<c>ContainerHealthCheck</c>), as JSON.</summary>
    public const string HealthCheck = "dev.containers-sdk.health-check";
}
