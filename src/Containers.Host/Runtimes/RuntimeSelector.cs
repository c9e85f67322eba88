using System.Collections.Concurrent;
using Containers.Oci;

namespace Containers.Host.Runtimes;

/// <summary>
/// Decides which backends may run a container here, in the order they are tried: the one asked for (or
/// <c>CONTAINERS_HOST_BACKEND</c>), else as root on Linux the OCI runtimes on PATH that have not failed in this
/// process and then the namespaces backend, not root the podman/docker CLI when there is one, else the rootless
/// OCI runtime or namespaces backend; on other systems the CLI.
/// </summary>
internal static class RuntimeSelector
{
    // Runtimes that failed to start a container in this process (crun on hybrid cgroups, for example).
    private static readonly ConcurrentDictionary<string, string> BrokenRuntimes = new(StringComparer.Ordinal);

    /// <summary>The backends that may run one container (an instance each), in order, for <paramref name="backend"/> on a cache in <paramref name="cacheDirectory"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">No backend can run containers on this system.</exception>
    /// <exception cref="OciException">The backend asked for cannot run here; the message says what to install.</exception>
    public static IReadOnlyList<IContainerRuntime> Select(ContainerBackendKind backend, string cacheDirectory, Action<string> log)
    {
        if (backend == ContainerBackendKind.Automatic && System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_BACKEND") is { Length: > 0 } fromEnvironment)
        {
            backend = Enum.TryParse<ContainerBackendKind>(fromEnvironment, ignoreCase: true, out var parsed)
                ? parsed
                : throw new OciException($"CONTAINERS_HOST_BACKEND is '{fromEnvironment}'; expected one of {string.Join(", ", Enum.GetNames<ContainerBackendKind>())}.");
        }

        // Callers need no platform annotations: this is the one place the platform is decided.
        var isRoot = OperatingSystem.IsLinux() && NativeMethods.GetEffectiveUserId() == 0;
        var cliFound = backend is ContainerBackendKind.Cli || (backend == ContainerBackendKind.Automatic && !isRoot) ? CliRuntime.Find() : null;
        if (backend == ContainerBackendKind.Cli || (backend == ContainerBackendKind.Automatic && !isRoot && (cliFound is not null || !OperatingSystem.IsLinux())))
        {
            if (cliFound is not { } cli)
            {
                throw new PlatformNotSupportedException(backend == ContainerBackendKind.Cli
                    ? "The CLI backend needs podman or docker (with a running daemon) on PATH, or CONTAINERS_HOST_CLI naming one; install podman, or use another backend."
                    : "Containers.Host runs containers itself only on Linux, and no podman or docker (with a running daemon) is on PATH for the CLI backend; install podman or Docker.");
            }

            if (backend == ContainerBackendKind.Automatic)
            {
                log($"Not running as root on Linux: the container runs with the {cli.Name} CLI.");
            }

            MarkCliUsed(cacheDirectory, cli.Name);
            return [new CliRuntime(cli.Name, cli.Path)];
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException($"The {backend} backend runs Linux containers on Linux; use the CLI backend (podman or docker) elsewhere.");
        }

        // Not root: rootless (a user namespace mapping the caller to the container's root, the host's network).
        var rootless = !isRoot;
        var candidates = new List<IContainerRuntime>();
        if (backend is ContainerBackendKind.Automatic or ContainerBackendKind.OciRuntime)
        {
            foreach (var (name, path) in OciRuntime.Candidates().Where(r => !BrokenRuntimes.ContainsKey(r.Name)))
            {
                candidates.Add(new OciRuntime(name, path, OciStateRoot(cacheDirectory, name), rootless));
            }
        }

        var namespacesProblem = NamespacesRuntime.Unavailable(rootless);
        if (backend == ContainerBackendKind.Namespaces || (backend == ContainerBackendKind.Automatic && candidates.Count == 0 && namespacesProblem is null))
        {
            if (namespacesProblem is not null)
            {
                throw new OciException($"The namespaces backend cannot run here: {namespacesProblem}; install util-linux and iproute2, or use an OCI runtime.");
            }

            if (backend == ContainerBackendKind.Automatic)
            {
                log("No working OCI runtime (runc, crun, youki) on PATH; using the built-in namespaces backend (unshare).");
            }

            candidates.Add(new NamespacesRuntime(ContainersDirectory(cacheDirectory), rootless));
        }

        if (candidates.Count == 0)
        {
            var broken = BrokenRuntimes.IsEmpty ? "" : " Failed here: " + string.Join("; ", BrokenRuntimes.Select(b => b.Key + ": " + b.Value));
            throw new OciException($"No working OCI runtime on PATH (looked for {System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_OCI_RUNTIMES") ?? "runc, crun, youki"}) and the namespaces backend is unavailable ({namespacesProblem}); install runc (apt-get install runc).{broken}");
        }

        return candidates;
    }

    /// <summary>
    /// The backend named <paramref name="name"/> (<see cref="IContainerRuntime.Name"/>: <c>runc</c>, <c>namespaces (unshare)</c>,
    /// <c>podman</c>, …) as <see cref="Select"/> makes it here: for another process to drive containers a backend of that name started.
    /// </summary>
    /// <exception cref="OciException">No backend of that name can run here.</exception>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static IContainerRuntime Named(string name, string cacheDirectory)
    {
        var kind = name == new NamespacesRuntime(ContainersDirectory(cacheDirectory)).Name ? ContainerBackendKind.Namespaces
            : OciRuntime.Candidates().Any(r => r.Name == name) ? ContainerBackendKind.OciRuntime
            : ContainerBackendKind.Cli;
        return Select(kind, cacheDirectory, _ => { }).FirstOrDefault(r => r.Name == name)
            ?? throw new OciException($"The backend {name} that runs these containers is not available here any more.");
    }

    /// <summary>Remembers that <paramref name="name"/> could not start a container here, so later starts of this process skip it.</summary>
    public static void MarkBroken(string name, string failure) => BrokenRuntimes[name] = failure;

    /// <summary>Why <paramref name="name"/> was marked broken, or null.</summary>
    public static string? Failure(string name) => BrokenRuntimes.GetValueOrDefault(name);

    /// <summary>
    /// Every runtime that may hold containers of the cache in <paramref name="cacheDirectory"/>, for reaping. The CLI is
    /// asked only when a process that used it for this cache is gone (<paramref name="ownerLives"/> is false for its
    /// marker): its commands take a few hundred milliseconds each, which every start would pay otherwise.
    /// </summary>
    /// <param name="cacheDirectory">The cache.</param>
    /// <param name="ownerLives">Whether the owner recorded in a file still lives (the reaper's own test).</param>
    /// <param name="deadContainers">The directories of the containers being reaped: one the CLI ran brings the CLI in too.</param>
    /// <param name="cliMarkers">The CLI markers of owners that are gone: delete them once the CLI has been reaped.</param>
    public static IReadOnlyList<IContainerRuntime> ForCleanup(string cacheDirectory, Func<string, bool> ownerLives, IReadOnlyCollection<string> deadContainers, out IReadOnlyList<string> cliMarkers)
    {
        cliMarkers = [];
        var runtimes = new List<IContainerRuntime>();
        if (!OperatingSystem.IsLinux())
        {
            return CliRuntime.Find() is { } only ? [new CliRuntime(only.Name, only.Path)] : [];
        }

        foreach (var (name, path) in OciRuntime.Candidates().Where(r => Directory.Exists(OciStateRoot(cacheDirectory, r.Name))))
        {
            runtimes.Add(new OciRuntime(name, path, OciStateRoot(cacheDirectory, name)));
        }

        runtimes.Add(new NamespacesRuntime(ContainersDirectory(cacheDirectory)));

        // Only for owners of this cache that used the CLI and are gone: rootless, each podman command also starts a
        // pause process of the user's (catatonit) that outlives it, which a cache the CLI never ran for should not leave
        // behind. A marker of the older single-file form (no owner) counts as gone.
        if (CliRuntime.Find() is { } cli)
        {
            var markers = Directory.Exists(CliUsersDirectory(cacheDirectory, cli.Name))
                ? Directory.GetFiles(CliUsersDirectory(cacheDirectory, cli.Name)).Where(marker => !marker.Contains(".new-", StringComparison.Ordinal) && !ownerLives(marker)).ToList()
                : [];
            if (File.Exists(LegacyCliUsedMarker(cacheDirectory, cli.Name)))
            {
                markers.Add(LegacyCliUsedMarker(cacheDirectory, cli.Name));
            }

            if (markers.Count > 0 || deadContainers.Any(directory => RanWith(directory) == cli.Name))
            {
                runtimes.Add(new CliRuntime(cli.Name, cli.Path));
                cliMarkers = markers;
            }
        }

        return runtimes;
    }

    // Records that the CLI may hold containers, networks or volumes of this cache owned by the current owner (this
    // process, or the reused graph's supervisor it starts for), so reaping asks the CLI once that owner is gone.
    private static void MarkCliUsed(string cacheDirectory, string name)
    {
        var owner = Lifecycle.OwnerStamp.Current;
        var marker = Path.Combine(CliUsersDirectory(cacheDirectory, name), owner.Replace(' ', '-'));
        if (!File.Exists(marker))
        {
            // Whole or not at all: a reaper reading a half-written marker would take its owner for gone and delete it.
            Directory.CreateDirectory(CliUsersDirectory(cacheDirectory, name));
            var staging = marker + ".new-" + Guid.NewGuid().ToString("N");
            File.WriteAllText(staging, owner);
            File.Move(staging, marker, overwrite: true);
        }
    }

    /// <summary>Records in a container's directory which backend is starting it, for reaping.</summary>
    public static void RecordBackend(string containerDirectory, string name) => File.WriteAllText(Path.Combine(containerDirectory, "backend"), name);

    private static string? RanWith(string containerDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(containerDirectory, "backend"));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string CliUsersDirectory(string cacheDirectory, string name) => Path.Combine(cacheDirectory, name + "-users");

    private static string LegacyCliUsedMarker(string cacheDirectory, string name) => Path.Combine(cacheDirectory, name + "-used");

    private static string OciStateRoot(string cacheDirectory, string name) => Path.Combine(cacheDirectory, "runtime", name);

    private static string ContainersDirectory(string cacheDirectory) => Path.Combine(cacheDirectory, "containers");
}
