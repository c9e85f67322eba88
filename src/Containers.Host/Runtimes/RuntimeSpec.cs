using System.Text.Json.Nodes;
using Containers.Host.Images;
using Containers.Oci.Models;

namespace Containers.Host.Runtimes;

/// <summary>Writes the runtime-spec <c>config.json</c> of a bundle from an image config.</summary>
internal static class RuntimeSpec
{
    private static readonly string[] Capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    private static readonly string[] MaskedPaths =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ];

    private static readonly string[] ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <param name="rootfs">The root filesystem.</param>
    /// <param name="hostname">The container's host name.</param>
    /// <param name="args">The process arguments.</param>
    /// <param name="env">The process environment.</param>
    /// <param name="cwd">The working directory.</param>
    /// <param name="user">Who the process runs as.</param>
    /// <param name="rootless">
    /// Rootless (not root): the ids of the container's user namespace (the caller as its root, subordinate ids where
    /// there are). The spec then asks for a new user namespace with that mapping and shares the host's network, and
    /// binds /sys instead of mounting it, as <c>runc spec --rootless</c>; a private network joins the keeper's user
    /// namespace and a network namespace in it instead (<see cref="JoinUserNamespace"/>, <see cref="JoinNetworkNamespace"/>).
    /// </param>
    public static JsonObject Create(string rootfs, string hostname, IReadOnlyList<string> args, IReadOnlyList<string> env, string cwd, ImageUser user, RootlessIdMapping? rootless = null)
    {
        // No rlimit above what the caller may have: a runtime refuses to raise a hard limit for a non-privileged caller.
        NativeMethods.GetRLimit(NativeMethods.RlimitNofile, out var files);
        var hard = Math.Min(files.Maximum, 1_048_576UL);
        var soft = Math.Min(files.Current, hard);
        var spec = new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject
                {
                    ["uid"] = user.Uid,
                    ["gid"] = user.Gid,
                    ["additionalGids"] = new JsonArray([.. user.AdditionalGids.Select(g => (JsonNode)g)]),
                },
                ["args"] = Array(args),
                ["env"] = Array(env),
                ["cwd"] = cwd,
                ["capabilities"] = new JsonObject
                {
                    ["bounding"] = Array(Capabilities),
                    ["effective"] = Array(user.Uid == 0 ? Capabilities : []),
                    ["permitted"] = Array(user.Uid == 0 ? Capabilities : []),
                },
                ["rlimits"] = new JsonArray(new JsonObject { ["type"] = "RLIMIT_NOFILE", ["hard"] = hard, ["soft"] = soft }),
                ["noNewPrivileges"] = true,
            },
            ["root"] = new JsonObject { ["path"] = rootfs, ["readonly"] = false },
            ["hostname"] = hostname,
            ["mounts"] = new JsonArray(
                Mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
                Mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
                Mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                Mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
                Mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
                Mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"])),
            ["linux"] = new JsonObject
            {
                ["namespaces"] = new JsonArray(
                    new JsonObject { ["type"] = "pid" },
                    new JsonObject { ["type"] = "network" },
                    new JsonObject { ["type"] = "ipc" },
                    new JsonObject { ["type"] = "uts" },
                    new JsonObject { ["type"] = "mount" }),
                ["maskedPaths"] = Array(MaskedPaths),
                ["readonlyPaths"] = Array(ReadonlyPaths),
            },
        };
        if (rootless is not null)
        {
            var linux = spec["linux"]!.AsObject();
            var namespaces = linux["namespaces"]!.AsArray();
            namespaces.Remove(namespaces.Single(n => (string?)n!["type"] == "network"));
            namespaces.Add((JsonNode)new JsonObject { ["type"] = "user" });

            // runc writes a mapping of more than the caller's own id with newuidmap/newgidmap; joining a user namespace it
            // only reads it (which host uid is the container's root).
            linux["uidMappings"] = rootless.UidMappings();
            linux["gidMappings"] = rootless.GidMappings();
            var mounts = spec["mounts"]!.AsArray();
            var sysfs = mounts.Single(m => (string?)m!["destination"] == "/sys");
            mounts[mounts.IndexOf(sysfs)] = Mount("/sys", "none", "/sys", ["rbind", "nosuid", "noexec", "nodev", "ro"]);
        }

        return spec;
    }

    /// <summary>Makes the container join the network namespace at <paramref name="path"/> instead of getting a new one.</summary>
    public static void JoinNetworkNamespace(JsonObject spec, string path)
    {
        var namespaces = spec["linux"]!["namespaces"]!.AsArray();
        foreach (var network in namespaces.Where(n => (string?)n!["type"] == "network").ToList())
        {
            namespaces.Remove(network);
        }

        namespaces.Add((JsonNode)new JsonObject { ["type"] = "network", ["path"] = path });
    }

    /// <summary>Makes the container join the user namespace at <paramref name="path"/> (rootless: the keeper's) instead of getting a new one.</summary>
    public static void JoinUserNamespace(JsonObject spec, string path)
    {
        var namespaces = spec["linux"]!["namespaces"]!.AsArray();
        foreach (var user in namespaces.Where(n => (string?)n!["type"] == "user").ToList())
        {
            namespaces.Remove(user);
        }

        // Listed first: runc and nsenter must be in it before they may join the namespaces it owns.
        namespaces.Insert(0, new JsonObject { ["type"] = "user", ["path"] = path });
    }

    /// <summary>The user namespace the container joins, or null when it gets a new one (or none).</summary>
    public static string? UserNamespacePath(JsonNode spec) =>
        spec["linux"]?["namespaces"]?.AsArray().FirstOrDefault(n => (string?)n!["type"] == "user")?["path"]?.GetValue<string>();

    /// <summary>The network namespace the container joins, or null when it gets a new one (or none: rootless on the host's network).</summary>
    public static string? NetworkNamespacePath(JsonNode spec) =>
        spec["linux"]?["namespaces"]?.AsArray().FirstOrDefault(n => (string?)n!["type"] == "network")?["path"]?.GetValue<string>();

    /// <summary>Adds a bind mount of the host's <paramref name="source"/> (file or directory) at <paramref name="destination"/>.</summary>
    public static void AddBindMount(JsonObject spec, string source, string destination, bool readOnly) =>
        spec["mounts"]!.AsArray().Add((JsonNode)Mount(destination, "bind", source, ["rbind", readOnly ? "ro" : "rw", "nosuid", "nodev"]));

    /// <summary>Adds a tmpfs at <paramref name="destination"/>.</summary>
    public static void AddTmpfs(JsonObject spec, string destination, IEnumerable<string> options) =>
        spec["mounts"]!.AsArray().Add((JsonNode)Mount(destination, "tmpfs", "tmpfs", ["nosuid", "nodev", .. options]));

    /// <summary>Sets the cgroup limits: memory (and memory+swap, so nothing is swapped beyond it) in bytes, CPU as a quota of a 100 ms period.</summary>
    public static void SetLimits(JsonObject spec, long? memoryBytes, double? cpus)
    {
        var resources = new JsonObject();
        if (memoryBytes is { } memory)
        {
            resources["memory"] = new JsonObject { ["limit"] = memory, ["swap"] = memory };
        }

        if (cpus is { } cpu)
        {
            const long period = 100_000;
            resources["cpu"] = new JsonObject { ["quota"] = (long)Math.Max(1000, Math.Round(cpu * period)), ["period"] = period };
        }

        spec["linux"]!["resources"] = resources;
    }

    /// <summary>Records the container's labels as the spec's annotations.</summary>
    public static void SetAnnotations(JsonObject spec, IEnumerable<KeyValuePair<string, string>> labels)
    {
        var annotations = new JsonObject();
        foreach (var (name, value) in labels)
        {
            annotations[name] = value;
        }

        spec["annotations"] = annotations;
    }

    /// <summary>The mounts added beyond the standard ones (binds and tmpfs the caller asked for), in order.</summary>
    public static IEnumerable<JsonNode> AddedMounts(JsonNode spec) => spec["mounts"]!.AsArray().Skip(StandardMountCount).OfType<JsonNode>();

    /// <summary>The process environment: the image's, then the caller's overrides, PATH and HOME filled in when missing.</summary>
    public static List<string> Environment(ImageConfig config, IDictionary<string, string> overrides, ImageUser user)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string name, string value)
        {
            if (!values.ContainsKey(name))
            {
                order.Add(name);
            }

            values[name] = value;
        }

        foreach (var entry in config.Config?.Env ?? [])
        {
            var (name, value) = ContainerConfig.SplitEnvironmentVariable(entry);
            Set(name, value);
        }

        foreach (var (name, value) in overrides)
        {
            Set(name, value);
        }

        if (!values.ContainsKey("PATH"))
        {
            Set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        }

        if (!values.ContainsKey("HOME"))
        {
            Set("HOME", string.IsNullOrEmpty(user.Home) ? "/" : user.Home);
        }

        return order.Select(name => name + "=" + values[name]).ToList();
    }

    // The mounts Create writes: /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, /tmp.
    private const int StandardMountCount = 7;

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    private static JsonObject Mount(string destination, string type, string source, string[] options) =>
        new() { ["destination"] = destination, ["type"] = type, ["source"] = source, ["options"] = Array(options) };
}
