using System.Text.Json.Serialization;

namespace Containers.Cli.State;

/// <summary>What <c>container.json</c> in a container's state directory says about it: written by the process that runs it.</summary>
public sealed record ContainerRecord
{
    /// <summary>The tool's id of the container (12 hex digits).</summary>
    public required string Id { get; init; }

    /// <summary>Its unique name.</summary>
    public required string Name { get; init; }

    /// <summary>The image as given on the command line.</summary>
    public required string Image { get; init; }

    /// <summary>When <c>run</c> was called.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>Whether it is removed when it exits (<c>--rm</c>).</summary>
    public bool AutoRemove { get; init; }

    /// <summary>Whether it runs detached, under a supervisor of its own (<c>-d</c>).</summary>
    public bool Detached { get; init; }

    /// <summary><see cref="ContainerStatus.Starting"/>, <see cref="ContainerStatus.Running"/>, <see cref="ContainerStatus.Exited"/> or <see cref="ContainerStatus.Failed"/>.</summary>
    public string Status { get; init; } = ContainerStatus.Starting;

    /// <summary>The runtime host's id of the container (<c>containers-sdk-…</c>) once it started.</summary>
    public string? HostId { get; init; }

    /// <summary>The backend that runs it (runc, namespaces, podman …).</summary>
    public string? Backend { get; init; }

    /// <summary>Its published ports.</summary>
    public IReadOnlyList<PublishedPort> Ports { get; init; } = [];

    /// <summary>Its exit code once it exited.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Why it could not start (<see cref="ContainerStatus.Failed"/>).</summary>
    public string? Error { get; init; }
}

/// <summary>A container port published on a 127.0.0.1 port.</summary>
/// <param name="HostPort">The 127.0.0.1 port.</param>
/// <param name="ContainerPort">The container's TCP port.</param>
public sealed record PublishedPort(int HostPort, int ContainerPort)
{
    /// <inheritdoc/>
    public override string ToString() => $"127.0.0.1:{HostPort}->{ContainerPort}/tcp";
}

/// <summary>The values of <see cref="ContainerRecord.Status"/>.</summary>
public static class ContainerStatus
{
    /// <summary>Its image is being loaded or its process started.</summary>
    public const string Starting = "starting";

    /// <summary>It runs.</summary>
    public const string Running = "running";

    /// <summary>It ran and exited.</summary>
    public const string Exited = "exited";

    /// <summary>It could not start.</summary>
    public const string Failed = "failed";
}

/// <summary>The JSON of the state files.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(Running.RunRequest))]
[JsonSerializable(typeof(Running.ControlRequest))]
[JsonSerializable(typeof(Running.ControlResponse))]
public sealed partial class CliJsonContext : JsonSerializerContext;
