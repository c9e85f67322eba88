using Containers.Host.Images;

namespace Containers.Host.Compose;

/// <summary>One service of a compose file, read and validated: every value interpolated, paths absolute, defaults applied.</summary>
public sealed class ComposeService
{
    internal ComposeService(string name) => Name = name;

    /// <summary>Its name: the graph member's name and its alias on every network it joins.</summary>
    public string Name { get; }

    /// <summary><c>image</c>: a registry reference or a form <see cref="ContainerImageSource.Parse"/> reads (<c>oci:DIR:TAG</c> relative to the compose file); null when only built.</summary>
    public string? Image { get; internal init; }

    /// <summary><c>build</c>: the project it is built from; null when it runs an image.</summary>
    public ComposeBuild? Build { get; internal init; }

    /// <summary><c>command</c> (a string split as a shell would); null: the image's Cmd; empty: none.</summary>
    public IReadOnlyList<string>? Command { get; internal init; }

    /// <summary><c>entrypoint</c>; null: the image's; empty: none. A replaced entrypoint drops the image's Cmd.</summary>
    public IReadOnlyList<string>? Entrypoint { get; internal init; }

    /// <summary><c>env_file</c> then <c>environment</c> (a name alone takes the variable's value, and is left out when it has none).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; internal init; } = new Dictionary<string, string>();

    /// <summary><c>ports</c>: container ports to publish (each on a free 127.0.0.1 port; a fixed host port is not honoured).</summary>
    public IReadOnlyList<ComposePort> Ports { get; internal init; } = [];

    /// <summary><c>expose</c>: container ports; published on 127.0.0.1 like <see cref="Ports"/>.</summary>
    public IReadOnlyList<int> Expose { get; internal init; } = [];

    /// <summary><c>depends_on</c>.</summary>
    public IReadOnlyList<ComposeDependency> DependsOn { get; internal init; } = [];

    /// <summary><c>healthcheck</c>; null when the file declares none (the image's own then counts).</summary>
    public ComposeHealthCheck? HealthCheck { get; internal init; }

    /// <summary><c>volumes</c> and <c>tmpfs</c>.</summary>
    public IReadOnlyList<ComposeMount> Mounts { get; internal init; } = [];

    /// <summary><c>networks</c> with their aliases; empty: the <c>default</c> network.</summary>
    public IReadOnlyList<ComposeServiceNetwork> Networks { get; internal init; } = [];

    /// <summary><c>user</c>.</summary>
    public string? User { get; internal init; }

    /// <summary><c>working_dir</c>.</summary>
    public string? WorkingDirectory { get; internal init; }

    /// <summary><c>hostname</c>.</summary>
    public string? Hostname { get; internal init; }

    /// <summary><c>stop_signal</c>.</summary>
    public string? StopSignal { get; internal init; }

    /// <summary><c>stop_grace_period</c> (compose's default: 10 s).</summary>
    public TimeSpan? StopGracePeriod { get; internal init; }

    /// <summary><c>mem_limit</c> or <c>deploy.resources.limits.memory</c>, in bytes.</summary>
    public long? MemoryLimitBytes { get; internal init; }

    /// <summary><c>cpus</c> or <c>deploy.resources.limits.cpus</c>.</summary>
    public double? Cpus { get; internal init; }

    /// <summary><c>labels</c>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; internal init; } = new Dictionary<string, string>();

    /// <summary>The parsed <see cref="Image"/>.</summary>
    internal ContainerImageSource? ImageSource { get; init; }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary><c>build</c>: what a service's image is built from.</summary>
/// <param name="Context">The build context: an absolute directory (or file) path, or a URL as written.</param>
/// <param name="Dockerfile"><c>dockerfile</c>, as written; null when not given.</param>
/// <param name="Target"><c>target</c>; null when not given.</param>
/// <param name="Args"><c>args</c>.</param>
public sealed record ComposeBuild(string Context, string? Dockerfile, string? Target, IReadOnlyDictionary<string, string> Args)
{
    private static readonly string[] ProjectExtensions = [".csproj", ".fsproj", ".vbproj"];

    /// <summary>The .NET project the context names: the context itself when it is a project file, else the one project file in its directory; null when there is none or more than one.</summary>
    public string? FindProjectFile()
    {
        if (File.Exists(Context))
        {
            return ProjectExtensions.Contains(Path.GetExtension(Context), StringComparer.OrdinalIgnoreCase) ? Context : null;
        }

        if (!Directory.Exists(Context))
        {
            return null;
        }

        var projects = Directory.EnumerateFiles(Context).Where(f => ProjectExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).ToList();
        return projects.Count == 1 ? projects[0] : null;
    }
}

/// <summary>One entry of <c>ports</c>.</summary>
/// <param name="ContainerPort">The container port (<c>target</c>).</param>
/// <param name="Protocol"><c>tcp</c> or <c>udp</c>; only TCP is published.</param>
/// <param name="HostPort">The host port asked for (<c>published</c>); not honoured: every port goes to a free 127.0.0.1 port.</param>
/// <param name="HostIp">The host address asked for; not honoured: always 127.0.0.1.</param>
public sealed record ComposePort(int ContainerPort, string Protocol, string? HostPort, string? HostIp);

/// <summary>One entry of <c>depends_on</c>.</summary>
/// <param name="Service">The service depended on.</param>
/// <param name="Condition">What it must reach first.</param>
/// <param name="Required">False: a missing service is only a warning.</param>
public sealed record ComposeDependency(string Service, ComposeDependencyCondition Condition, bool Required);

/// <summary><c>depends_on.*.condition</c>.</summary>
public enum ComposeDependencyCondition
{
    /// <summary><c>service_started</c>: the dependency's process runs.</summary>
    ServiceStarted,

    /// <summary><c>service_healthy</c>: the dependency's health check passed.</summary>
    ServiceHealthy,

    /// <summary><c>service_completed_successfully</c>: the dependency ran to completion with exit code 0.</summary>
    ServiceCompletedSuccessfully,
}

/// <summary><c>healthcheck</c>, with compose's defaults.</summary>
public sealed record ComposeHealthCheck
{
    /// <summary><c>test</c> normalized: <c>["CMD", …]</c>, <c>["CMD-SHELL", "…"]</c> or <c>["NONE"]</c>; null: the image's check, with these timings.</summary>
    public IReadOnlyList<string>? Test { get; init; }

    /// <summary>True for <c>disable: true</c> or <c>test: ["NONE"]</c>.</summary>
    public bool Disabled { get; init; }

    /// <summary><c>interval</c> (default 30 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>timeout</c> (default 30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>retries</c> (default 3).</summary>
    public int Retries { get; init; } = 3;

    /// <summary><c>start_period</c> (default 0).</summary>
    public TimeSpan StartPeriod { get; init; }

    /// <summary>The command the check runs inside the container (<c>CMD-SHELL</c> through <c>/bin/sh -c</c>); null without a test.</summary>
    public IReadOnlyList<string>? ExecCommand =>
        Test is null || Disabled ? null
        : Test[0] == "CMD-SHELL" ? ["/bin/sh", "-c", Test[1]]
        : Test.Skip(1).ToList();
}

/// <summary>The kinds of <see cref="ComposeMount"/>.</summary>
public enum ComposeMountType
{
    /// <summary>A named volume (<c>data:/var/lib/x</c>), or an anonymous one (<c>/var/lib/x</c> alone).</summary>
    Volume,

    /// <summary>A host path (<c>./dir:/x</c>).</summary>
    Bind,

    /// <summary>A tmpfs (<c>tmpfs:</c>, or <c>type: tmpfs</c>).</summary>
    Tmpfs,
}

/// <summary>One entry of <c>volumes</c> or <c>tmpfs</c>.</summary>
/// <param name="Type">Volume, bind or tmpfs.</param>
/// <param name="Source">The volume's name (null for an anonymous one), the absolute host path, or null for a tmpfs.</param>
/// <param name="Target">The absolute path inside the container.</param>
/// <param name="ReadOnly">True for <c>:ro</c> / <c>read_only: true</c>.</param>
public sealed record ComposeMount(ComposeMountType Type, string? Source, string Target, bool ReadOnly)
{
    /// <summary>A tmpfs's size limit.</summary>
    public long? TmpfsSizeBytes { get; init; }

    /// <summary>A tmpfs's mode.</summary>
    public UnixFileMode? TmpfsMode { get; init; }
}

/// <summary>One entry of a service's <c>networks</c>.</summary>
/// <param name="Network">The network's name.</param>
/// <param name="Aliases">Its <c>aliases</c> there (the service's name is one anyway).</param>
public sealed record ComposeServiceNetwork(string Network, IReadOnlyList<string> Aliases);
