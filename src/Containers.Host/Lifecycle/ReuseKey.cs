using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Containers.Host.Storage;
using Containers.Oci.Digests;

namespace Containers.Host.Lifecycle;

/// <summary>
/// What decides whether a running reused graph is the one asked for: a canonical description of the graph as it would
/// start — one line per fact: each member's resolved image digest, command, environment after wiring, ports, networks
/// and aliases, volumes, mounts, copied files by content, user, limits, waits and dependencies; the graph's networks and
/// volumes; the backend; this host's build — and its SHA-256.
/// </summary>
internal static class ReuseKey
{
    // A different build of the host may speak another supervisor protocol or run containers differently.
    private static readonly string HostBuild = typeof(ReuseKey).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    /// <summary>The description of <paramref name="graph"/> with the members' images resolved to <paramref name="images"/>, run by <paramref name="runtime"/>.</summary>
    public static string Describe(ContainerGraph graph, IReadOnlyDictionary<string, ReusedImage> images, string runtime)
    {
        var text = new StringBuilder();
        void Line(params string?[] words)
        {
            for (var i = 0; i < words.Length; i++)
            {
                text.Append(i == 0 ? "" : " ").Append(Escape(words[i]));
            }

            text.Append('\n');
        }

        Line("format", "1");
        Line("host", HostBuild);
        Line("backend", runtime);
        Line("graph", graph.Name);
        var networks = new List<string>(graph.Networks);
        if (graph.Members.Any(m => m.Networks.Count == 0) && !networks.Contains(ContainerGraph.DefaultNetwork))
        {
            networks.Add(ContainerGraph.DefaultNetwork);
        }

        networks.Sort(StringComparer.Ordinal);
        foreach (var network in networks)
        {
            Line("network", network);
        }

        var volumes = new List<string>(graph.Volumes.Keys);
        volumes.Sort(StringComparer.Ordinal);
        foreach (var volume in volumes)
        {
            Line("volume", volume, graph.Volumes[volume] ? "kept" : "removed");
        }

        var members = new List<ContainerGraphMember>(graph.Members);
        members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var member in members)
        {
            var options = member.Options;
            void Fact(string field, params string?[] words) => Line(["member", member.Name, field, .. words]);

            Fact("image", images[member.Name].Digest);
            Fact("command", options.Command is null ? "(the image's)" : string.Join(' ', options.Command.Select(a => "[" + a + "]")));
            Fact("entrypoint", options.Entrypoint is null ? "(the image's)" : string.Join(' ', options.Entrypoint.Select(a => "[" + a + "]")));
            Fact("workdir", options.WorkingDirectory ?? "(the image's)");
            Fact("stop", options.StopSignal ?? "(the image's)");
            var labels = new List<string>(options.Labels.Keys);
            labels.Sort(StringComparer.Ordinal);
            foreach (var label in labels)
            {
                Fact("labels", label + "=" + options.Labels[label]);
            }

            var environment = WiredEnvironment(graph, member);
            var names = new List<string>(environment.Keys);
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names)
            {
                Fact("environment", name + "=" + environment[name]);
            }

            var ports = new SortedSet<int>(options.PublishedPorts);
            foreach (var port in ports)
            {
                Fact("ports", port.ToString(CultureInfo.InvariantCulture));
            }

            var joined = new List<string>();
            foreach (var (network, aliases) in member.Networks)
            {
                joined.Add(network + " " + string.Join(',', aliases));
            }

            joined.Sort(StringComparer.Ordinal);
            foreach (var network in member.Networks.Count == 0 ? [ContainerGraph.DefaultNetwork + " " + member.DefaultAlias] : joined)
            {
                Fact("networks", network);
            }

            foreach (var attachment in options.Networks)
            {
                Fact("networks", "external:" + attachment.Network.Name, string.Join(',', attachment.Aliases));
            }

            foreach (var (volume, path, readOnly) in member.VolumeMounts)
            {
                Fact("volumes", volume, path, readOnly ? "ro" : "rw");
            }

            foreach (var mount in options.Mounts)
            {
                Fact("mounts", DescribeMount(mount));
            }

            foreach (var file in options.Files)
            {
                Fact("files", file.ContainerPath, ContentHash(file), file.Mode is { } mode ? Convert.ToString((int)mode, 8) : "default", file.Uid.ToString(CultureInfo.InvariantCulture), file.Gid.ToString(CultureInfo.InvariantCulture));
            }

            Fact("user", options.User ?? "(the image's)");
            Fact("limits", options.MemoryLimitBytes?.ToString(CultureInfo.InvariantCulture) ?? "-", options.CpuLimit?.ToString(CultureInfo.InvariantCulture) ?? "-");
            Fact("hostname", options.Hostname ?? "(default)");
            foreach (var wait in options.WaitStrategies)
            {
                Fact("waits", wait.Kind.ToString(), wait.Description);
            }

            var dependencies = new List<string>();
            foreach (var (dependency, condition) in member.Dependencies)
            {
                dependencies.Add(dependency + " " + condition);
            }

            dependencies.Sort(StringComparer.Ordinal);
            foreach (var dependency in dependencies)
            {
                Fact("dependencies", dependency);
            }
        }

        return text.ToString();
    }

    /// <summary>The key: <c>sha256:</c> and the hex SHA-256 of the description.</summary>
    public static string Hash(string description) =>
        Digest.Compute(Encoding.UTF8.GetBytes(description)).ToString();

    /// <summary>The key as messages show it: its first 12 hex digits.</summary>
    public static string Short(string key) => key.StartsWith("sha256:", StringComparison.Ordinal) ? key["sha256:".Length..][..12] : key;

    /// <summary>What differs between two descriptions, e.g. <c>member app: image, environment</c>.</summary>
    public static string Differences(string recorded, string current)
    {
        static ILookup<string, string> Facts(string description) =>
            description.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToLookup(line =>
            {
                var words = line.Split(' ');
                return words[0] == "member" && words.Length > 2 ? "member " + words[1] + ": " + words[2] : words[0];
            });

        var before = Facts(recorded);
        var after = Facts(current);
        var changed = before.Select(g => g.Key).Union(after.Select(g => g.Key))
            .Where(key => !before[key].SequenceEqual(after[key]))
            .Select(key => key == "host" ? "another build of Containers.Host" : key)
            .ToList();
        var members = changed.Where(c => c.StartsWith("member ", StringComparison.Ordinal))
            .GroupBy(c => c[..c.IndexOf(':', StringComparison.Ordinal)], StringComparer.Ordinal)
            .Select(g => g.Key + ": " + string.Join(", ", g.Select(c => c[(c.IndexOf(':', StringComparison.Ordinal) + 2)..])));
        var all = changed.Where(c => !c.StartsWith("member ", StringComparison.Ordinal)).Concat(members).ToList();
        return all.Count == 0 ? "no difference found" : string.Join("; ", all);
    }

    /// <summary>The environment of <paramref name="member"/> with its wired variables computed from the graph's definition.</summary>
    public static Dictionary<string, string> WiredEnvironment(ContainerGraph graph, ContainerGraphMember member)
    {
        var environment = new Dictionary<string, string>(member.Options.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in member.WiredEnvironment)
        {
            environment[name] = value(graph);
        }

        return environment;
    }

    private static string DescribeMount(ContainerMount mount) => mount switch
    {
        // A bind mount is live: what is in it is not part of the graph, where it comes from is.
        BindMount bind => $"bind {bind.HostPath} {bind.ContainerPath} {(bind.ReadOnly ? "ro" : "rw")}",
        VolumeMount volume => $"volume {volume.Source.Name} {volume.ContainerPath} {(volume.ReadOnly ? "ro" : "rw")}",
        TmpfsMount tmpfs => $"tmpfs {tmpfs.ContainerPath} {string.Join(',', tmpfs.Options)}",
        _ => mount.ToString(),
    };

    // A copied file is part of the container: its content counts (a host directory's whole tree, with modes and links).
    private static string ContentHash(ContainerFile file)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (file.Content is { } content)
        {
            hash.AppendData(content.Span);
        }
        else if (Directory.Exists(file.HostPath))
        {
            foreach (var entry in new DirectoryInfo(file.HostPath).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).OrderBy(e => e.FullName, StringComparer.Ordinal))
            {
                hash.AppendData(Encoding.UTF8.GetBytes($"{Path.GetRelativePath(file.HostPath, entry.FullName)}\0{(OperatingSystem.IsWindows() ? 0 : (int)entry.UnixFileMode)}\0{entry.LinkTarget}\0"));
                if (entry is FileInfo regular && entry.LinkTarget is null)
                {
                    using var stream = regular.OpenRead();
                    hash.AppendData(SHA256.HashData(stream));
                }
            }
        }
        else if (file.HostPath is { } hostFile)
        {
            using var stream = File.OpenRead(hostFile);
            hash.AppendData(SHA256.HashData(stream));
            hash.AppendData(Encoding.UTF8.GetBytes(OperatingSystem.IsWindows() ? "" : ((int)File.GetUnixFileMode(hostFile)).ToString(CultureInfo.InvariantCulture)));
        }

        return Digest.FromHash(Digest.Sha256, hash.GetHashAndReset()).ToString();
    }

    // One fact per line, words apart by spaces: a value's own backslashes, newlines and spaces are escaped.
    private static string Escape(string? word) =>
        word is null ? "-" : word.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace(" ", "\\s", StringComparison.Ordinal);
}
