using System.Text.RegularExpressions;

namespace Containers.TestSupport;

/// <summary>
/// What Containers.Host left of containers, networks and volumes named by id: directories in its cache, named network
/// namespaces (with their veths), mounts, runtime state, processes running in their roots, podman containers, networks
/// and volumes. Ids come from the host's own log lines (<see cref="IdsInLog"/>), so the check holds while other tests
/// run containers of their own on the same machine.
/// </summary>
public static partial class HostLeftovers
{
    /// <summary>The container, network and volume ids the host's log lines name (<c>containers-sdk-…</c>).</summary>
    public static IReadOnlySet<string> IdsInLog(string log) =>
        IdPattern().Matches(log).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>Everything of <paramref name="ids"/> that still exists, described; empty when nothing is left.</summary>
    public static async Task<IReadOnlyList<string>> FindAsync(string cacheDirectory, IEnumerable<string> ids, CancellationToken cancellationToken = default)
    {
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var found = new List<string>();
        foreach (var kind in new[] { "containers", "networks", "volumes" })
        {
            var directory = Path.Combine(cacheDirectory, kind);
            foreach (var entry in Directory.Exists(directory) ? Directory.GetDirectories(directory) : [])
            {
                if (wanted.Contains(Path.GetFileName(entry)))
                {
                    found.Add($"directory {entry}");
                }
            }
        }

        foreach (var name in Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns").Select(Path.GetFileName) : [])
        {
            if (wanted.Contains(name!))
            {
                found.Add($"network namespace /run/netns/{name}");
            }
        }

        foreach (var line in await File.ReadAllLinesAsync("/proc/self/mountinfo", cancellationToken))
        {
            var mountPoint = line.Split(' ')[4];
            if (wanted.Any(id => mountPoint.Contains(id, StringComparison.Ordinal)))
            {
                found.Add($"mount {mountPoint}");
            }
        }

        foreach (var process in Directory.GetDirectories("/proc").Where(p => int.TryParse(Path.GetFileName(p), out _)))
        {
            string? root;
            try
            {
                root = new DirectoryInfo(Path.Combine(process, "root")).LinkTarget;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (root is not null && wanted.Any(id => root.Contains(id, StringComparison.Ordinal)))
            {
                found.Add($"process {Path.GetFileName(process)} running in {root}");
            }
        }

        var runtimeRoot = Path.Combine(cacheDirectory, "runtime");
        foreach (var stateRoot in Directory.Exists(runtimeRoot) ? Directory.GetDirectories(runtimeRoot) : [])
        {
            foreach (var state in Directory.GetDirectories(stateRoot))
            {
                if (wanted.Contains(Path.GetFileName(state)))
                {
                    found.Add($"runtime state {state}");
                }
            }
        }

        if (TestTools.FindOnPath("podman") is { } podman)
        {
            foreach (var (what, arguments) in new[] { ("podman container", new[] { "ps", "-a", "--format", "{{.Names}}" }), ("podman network", ["network", "ls", "--format", "{{.Name}}"]), ("podman volume", ["volume", "ls", "--format", "{{.Name}}"]) })
            {
                var listed = await TestTools.RunAsync(podman, arguments, cancellationToken: cancellationToken);
                foreach (var name in listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (wanted.Contains(name))
                    {
                        found.Add($"{what} {name}");
                    }
                }
            }
        }

        return found;
    }

    [GeneratedRegex(@"containers-sdk-(?:net-|vol-)?[0-9a-f]{12}\b")]
    private static partial Regex IdPattern();
}
