namespace Containers.Cli.Running;

/// <summary>What <c>run</c> was asked to run: parsed and checked from its command line, and handed to a detached container's supervisor as <c>run.json</c>.</summary>
public sealed record RunRequest
{
    /// <summary>The image as given (<c>oci:DIR[:TAG]</c>, <c>oci-archive:F</c>, <c>docker-archive:F</c>, a registry reference).</summary>
    public required string Image { get; init; }

    /// <summary>Arguments after <c>--</c>: the image's Cmd replaced; empty keeps it.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Environment variables set over the image's.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Container ports to publish on free 127.0.0.1 ports.</summary>
    public IReadOnlyList<int> Ports { get; init; } = [];

    /// <summary>Container ports to publish on fixed 127.0.0.1 ports (container port → host port).</summary>
    public IReadOnlyDictionary<int, int> HostPorts { get; init; } = new Dictionary<int, int>();

    /// <summary><c>--user</c>.</summary>
    public string? User { get; init; }

    /// <summary><c>--entrypoint</c>.</summary>
    public string? Entrypoint { get; init; }

    /// <summary><c>--workdir</c>.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Whether the host's log goes to stderr (the supervisor's log when detached).</summary>
    public bool Verbose { get; init; }
}
