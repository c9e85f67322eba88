using System.Globalization;
using Containers.Host.Images;
using Containers.Host.Networking;
using Containers.Oci;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Containers.Host.Compose;

/// <summary>Reads a compose file's YAML tree (YamlDotNet's representation model) into the validated model, collecting warnings with key paths.</summary>
internal sealed class ComposeReader
{
    private const string Unsupported = "ignored: the Containers.Sdk host does not support it";

    private static readonly HashSet<string> TopLevelKeys = ["version", "name", "services", "networks", "volumes", "configs", "secrets", "include", "models"];

    private static readonly HashSet<string> ServiceKeys =
    [
        "build", "command", "cpus", "depends_on", "deploy", "entrypoint", "env_file", "environment", "expose", "healthcheck",
        "hostname", "image", "labels", "mem_limit", "networks", "ports", "profiles", "stop_grace_period", "stop_signal", "tmpfs",
        "user", "volumes", "working_dir",
    ];

    // Keys of the compose specification the host does not honour, with what happens instead.
    private static readonly Dictionary<string, string> IgnoredServiceKeys = new(StringComparer.Ordinal)
    {
        ["restart"] = "ignored: the host never restarts a container; a test sees its exit (RunningContainer.Exited)",
        ["container_name"] = "ignored: the host names containers itself (containers-sdk-<id>); other services reach this one by its service name",
        ["privileged"] = "ignored: containers never run privileged",
        ["cap_add"] = "ignored: containers get the host's fixed capability set",
        ["cap_drop"] = "ignored: containers get the host's fixed capability set",
        ["logging"] = "ignored: the host keeps the container's output (RunningContainer.Logs)",
        ["platform"] = "ignored: the image for this machine's platform is run",
        ["pull_policy"] = "ignored: images are pulled once into the host's cache, a tag is checked at each start",
        ["links"] = "ignored: services reach each other by name and aliases on the networks they share",
        ["external_links"] = "ignored: only the graph's own services are reachable",
        ["network_mode"] = "ignored: the service joins the graph's networks",
        ["ulimits"] = "ignored: the container gets the test process's open-file limit",
        ["init"] = "ignored: the app runs as pid 1, as without --init",
        ["tty"] = "ignored: containers run without a terminal",
        ["stdin_open"] = "ignored: containers run without standard input",
        ["extends"] = "ignored: the service is read without what it extends; copy those keys in, or use a YAML anchor",
        ["scale"] = "ignored: one container per service",
        ["read_only"] = "ignored: the root filesystem is writable (the writes stay in the container)",
    };

    private static readonly string[] AllServiceKeys =
    [
        .. ServiceKeys, .. IgnoredServiceKeys.Keys, "annotations", "attach", "blkio_config", "cpu_count", "cpu_percent", "cpu_shares",
        "cpu_period", "cpu_quota", "cpu_rt_runtime", "cpu_rt_period", "cpuset", "cgroup", "cgroup_parent", "configs", "credential_spec",
        "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname", "extra_hosts", "gpus", "group_add",
        "ipc", "isolation", "label_file", "mac_address", "mem_reservation", "mem_swappiness", "memswap_limit", "models",
        "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "post_start", "pre_stop", "provider", "runtime", "secrets",
        "security_opt", "shm_size", "storage_opt", "sysctls", "use_api_socket", "userns_mode", "uts", "volumes_from",
    ];

    private readonly string _file;
    private readonly string _directory;
    private readonly Func<string, string?> _lookup;
    private readonly List<ComposeWarning> _warnings = [];
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);
    private bool _warnedFixedHostPort;

    public ComposeReader(string file, string directory, Func<string, string?> lookup)
    {
        _file = file;
        _directory = directory;
        _lookup = lookup;
    }

    public IReadOnlyList<ComposeWarning> Warnings => _warnings;

    public IReadOnlyDictionary<string, (int Line, int Column)> Positions => _positions;

    /// <summary>Parses YAML text into its root mapping (anchors, aliases and <c>&lt;&lt;</c> merges resolved).</summary>
    public YamlMappingNode ParseYaml(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new MergingParser(new Parser(new StringReader(text))));
        }
        catch (YamlException ex)
        {
            var reason = (ex.InnerException?.Message ?? ex.Message).TrimEnd('.');
            throw new ComposeFileException(_file, null, (int)ex.Start.Line, (int)ex.Start.Column, $"not valid YAML: {reason}. Check the indentation and quoting there (a value with ': ' or '#' needs quotes).", ex);
        }
        catch (ArgumentException ex)
        {
            throw new ComposeFileException(_file, null, null, null, $"not valid YAML: {ex.Message} (a key appears twice in one mapping?); give each key once.", ex);
        }

        if (stream.Documents.Count == 0)
        {
            throw new ComposeFileException(_file, null, null, null, "the file is empty; a compose file is a mapping with at least 'services:'.");
        }

        if (stream.Documents.Count > 1)
        {
            throw new ComposeFileException(_file, null, (int)stream.Documents[1].RootNode.Start.Line, null, "the file holds more than one YAML document ('---'); keep one.");
        }

        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw Error(stream.Documents[0].RootNode, null, $"expected a mapping (services:, networks:, volumes:) at the top, found {Describe(stream.Documents[0].RootNode)}.");
    }

    /// <summary>The top-level keys other than services, networks and volumes: warnings; returns the project name written in the file, if any.</summary>
    public string? ReadTopLevel(YamlMappingNode root)
    {
        string? name = null;
        foreach (var (key, value, path) in Entries(root, null))
        {
            switch (key)
            {
                case "version":
                    Warn(value, path, "ignored: the attribute is obsolete (compose ignores it too)");
                    break;
                case "name":
                    name = Scalar(value, path, "a project name");
                    break;
                case "services" or "networks" or "volumes":
                    break;
                case "configs" or "secrets" or "include" or "models":
                    Warn(value, path, Unsupported);
                    break;
                default:
                    UnknownKey(value, path, key, TopLevelKeys);
                    break;
            }
        }

        return name;
    }

    public List<string> ReadNetworks(YamlMappingNode root)
    {
        var names = new List<string>();
        if (Child(root, "networks") is not { } networks || IsNull(networks))
        {
            return names;
        }

        foreach (var (name, value, path) in Entries(Mapping(networks, "networks", "a mapping of network names"), "networks"))
        {
            ValidateName(value, path, name, "network");
            names.Add(name);
            if (IsNull(value))
            {
                continue;
            }

            foreach (var (key, setting, settingPath) in Entries(Mapping(value, path, "a network definition (a mapping, or nothing)"), path))
            {
                switch (key)
                {
                    case "internal":
                        // Graph networks never reach outside anyway.
                        break;
                    case "driver":
                        if (Scalar(setting, settingPath, "a driver name") != "bridge")
                        {
                            Warn(setting, settingPath, "ignored: graph networks are always private bridges");
                        }

                        break;
                    case "external":
                        Warn(setting, settingPath, "ignored: the network is created for the graph and removed after it");
                        break;
                    case "name":
                        Warn(setting, settingPath, "ignored: the host names networks itself; services use the key");
                        break;
                    case "attachable" or "driver_opts" or "enable_ipv4" or "enable_ipv6" or "ipam" or "labels":
                        Warn(setting, settingPath, Unsupported);
                        break;
                    default:
                        UnknownKey(setting, settingPath, key, ["driver", "driver_opts", "attachable", "enable_ipv4", "enable_ipv6", "external", "internal", "ipam", "labels", "name"]);
                        break;
                }
            }
        }

        return names;
    }

    public List<string> ReadVolumes(YamlMappingNode root)
    {
        var names = new List<string>();
        if (Child(root, "volumes") is not { } volumes || IsNull(volumes))
        {
            return names;
        }

        foreach (var (name, value, path) in Entries(Mapping(volumes, "volumes", "a mapping of volume names"), "volumes"))
        {
            ValidateName(value, path, name, "volume");
            names.Add(name);
            if (IsNull(value))
            {
                continue;
            }

            foreach (var (key, setting, settingPath) in Entries(Mapping(value, path, "a volume definition (a mapping, or nothing)"), path))
            {
                switch (key)
                {
                    case "external":
                        Warn(setting, settingPath, "ignored: the volume is created for the graph and removed after it");
                        break;
                    case "name":
                        Warn(setting, settingPath, "ignored: the host names volumes itself (<project>-<key>)");
                        break;
                    case "driver" or "driver_opts" or "labels":
                        Warn(setting, settingPath, Unsupported);
                        break;
                    default:
                        UnknownKey(setting, settingPath, key, ["driver", "driver_opts", "external", "labels", "name"]);
                        break;
                }
            }
        }

        return names;
    }

    /// <summary>The services whose profiles are active, in file order; <paramref name="left"/> gets those left out.</summary>
    public List<(string Name, YamlMappingNode Node)> SelectServices(YamlMappingNode root, IReadOnlyCollection<string> activeProfiles, List<string> left)
    {
        var services = Child(root, "services") ?? throw Error(root, null, "the file has no 'services:'; declare at least one service (services: { web: { image: ... } }).");
        var selected = new List<(string, YamlMappingNode)>();
        foreach (var (name, value, path) in Entries(Mapping(services, "services", "a mapping of service names"), "services"))
        {
            ValidateName(value, path, name, "service");
            var service = Mapping(value, path, "a service definition (image:, build:, ...)");
            if (Child(service, "profiles") is { } profiles)
            {
                var names = StringList(profiles, path + ".profiles", "profile names");
                if (!names.Any(activeProfiles.Contains))
                {
                    Warn(profiles, path + ".profiles", $"the service is left out: none of its profiles ({string.Join(", ", names)}) is active (ComposeLoadOptions.Profiles or COMPOSE_PROFILES)");
                    left.Add(name);
                    continue;
                }
            }

            selected.Add((name, service));
        }

        if (selected.Count == 0 && left.Count == 0)
        {
            throw Error(services, "services", "no service is declared; add one (web: { image: ... }).");
        }

        return selected;
    }

    public ComposeService ReadService(string name, YamlMappingNode service, IReadOnlyCollection<string> serviceNames, IReadOnlyCollection<string> leftOut, IReadOnlyCollection<string> networks, IReadOnlyCollection<string> volumes)
    {
        var path = "services." + name;
        foreach (var (key, value, keyPath) in Entries(service, path))
        {
            if (!ServiceKeys.Contains(key))
            {
                if (IgnoredServiceKeys.TryGetValue(key, out var why))
                {
                    Warn(value, keyPath, why);
                }
                else if (AllServiceKeys.Contains(key))
                {
                    Warn(value, keyPath, Unsupported);
                }
                else
                {
                    UnknownKey(value, keyPath, key, AllServiceKeys);
                }
            }
        }

        var image = Child(service, "image") is { } imageNode && !IsNull(imageNode) ? Scalar(imageNode, path + ".image", "an image reference") : null;
        var build = Child(service, "build") is { } buildNode && !IsNull(buildNode) ? ReadBuild(buildNode, path + ".build") : null;
        if (image is null && build is null)
        {
            throw Error(service, path, "the service has neither 'image' nor 'build'; add image: (a registry reference like postgres:15, or oci:DIR:TAG) or build: (the project directory).");
        }

        ContainerImageSource? source = null;
        if (image is not null)
        {
            try
            {
                source = ContainerImageSource.Parse(ResolveImagePath(image));
            }
            catch (OciException ex)
            {
                throw Error(Child(service, "image"), path + ".image", ex.Message);
            }
        }

        var (memory, cpus) = ReadLimits(service, path);
        return new ComposeService(name)
        {
            Image = image,
            ImageSource = source,
            Build = build,
            Command = Child(service, "command") is { } command ? CommandLine(command, path + ".command") : null,
            Entrypoint = Child(service, "entrypoint") is { } entrypoint ? CommandLine(entrypoint, path + ".entrypoint") : null,
            Environment = ReadEnvironment(service, path),
            Ports = Child(service, "ports") is { } ports ? ReadPorts(ports, path + ".ports") : [],
            Expose = Child(service, "expose") is { } expose ? ReadExpose(expose, path + ".expose") : [],
            DependsOn = Child(service, "depends_on") is { } dependsOn ? ReadDependencies(dependsOn, path + ".depends_on", name, serviceNames, leftOut) : [],
            HealthCheck = Child(service, "healthcheck") is { } health && !IsNull(health) ? ReadHealthCheck(health, path + ".healthcheck") : null,
            Mounts = ReadMounts(service, path, name, volumes),
            Networks = Child(service, "networks") is { } serviceNetworks && !IsNull(serviceNetworks) ? ReadServiceNetworks(serviceNetworks, path + ".networks", networks) : [],
            User = OptionalScalar(service, "user", path, "a user (name, uid, name:group or uid:gid)"),
            WorkingDirectory = Child(service, "working_dir") is { } workingDir && !IsNull(workingDir) ? AbsoluteContainerPath(workingDir, path + ".working_dir") : null,
            Hostname = OptionalScalar(service, "hostname", path, "a host name"),
            StopSignal = OptionalScalar(service, "stop_signal", path, "a signal name like SIGINT"),
            StopGracePeriod = Child(service, "stop_grace_period") is { } grace && !IsNull(grace) ? Duration(grace, path + ".stop_grace_period") : null,
            MemoryLimitBytes = memory,
            Cpus = cpus,
            Labels = Child(service, "labels") is { } labels ? KeyValues(labels, path + ".labels", "labels", fromVariables: false) : new Dictionary<string, string>(),
        };
    }

    // oci:, oci-archive: and docker-archive: paths are relative to the compose file, as every path in it.
    private string ResolveImagePath(string image)
    {
        foreach (var prefix in new[] { "oci:", "oci-archive:", "docker-archive:" })
        {
            if (image.StartsWith(prefix, StringComparison.Ordinal) && image.Length > prefix.Length)
            {
                return prefix + HostPath(image[prefix.Length..]);
            }
        }

        return image;
    }

    private ComposeBuild ReadBuild(YamlNode node, string path)
    {
        if (node is YamlScalarNode)
        {
            return new ComposeBuild(Context(Scalar(node, path, "a build context")), null, null, new Dictionary<string, string>());
        }

        var build = Mapping(node, path, "a build context (a path) or a mapping with context:");
        foreach (var (key, value, keyPath) in Entries(build, path))
        {
            if (key is not ("context" or "dockerfile" or "target" or "args"))
            {
                Warn(value, keyPath, "ignored: the image is built by the caller's build resolver (ComposeGraphOptions.BuildImage), which decides how");
            }
        }

        return new ComposeBuild(
            Context(OptionalScalar(build, "context", path, "a build context") ?? "."),
            OptionalScalar(build, "dockerfile", path, "a Dockerfile name"),
            OptionalScalar(build, "target", path, "a build stage"),
            Child(build, "args") is { } args ? KeyValues(args, path + ".args", "build arguments", fromVariables: true) : new Dictionary<string, string>());

        string Context(string context) => context.Contains("://", StringComparison.Ordinal) || context.StartsWith("git@", StringComparison.Ordinal) ? context : HostPath(context);
    }

    private Dictionary<string, string> ReadEnvironment(YamlMappingNode service, string path)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Child(service, "env_file") is { } envFile && !IsNull(envFile))
        {
            var entries = envFile is YamlSequenceNode files ? files.Children.Select((n, i) => (n, $"{path}.env_file[{i}]")).ToList() : [(envFile, path + ".env_file")];
            foreach (var (entry, entryPath) in entries)
            {
                string file;
                var required = true;
                var raw = false;
                if (entry is YamlMappingNode fileEntry)
                {
                    file = OptionalScalar(fileEntry, "path", entryPath, "a file path") ?? throw Error(entry, entryPath, "an env_file entry needs 'path:'.");
                    required = Child(fileEntry, "required") is not { } requiredNode || Boolean(requiredNode, entryPath + ".required");
                    raw = OptionalScalar(fileEntry, "format", entryPath, "a format") is { } format && (format == "raw" ? true : throw Error(Child(fileEntry, "format"), entryPath + ".format", $"'{format}' is not a format compose reads; leave it out, or write raw."));
                }
                else
                {
                    file = Scalar(entry, entryPath, "a file path");
                }

                var full = HostPath(file);
                if (!File.Exists(full))
                {
                    if (required)
                    {
                        throw Error(entry, entryPath, $"the env file '{full}' does not exist; create it, or mark it optional ({{ path: {file}, required: false }}).");
                    }

                    continue;
                }

                try
                {
                    foreach (var (name, value) in DotEnvFile.Parse(File.ReadAllText(full), raw ? null : (text, local) => ComposeInterpolation.Interpolate(text, v => local(v) ?? _lookup(v), _ => { })))
                    {
                        environment[name] = value;
                    }
                }
                catch (FormatException ex)
                {
                    throw Error(entry, entryPath, $"'{full}' {ex.Message} Write NAME=VALUE lines.");
                }
            }
        }

        if (Child(service, "environment") is { } variables)
        {
            var unset = new List<string>();
            foreach (var (name, value) in KeyValues(variables, path + ".environment", "environment variables", fromVariables: true, unset))
            {
                environment[name] = value;
            }

            // A name alone with no value to take is unset, even when an env file set it (compose's precedence).
            foreach (var name in unset)
            {
                environment.Remove(name);
            }
        }

        return environment;
    }

    /// <summary>
    /// A map or a list of NAME=VALUE; <paramref name="fromVariables"/>: a name alone takes the variable's value, or is
    /// left out (and added to <paramref name="unset"/>) when it has none.
    /// </summary>
    private Dictionary<string, string> KeyValues(YamlNode node, string path, string what, bool fromVariables, List<string>? unset = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (IsNull(node))
        {
            return values;
        }

        void Set(string name, string? value, YamlNode at, string atPath)
        {
            if (name.Length == 0)
            {
                throw Error(at, atPath, $"an entry of {what} has no name; write NAME=VALUE.");
            }

            if (value is null && fromVariables)
            {
                value = _lookup(name);
                if (value is null)
                {
                    unset?.Add(name);
                    return;
                }
            }

            values[name] = value ?? "";
        }

        if (node is YamlMappingNode map)
        {
            foreach (var (name, value, entryPath) in Entries(map, path))
            {
                Set(name, IsNull(value) ? null : Scalar(value, entryPath, "a value"), value, entryPath);
            }
        }
        else if (node is YamlSequenceNode list)
        {
            for (var i = 0; i < list.Children.Count; i++)
            {
                var entry = Scalar(list.Children[i], $"{path}[{i}]", "NAME=VALUE");
                var equals = entry.IndexOf('=', StringComparison.Ordinal);
                Set(equals < 0 ? entry : entry[..equals], equals < 0 ? null : entry[(equals + 1)..], list.Children[i], $"{path}[{i}]");
            }
        }
        else
        {
            throw Error(node, path, $"expected {what} as a mapping (NAME: value) or a list (- NAME=value), found {Describe(node)}.");
        }

        return values;
    }

    private List<ComposePort> ReadPorts(YamlNode node, string path)
    {
        var ports = new List<ComposePort>();
        foreach (var (entry, entryPath) in Items(node, path, "a list of ports"))
        {
            if (entry is YamlMappingNode longForm)
            {
                foreach (var (key, value, keyPath) in Entries(longForm, entryPath))
                {
                    if (key is not ("target" or "published" or "host_ip" or "protocol" or "mode" or "name" or "app_protocol"))
                    {
                        UnknownKey(value, keyPath, key, ["target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"]);
                    }
                }

                var targetNode = Child(longForm, "target") ?? throw Error(entry, entryPath, "a port in the long form needs 'target:' (the container port), e.g. { target: 80 }.");
                var target = Port(Scalar(targetNode, entryPath + ".target", "a port"), targetNode, entryPath + ".target");
                var protocol = OptionalScalar(longForm, "protocol", entryPath, "tcp or udp") ?? "tcp";
                AddPorts(ports, [target], protocol, OptionalScalar(longForm, "published", entryPath, "a host port"), OptionalScalar(longForm, "host_ip", entryPath, "an address"), entry, entryPath);
                continue;
            }

            var text = Scalar(entry, entryPath, "a port mapping");
            var (containerPorts, hostPort, hostIp, proto) = ParseShortPort(text, entry, entryPath);
            AddPorts(ports, containerPorts, proto, hostPort, hostIp, entry, entryPath);
        }

        return ports;
    }

    private void AddPorts(List<ComposePort> ports, List<int> containerPorts, string protocol, string? hostPort, string? hostIp, YamlNode node, string path)
    {
        if (protocol is not ("tcp" or "udp" or "sctp"))
        {
            throw Error(node, path, $"'{protocol}' is not a protocol; write tcp or udp.");
        }

        if (protocol != "tcp")
        {
            Warn(node, path, $"ignored: only TCP ports are published ({protocol} is not)");
            return;
        }

        if (!string.IsNullOrEmpty(hostPort) && !_warnedFixedHostPort)
        {
            _warnedFixedHostPort = true;
            Warn(node, path, $"host port {hostPort} is not honoured: the host publishes every container port on a free 127.0.0.1 port (RunningContainer.GetPublishedPort({containerPorts[0].ToString(CultureInfo.InvariantCulture)}) says which); the same goes for every fixed host port in this file");
        }

        ports.AddRange(containerPorts.Select(p => new ComposePort(p, protocol, string.IsNullOrEmpty(hostPort) ? null : hostPort, hostIp)));
    }

    private (List<int> ContainerPorts, string? HostPort, string? HostIp, string Protocol) ParseShortPort(string text, YamlNode node, string path)
    {
        var protocol = "tcp";
        var spec = text.Trim();
        var slash = spec.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = spec[(slash + 1)..];
            spec = spec[..slash];
        }

        string? hostIp = null;
        if (spec.StartsWith('['))
        {
            var close = spec.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                throw PortError();
            }

            hostIp = spec[1..close];
            spec = spec[(close + 2)..];
        }

        var parts = spec.Split(':');
        string? hostPort = null;
        if (parts.Length == 2)
        {
            hostPort = parts[0];
        }
        else if (parts.Length >= 3)
        {
            hostIp ??= string.Join(':', parts[..^2]);
            hostPort = parts[^2];
        }

        if (hostPort is { Length: > 0 })
        {
            PortRange(hostPort, node, path, PortError);
        }

        return (PortRange(parts[^1], node, path, PortError), hostPort, hostIp, protocol);

        ComposeFileException PortError() => Error(node, path, $"'{text}' is not a port mapping: expected CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER, each port 1-65535 or a range like 8000-8010, optionally /tcp or /udp (e.g. \"5432\", \"8080:80\", \"127.0.0.1:8080:80/tcp\").");
    }

    private static List<int> PortRange(string text, YamlNode node, string path, Func<ComposeFileException> error)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return [ParsePort(text) ?? throw error()];
        }

        var first = ParsePort(text[..dash]) ?? throw error();
        var last = ParsePort(text[(dash + 1)..]) ?? throw error();
        if (last < first || last - first > 1000)
        {
            throw error();
        }

        return Enumerable.Range(first, last - first + 1).ToList();
    }

    private static int? ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535 ? port : null;

    private int Port(string text, YamlNode node, string path) =>
        ParsePort(text.Trim()) ?? throw Error(node, path, $"'{text}' is not a port; expected a number from 1 to 65535.");

    private List<int> ReadExpose(YamlNode node, string path)
    {
        var ports = new List<int>();
        foreach (var (entry, entryPath) in Items(node, path, "a list of ports"))
        {
            var text = Scalar(entry, entryPath, "a port");
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0 && text[(slash + 1)..] != "tcp")
            {
                Warn(entry, entryPath, "ignored: only TCP ports are published");
                continue;
            }

            ports.AddRange(PortRange(slash < 0 ? text.Trim() : text[..slash].Trim(), entry, entryPath, () => Error(entry, entryPath, $"'{text}' is not a port: expected a number from 1 to 65535 or a range like 8000-8010, optionally /tcp.")));
        }

        return ports;
    }

    private List<ComposeDependency> ReadDependencies(YamlNode node, string path, string self, IReadOnlyCollection<string> services, IReadOnlyCollection<string> leftOut)
    {
        var dependencies = new List<ComposeDependency>();
        void Add(string target, ComposeDependencyCondition condition, bool required, YamlNode at, string atPath)
        {
            if (target == self)
            {
                throw Error(at, atPath, $"the service {self} depends on itself; remove that entry.");
            }

            if (!services.Contains(target))
            {
                var why = leftOut.Contains(target) ? $"'{target}' is left out (its profiles are not active)" : $"'{target}' is not a service of this file";
                if (required)
                {
                    throw Error(at, atPath, $"{why}; the services are {string.Join(", ", services)}. Fix the name{(leftOut.Contains(target) ? ", activate its profile" : "")}, or mark the dependency required: false.");
                }

                Warn(at, atPath, $"ignored: {why} and the dependency is not required");
                return;
            }

            dependencies.Add(new ComposeDependency(target, condition, required));
        }

        if (node is YamlSequenceNode list)
        {
            for (var i = 0; i < list.Children.Count; i++)
            {
                Add(Scalar(list.Children[i], $"{path}[{i}]", "a service name"), ComposeDependencyCondition.ServiceStarted, true, list.Children[i], $"{path}[{i}]");
            }

            return dependencies;
        }

        foreach (var (target, value, targetPath) in Entries(Mapping(node, path, "a list of service names or a mapping of them to conditions"), path))
        {
            var condition = ComposeDependencyCondition.ServiceStarted;
            var required = true;
            if (!IsNull(value))
            {
                var settings = Mapping(value, targetPath, "a mapping with condition:");
                foreach (var (key, setting, keyPath) in Entries(settings, targetPath))
                {
                    switch (key)
                    {
                        case "condition":
                            condition = Scalar(setting, keyPath, "a condition") switch
                            {
                                "service_started" => ComposeDependencyCondition.ServiceStarted,
                                "service_healthy" => ComposeDependencyCondition.ServiceHealthy,
                                "service_completed_successfully" => ComposeDependencyCondition.ServiceCompletedSuccessfully,
                                var other => throw Error(setting, keyPath, $"'{other}' is not a condition; expected service_started, service_healthy or service_completed_successfully."),
                            };
                            break;
                        case "required":
                            required = Boolean(setting, keyPath);
                            break;
                        case "restart":
                            Warn(setting, keyPath, "ignored: the host does not restart services");
                            break;
                        default:
                            UnknownKey(setting, keyPath, key, ["condition", "required", "restart"]);
                            break;
                    }
                }
            }

            Add(target, condition, required, value, targetPath);
        }

        return dependencies;
    }

    private ComposeHealthCheck ReadHealthCheck(YamlNode node, string path)
    {
        var map = Mapping(node, path, "a health check (test:, interval:, ...)");
        var check = new ComposeHealthCheck();
        foreach (var (key, value, keyPath) in Entries(map, path))
        {
            check = key switch
            {
                "test" => ReadTest(value, keyPath, check),
                "interval" => check with { Interval = Duration(value, keyPath) },
                "timeout" => check with { Timeout = Duration(value, keyPath) },
                "start_period" => check with { StartPeriod = Duration(value, keyPath) },
                "retries" => check with { Retries = Integer(value, keyPath, "a number of retries") is var retries and > 0 ? retries : 3 },
                "disable" => check with { Disabled = check.Disabled || Boolean(value, keyPath) },
                "start_interval" => check,
                _ => UnknownHealthKey(value, keyPath, key, check),
            };
        }

        return check;

        ComposeHealthCheck UnknownHealthKey(YamlNode value, string keyPath, string key, ComposeHealthCheck unchanged)
        {
            UnknownKey(value, keyPath, key, ["test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"]);
            return unchanged;
        }
    }

    private ComposeHealthCheck ReadTest(YamlNode node, string path, ComposeHealthCheck check)
    {
        if (node is YamlScalarNode)
        {
            var shell = Scalar(node, path, "a command");
            return shell == "NONE" ? check with { Test = ["NONE"], Disabled = true } : check with { Test = ["CMD-SHELL", shell] };
        }

        var test = StringList(node, path, "a test like [\"CMD\", \"pg_isready\"]");
        return test.Count == 0 ? throw Error(node, path, "the test is empty; write [\"CMD\", \"command\", ...], [\"CMD-SHELL\", \"command\"] or [\"NONE\"].")
            : test[0] == "NONE" ? check with { Test = ["NONE"], Disabled = true }
            : test[0] == "CMD" && test.Count > 1 ? check with { Test = test }
            : test[0] == "CMD-SHELL" && test.Count == 2 ? check with { Test = test }
            : throw Error(node, path, $"a test list starts with CMD (then the command and its arguments), CMD-SHELL (then one shell command) or NONE; found [{string.Join(", ", test)}].");
    }

    private List<ComposeMount> ReadMounts(YamlMappingNode service, string path, string serviceName, IReadOnlyCollection<string> volumes)
    {
        var mounts = new List<ComposeMount>();
        if (Child(service, "volumes") is { } list && !IsNull(list))
        {
            foreach (var (entry, entryPath) in Items(list, path + ".volumes", "a list of mounts"))
            {
                if (ReadMount(entry, entryPath, volumes) is { } mount)
                {
                    mounts.Add(mount);
                }
            }
        }

        if (Child(service, "tmpfs") is { } tmpfs && !IsNull(tmpfs))
        {
            foreach (var (entry, entryPath) in Items(tmpfs, path + ".tmpfs", "a path or a list of paths"))
            {
                var text = Scalar(entry, entryPath, "a path[:options]");
                var colon = text.IndexOf(':', StringComparison.Ordinal);
                var target = colon < 0 ? text : text[..colon];
                var mount = new ComposeMount(ComposeMountType.Tmpfs, null, AbsoluteContainerPath(target, entry, entryPath), false);
                foreach (var option in colon < 0 ? [] : text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = option.IndexOf('=', StringComparison.Ordinal);
                    var (name, value) = equals < 0 ? (option, "") : (option[..equals], option[(equals + 1)..]);
                    mount = name switch
                    {
                        "size" => mount with { TmpfsSizeBytes = Bytes(value, entry, entryPath) },
                        "mode" => mount with { TmpfsMode = Mode(value, entry, entryPath) },
                        _ => WarnTmpfsOption(option, mount),
                    };
                }

                mounts.Add(mount);
            }
        }

        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in mounts)
        {
            if (!targets.Add(mount.Target.TrimEnd('/')))
            {
                throw Error(service, path, $"two mounts of the service {serviceName} go to {mount.Target}; keep one.");
            }
        }

        return mounts;

        ComposeMount WarnTmpfsOption(string option, ComposeMount mount)
        {
            Warn(Child(service, "tmpfs")!, path + ".tmpfs", $"the option '{option}' is ignored: a tmpfs gets size and mode only (nosuid, nodev)");
            return mount;
        }
    }

    private ComposeMount? ReadMount(YamlNode entry, string path, IReadOnlyCollection<string> volumes)
    {
        if (entry is YamlMappingNode longForm)
        {
            return ReadLongMount(longForm, path, volumes);
        }

        var text = Scalar(entry, path, "a mount like data:/var/lib/data or ./dir:/dir:ro");
        var parts = text.Split(':');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0))
        {
            throw Error(entry, path, $"'{text}' is not a mount: expected SOURCE:TARGET[:ro] (a volume name or a path starting with ., / or ~, then the path inside the container) or TARGET alone.");
        }

        if (parts.Length == 1)
        {
            return new ComposeMount(ComposeMountType.Volume, null, AbsoluteContainerPath(parts[0], entry, path), false);
        }

        var readOnly = false;
        foreach (var option in parts.Length == 3 ? parts[2].Split(',') : [])
        {
            switch (option)
            {
                case "ro":
                    readOnly = true;
                    break;
                case "rw" or "z" or "Z" or "cached" or "delegated" or "consistent":
                    break;
                case "nocopy":
                    Warn(entry, path, "the option nocopy is ignored: an empty volume gets the image's content at its mount point");
                    break;
                case "shared" or "rshared" or "slave" or "rslave" or "private" or "rprivate":
                    Warn(entry, path, $"the option {option} is ignored: mounts are private (rbind)");
                    break;
                default:
                    throw Error(entry, path, $"'{option}' is not a mount option; expected ro or rw.");
            }
        }

        return MountOf(parts[0], AbsoluteContainerPath(parts[1], entry, path), readOnly, entry, path, volumes);
    }

    private ComposeMount? ReadLongMount(YamlMappingNode map, string path, IReadOnlyCollection<string> volumes)
    {
        var type = OptionalScalar(map, "type", path, "volume, bind or tmpfs") ?? throw Error(map, path, "a mount in the long form needs 'type:' (volume, bind or tmpfs).");
        var targetNode = Child(map, "target") ?? throw Error(map, path, "a mount in the long form needs 'target:' (the path inside the container).");
        var target = AbsoluteContainerPath(targetNode, path + ".target");
        var readOnly = Child(map, "read_only") is { } readOnlyNode && Boolean(readOnlyNode, path + ".read_only");
        var source = OptionalScalar(map, "source", path, "a volume name or host path");
        ComposeMount? mount = null;
        switch (type)
        {
            case "volume":
                mount = source is null ? new ComposeMount(ComposeMountType.Volume, null, target, readOnly) : MountOf(source, target, readOnly, map, path + ".source", volumes, namedOnly: true);
                break;
            case "bind":
                mount = MountOf(source ?? throw Error(map, path, "a bind mount needs 'source:' (a host path)."), target, readOnly, map, path + ".source", volumes, bindOnly: true);
                break;
            case "tmpfs":
                mount = new ComposeMount(ComposeMountType.Tmpfs, null, target, false);
                break;
            case "image" or "npipe" or "cluster":
                Warn(map, path, $"ignored: a mount of type {type} is not supported; the service runs without it");
                return null;
            default:
                throw Error(Child(map, "type"), path + ".type", $"'{type}' is not a mount type; expected volume, bind or tmpfs.");
        }

        foreach (var (key, value, keyPath) in Entries(map, path))
        {
            switch (key)
            {
                case "type" or "source" or "target" or "read_only" or "consistency":
                    break;
                case "tmpfs" when type == "tmpfs":
                    foreach (var (option, optionValue, optionPath) in Entries(Mapping(value, keyPath, "size: and mode:"), keyPath))
                    {
                        mount = option switch
                        {
                            "size" => mount with { TmpfsSizeBytes = Bytes(Scalar(optionValue, optionPath, "a byte value"), optionValue, optionPath) },
                            "mode" => mount with { TmpfsMode = Mode(Scalar(optionValue, optionPath, "an octal mode"), optionValue, optionPath) },
                            _ => WarnAndKeep(optionValue, optionPath, mount),
                        };
                    }

                    break;
                case "bind" when type == "bind":
                    foreach (var (option, optionValue, optionPath) in Entries(Mapping(value, keyPath, "bind options"), keyPath))
                    {
                        if (option is not ("create_host_path" or "selinux"))
                        {
                            Warn(optionValue, optionPath, "ignored: bind mounts are private (rbind)");
                        }
                    }

                    break;
                case "volume" when type == "volume":
                    foreach (var (option, optionValue, optionPath) in Entries(Mapping(value, keyPath, "volume options"), keyPath))
                    {
                        Warn(optionValue, optionPath, option == "nocopy"
                            ? "ignored: an empty volume gets the image's content at its mount point"
                            : option == "subpath" ? "ignored: the whole volume is mounted" : Unsupported);
                    }

                    break;
                default:
                    UnknownKey(value, keyPath, key, ["type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs"]);
                    break;
            }
        }

        return mount;

        ComposeMount WarnAndKeep(YamlNode node, string nodePath, ComposeMount unchanged)
        {
            Warn(node, nodePath, "ignored: a tmpfs gets size and mode only");
            return unchanged;
        }
    }

    private ComposeMount MountOf(string source, string target, bool readOnly, YamlNode node, string path, IReadOnlyCollection<string> volumes, bool namedOnly = false, bool bindOnly = false)
    {
        var isPath = source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('~');
        if (isPath && !namedOnly || bindOnly)
        {
            return new ComposeMount(ComposeMountType.Bind, HostPath(source), target, readOnly);
        }

        if (isPath)
        {
            throw Error(node, path, $"'{source}' is a path, not a volume name; use type: bind for a host path.");
        }

        if (!volumes.Contains(source))
        {
            throw Error(node, path, $"the volume '{source}' is not declared; add it under the top-level volumes: ({source}: {{}}), or write ./{source} for a directory beside the compose file.");
        }

        return new ComposeMount(ComposeMountType.Volume, source, target, readOnly);
    }

    private List<ComposeServiceNetwork> ReadServiceNetworks(YamlNode node, string path, IReadOnlyCollection<string> networks)
    {
        var result = new List<ComposeServiceNetwork>();
        void Check(string network, YamlNode at, string atPath)
        {
            if (network != "default" && !networks.Contains(network))
            {
                throw Error(at, atPath, $"the network '{network}' is not declared; add it under the top-level networks: ({network}: {{}}).");
            }
        }

        if (node is YamlSequenceNode list)
        {
            for (var i = 0; i < list.Children.Count; i++)
            {
                var network = Scalar(list.Children[i], $"{path}[{i}]", "a network name");
                Check(network, list.Children[i], $"{path}[{i}]");
                result.Add(new ComposeServiceNetwork(network, []));
            }

            return result;
        }

        foreach (var (network, value, networkPath) in Entries(Mapping(node, path, "a list of network names or a mapping of them to settings"), path))
        {
            Check(network, value, networkPath);
            var aliases = new List<string>();
            if (!IsNull(value))
            {
                foreach (var (key, setting, keyPath) in Entries(Mapping(value, networkPath, "network settings (aliases:)"), networkPath))
                {
                    switch (key)
                    {
                        case "aliases":
                            foreach (var alias in StringList(setting, keyPath, "a list of host names"))
                            {
                                ValidateName(setting, keyPath, alias, "alias");
                                aliases.Add(alias);
                            }

                            break;
                        case "priority" or "gw_priority":
                            break;
                        case "ipv4_address" or "ipv6_address" or "link_local_ips" or "mac_address" or "driver_opts" or "interface_name":
                            Warn(setting, keyPath, "ignored: the host assigns addresses itself");
                            break;
                        default:
                            UnknownKey(setting, keyPath, key, ["aliases", "ipv4_address", "ipv6_address", "link_local_ips", "mac_address", "driver_opts", "priority", "gw_priority", "interface_name"]);
                            break;
                    }
                }
            }

            result.Add(new ComposeServiceNetwork(network, aliases));
        }

        return result;
    }

    private (long? Memory, double? Cpus) ReadLimits(YamlMappingNode service, string path)
    {
        long? memory = Child(service, "mem_limit") is { } memLimit && !IsNull(memLimit) ? Bytes(Scalar(memLimit, path + ".mem_limit", "a byte value"), memLimit, path + ".mem_limit") : null;
        double? cpus = Child(service, "cpus") is { } cpusNode && !IsNull(cpusNode) ? Cpus(cpusNode, path + ".cpus") : null;
        if (Child(service, "deploy") is not { } deploy || IsNull(deploy))
        {
            return (memory, cpus);
        }

        var deployPath = path + ".deploy";
        foreach (var (key, value, keyPath) in Entries(Mapping(deploy, deployPath, "deploy settings"), deployPath))
        {
            switch (key)
            {
                case "resources":
                    foreach (var (kind, settings, kindPath) in Entries(Mapping(value, keyPath, "limits: and reservations:"), keyPath))
                    {
                        if (kind != "limits")
                        {
                            Warn(settings, kindPath, kind == "reservations" ? "ignored: the host reserves nothing; only limits apply" : Unsupported);
                            continue;
                        }

                        foreach (var (limit, limitValue, limitPath) in Entries(Mapping(settings, kindPath, "memory: and cpus:"), kindPath))
                        {
                            switch (limit)
                            {
                                case "memory":
                                    var bytes = Bytes(Scalar(limitValue, limitPath, "a byte value"), limitValue, limitPath);
                                    memory = memory is { } set && set != bytes
                                        ? throw Error(limitValue, limitPath, $"{limitValue} differs from mem_limit ({set} bytes); compose requires them to agree — keep one.")
                                        : bytes;
                                    break;
                                case "cpus":
                                    var count = Cpus(limitValue, limitPath);
                                    cpus = cpus is { } given && Math.Abs(given - count) > 1e-9
                                        ? throw Error(limitValue, limitPath, $"{count.ToString(CultureInfo.InvariantCulture)} differs from cpus ({given.ToString(CultureInfo.InvariantCulture)}); compose requires them to agree — keep one.")
                                        : count;
                                    break;
                                default:
                                    Warn(limitValue, limitPath, Unsupported);
                                    break;
                            }
                        }
                    }

                    break;
                case "replicas":
                    if (Integer(value, keyPath, "a number of replicas") != 1)
                    {
                        Warn(value, keyPath, "ignored: one container per service");
                    }

                    break;
                default:
                    Warn(value, keyPath, Unsupported);
                    break;
            }
        }

        return (memory, cpus);
    }

    private double Cpus(YamlNode node, string path)
    {
        var text = Scalar(node, path, "a number of CPUs");
        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cpus) && cpus >= 0
            ? cpus
            : throw Error(node, path, $"'{text}' is not a number of CPUs; write e.g. 0.5 or 2.");
    }

    private long Bytes(string text, YamlNode node, string path) =>
        ComposeValues.TryParseBytes(text, out var bytes)
            ? bytes
            : throw Error(node, path, $"'{text}' is not a byte value; write a number with b, k, m or g (binary units), e.g. 512m or 1g.");

    private UnixFileMode Mode(string text, YamlNode node, string path)
    {
        try
        {
            return (UnixFileMode)Convert.ToInt32(text.StartsWith("0o", StringComparison.Ordinal) ? text[2..] : text, 8);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw Error(node, path, $"'{text}' is not a file mode; write octal digits, e.g. 1777 or 0755.");
        }
    }

    private TimeSpan Duration(YamlNode node, string path)
    {
        var text = Scalar(node, path, "a duration");
        return ComposeValues.TryParseDuration(text, out var duration)
            ? duration
            : throw Error(node, path, $"'{text}' is not a duration; write a number with a unit (us, ms, s, m, h), e.g. 10s or 1m30s.");
    }

    private int Integer(YamlNode node, string path, string what)
    {
        var text = Scalar(node, path, what);
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error(node, path, $"'{text}' is not {what}; write a whole number.");
    }

    private bool Boolean(YamlNode node, string path)
    {
        var text = Scalar(node, path, "true or false");
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(node, path, $"'{text}' is not a boolean; write true or false."),
        };
    }

    private List<string>? CommandLine(YamlNode node, string path)
    {
        if (IsNull(node))
        {
            return null;
        }

        if (node is YamlSequenceNode)
        {
            return StringList(node, path, "a command");
        }

        var text = Scalar(node, path, "a command (a string or a list)");
        try
        {
            return ShellWords.Split(text);
        }
        catch (FormatException ex)
        {
            throw Error(node, path, $"'{text}' cannot be split into arguments: {ex.Message}; close the quote, or write the command as a list.");
        }
    }

    private string AbsoluteContainerPath(YamlNode node, string path) => AbsoluteContainerPath(Scalar(node, path, "a path inside the container"), node, path);

    private string AbsoluteContainerPath(string text, YamlNode node, string path) =>
        text.StartsWith('/') && text.TrimEnd('/').Length > 0
            ? text
            : throw Error(node, path, $"'{text}' is not an absolute path inside the container (and not /); write it like /var/lib/data.");

    /// <summary>A host path as compose resolves it: <c>~</c> is the home directory, a relative path is relative to the compose file.</summary>
    private string HostPath(string path)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile) + path[1..];
        }

        return Path.GetFullPath(Path.Combine(_directory, path));
    }

    private string? OptionalScalar(YamlMappingNode map, string key, string path, string what) =>
        Child(map, key) is { } node && !IsNull(node) ? Scalar(node, path + "." + key, what) : null;

    private List<string> StringList(YamlNode node, string path, string what)
    {
        if (node is YamlScalarNode)
        {
            return [Scalar(node, path, what)];
        }

        return Items(node, path, what).Select(item => Scalar(item.Node, item.Path, what)).ToList();
    }

    /// <summary>A sequence's items with their paths; a single scalar counts as a list of one, as compose allows for several keys.</summary>
    private IEnumerable<(YamlNode Node, string Path)> Items(YamlNode node, string path, string what)
    {
        if (node is YamlScalarNode && !IsNull(node))
        {
            return [(node, path)];
        }

        if (node is not YamlSequenceNode list)
        {
            throw Error(node, path, $"expected {what}, found {Describe(node)}.");
        }

        Record(node, path);
        return list.Children.Select((child, i) => (child, $"{path}[{i}]"));
    }

    private void ValidateName(YamlNode node, string path, string name, string what)
    {
        if (ContainerNetwork.ValidateName(name) is { } problem)
        {
            throw Error(node, path, $"'{name}' is not usable as a {what} name here: {problem}. Rename it (names become host names and directory names).");
        }
    }

    private void UnknownKey(YamlNode node, string path, string key, IEnumerable<string> known)
    {
        var suggestion = known.Select(k => (Key: k, Distance: Distance(k, key))).Where(k => k.Distance <= 2).OrderBy(k => k.Distance).Select(k => k.Key).FirstOrDefault();
        Warn(node, path, "ignored: not a key of the compose specification here" + (suggestion is null ? "" : $" (did you mean '{suggestion}'?)"));
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }

    // Keys are never interpolated (compose interpolates values only); x- keys are extensions, skipped silently.
    private IEnumerable<(string Key, YamlNode Value, string Path)> Entries(YamlMappingNode map, string? path)
    {
        Record(map, path);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw Error(keyNode, path, $"expected a plain key, found {Describe(keyNode)}.");
            }

            if (key.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            var keyPath = path is null ? key : path + "." + key;
            Record(keyNode, keyPath);
            yield return (key, value, keyPath);
        }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private YamlMappingNode Mapping(YamlNode node, string path, string what) =>
        node as YamlMappingNode ?? throw Error(node, path, $"expected {what}, found {Describe(node)}.");

    /// <summary>A scalar's value, interpolated.</summary>
    private string Scalar(YamlNode node, string path, string what)
    {
        if (node is not YamlScalarNode scalar)
        {
            throw Error(node, path, $"expected {what}, found {Describe(node)}.");
        }

        Record(node, path);
        try
        {
            return ComposeInterpolation.Interpolate(scalar.Value ?? "", _lookup, name => Warn(node, path, $"the variable {name} is not set; an empty string is used (as compose does)"));
        }
        catch (FormatException ex)
        {
            throw Error(node, path, ex.Message.StartsWith("required variable", StringComparison.Ordinal)
                ? ex.Message + " — set it in the environment, in .env beside the compose file, or in ComposeLoadOptions.Variables."
                : ex.Message);
        }
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode scalar when IsNull(scalar) => "nothing",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "something else",
    };

    private void Record(YamlNode node, string? path)
    {
        if (path is not null)
        {
            _positions.TryAdd(path, ((int)node.Start.Line, (int)node.Start.Column));
        }
    }

    private void Warn(YamlNode node, string path, string message)
    {
        var warning = new ComposeWarning(_file, path, message, (int)node.Start.Line, (int)node.Start.Column);
        if (!_warnings.Contains(warning))
        {
            _warnings.Add(warning);
        }
    }

    private ComposeFileException Error(YamlNode? node, string? path, string problem) =>
        new(_file, path, node is null ? null : (int)node.Start.Line, node is null ? null : (int)node.Start.Column, problem);
}
