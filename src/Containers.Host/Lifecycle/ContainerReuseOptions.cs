namespace Containers.Host.Lifecycle;

/// <summary>How a graph is reused across test runs (<see cref="ContainerGraphOptions.Reuse"/>).</summary>
/// <example>
/// <code>
/// await using var running = await graph.StartAsync(new ContainerGraphOptions
/// {
///     Reuse = new ContainerReuseOptions { IdleTimeout = TimeSpan.FromMinutes(30) },
/// });
/// </code>
/// </example>
public sealed class ContainerReuseOptions
{
    /// <summary>The environment variable that turns reuse off for every graph when it is <c>false</c>, <c>0</c>, <c>off</c> or <c>no</c> (e.g. in CI).</summary>
    public const string EnvironmentVariable = "CONTAINERS_HOST_REUSE";

    /// <summary>How long the graph goes on running with no test process using it before it is stopped and removed; default 10 minutes.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>True when <see cref="EnvironmentVariable"/> turns reuse off.</summary>
    public static bool IsTurnedOff =>
        System.Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim().ToUpperInvariant() is "FALSE" or "0" or "OFF" or "NO";
}
