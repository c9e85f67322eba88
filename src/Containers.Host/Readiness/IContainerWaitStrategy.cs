using Containers.Host.Lifecycle;

namespace Containers.Host.Readiness;

/// <summary>A readiness check run from outside the container until it passes.</summary>
public interface IContainerWaitStrategy
{
    /// <summary>What is being waited for, for messages.</summary>
    string Description { get; }

    /// <summary>What kind of check this is, for the host to act on (a wait for the exit treats the exit as success); custom checks are <see cref="ContainerWaitKind.Custom"/>.</summary>
    ContainerWaitKind Kind => ContainerWaitKind.Custom;

    /// <summary>Returns when the container is ready; throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> trips.</summary>
    Task WaitAsync(RunningContainer container, CancellationToken cancellationToken);
}

/// <summary>The kinds of <see cref="IContainerWaitStrategy"/>.</summary>
public enum ContainerWaitKind
{
    /// <summary>A check of the caller's own.</summary>
    Custom,

    /// <summary><see cref="Wait.ForTcpPort"/>.</summary>
    TcpPort,

    /// <summary><see cref="Wait.ForHttp"/>.</summary>
    Http,

    /// <summary><see cref="Wait.ForLogLine"/>.</summary>
    LogLine,

    /// <summary><see cref="Wait.ForHealthCheck"/>.</summary>
    HealthCheck,

    /// <summary><see cref="Wait.ForExit"/>: the container's exit is what is waited for, not a failure.</summary>
    Exit,

    /// <summary><see cref="Wait.ForImageDefaults"/>: the image's health check or exposed port, chosen when the container runs.</summary>
    ImageDefault,

    /// <summary><see cref="Wait.ForCommand"/>: a command run inside the container until it exits 0.</summary>
    Command,
}
