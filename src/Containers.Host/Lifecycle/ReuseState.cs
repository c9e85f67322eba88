using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Where a reused graph lives: <c>&lt;cache&gt;/reuse/&lt;graph&gt;/</c> with the supervisor's settings, its owner stamp and the
/// graph's state, next to <c>&lt;graph&gt;.lock</c>, which every start, stop and idle stop of the graph holds.
/// </summary>
internal sealed class ReusePaths(string cacheDirectory, string graph)
{
    public string CacheDirectory { get; } = cacheDirectory;

    public string Graph { get; } = graph;

    /// <summary><c>&lt;cache&gt;/reuse</c>.</summary>
    public string Root => RootOf(CacheDirectory);

    /// <summary>The graph's directory: gone when the graph is.</summary>
    public string Directory => Path.Combine(Root, Graph);

    /// <summary>The lock that serializes starts, stops and the idle stop of the graph (removed by whoever holds it last, when the graph is gone).</summary>
    public string Lock => Path.Combine(Root, Graph + ".lock");

    /// <summary>What the supervisor is to do (written before it starts).</summary>
    public string Settings => Path.Combine(Directory, "supervisor.json");

    /// <summary>The supervisor's owner stamp, "pid starttime", written once it listens.</summary>
    public string SupervisorStamp => Path.Combine(Directory, "supervisor");

    /// <summary>The running graph, written when it is ready.</summary>
    public string State => Path.Combine(Directory, "state.json");

    /// <summary>The log of every supervisor of this cache.</summary>
    public string Log => Path.Combine(Root, "supervisor.log");

    /// <summary>The supervisor's socket: an abstract one (no file, no path length limit), named after the graph's directory.</summary>
    public string SocketName => SocketNameOf(Directory);

    public static string RootOf(string cacheDirectory) => Path.Combine(cacheDirectory, "reuse");

    // FNV-1a, not SHA-256: an attach must not pay for loading OpenSSL; two graph directories of one machine never collide here.
    public static string SocketNameOf(string directory)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(directory))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return "\0containers-sdk-reuse-" + hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>What a reused graph's supervisor is to do.</summary>
/// <param name="Graph">The graph's name.</param>
/// <param name="CacheDirectory">The host's cache.</param>
/// <param name="IdleTimeoutSeconds">How long without a lease before it stops the graph.</param>
/// <param name="StartedBy">The process that started it, for messages.</param>
internal sealed record SupervisorSettings(string Graph, string CacheDirectory, double IdleTimeoutSeconds, string StartedBy);

/// <summary>A running reused graph, as its starter recorded it once it was ready.</summary>
/// <remarks>
/// Read by every start that attaches, in a process that has run none of this code yet: read and written with the
/// framework's (precompiled) JsonDocument and Utf8JsonWriter, which costs a fraction of generated serializers' first use.
/// </remarks>
internal sealed record ReuseState(
    string Graph,
    string Key,
    string Description,
    DateTimeOffset StartedAt,
    string StartedBy,
    string Runtime,
    IReadOnlyList<ReusedMember> Members,
    IReadOnlyList<ReusedNetwork> Networks,
    IReadOnlyList<ReusedVolume> Volumes)
{
    public static ReuseState? TryRead(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            var members = new List<ReusedMember>();
            foreach (var m in root.GetProperty("members").EnumerateArray())
            {
                var ports = new List<ReusedPort>();
                foreach (var p in m.GetProperty("ports").EnumerateArray())
                {
                    ports.Add(new ReusedPort(p.GetProperty("containerPort").GetInt32(), p.GetProperty("hostPort").GetInt32()));
                }

                var image = m.GetProperty("image");
                members.Add(new ReusedMember(Text(m, "name"), Text(m, "id"), m.GetProperty("pid").GetInt32(), Text(m, "stopSignal"), m.GetProperty("stopGraceSeconds").GetDouble(), ports, m.GetProperty("forwarded").GetBoolean(), new ReusedImage(image.GetProperty("fingerprint").GetString(), Text(image, "digest"), Text(image, "config"))));
            }

            var networks = new List<ReusedNetwork>();
            foreach (var n in root.GetProperty("networks").EnumerateArray())
            {
                var networkMembers = new List<ReusedNetworkMember>();
                foreach (var m in n.GetProperty("members").EnumerateArray())
                {
                    var aliases = new List<string>();
                    foreach (var alias in m.GetProperty("aliases").EnumerateArray())
                    {
                        aliases.Add(alias.GetString()!);
                    }

                    networkMembers.Add(new ReusedNetworkMember(Text(m, "containerId"), Text(m, "address"), aliases));
                }

                networks.Add(new ReusedNetwork(Text(n, "name"), Text(n, "id"), Text(n, "subnet"), networkMembers));
            }

            var volumes = new List<ReusedVolume>();
            foreach (var v in root.GetProperty("volumes").EnumerateArray())
            {
                volumes.Add(new ReusedVolume(Text(v, "name"), v.GetProperty("keep").GetBoolean()));
            }

            return new ReuseState(Text(root, "graph"), Text(root, "key"), Text(root, "description"), root.GetProperty("startedAt").GetDateTimeOffset(), Text(root, "startedBy"), Text(root, "runtime"), members, networks, volumes);
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    public void Write(string path)
    {
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("graph", Graph);
            json.WriteString("key", Key);
            json.WriteString("startedAt", StartedAt);
            json.WriteString("startedBy", StartedBy);
            json.WriteString("runtime", Runtime);
            json.WriteStartArray("members");
            foreach (var member in Members)
            {
                json.WriteStartObject();
                json.WriteString("name", member.Name);
                json.WriteString("id", member.Id);
                json.WriteNumber("pid", member.Pid);
                json.WriteString("stopSignal", member.StopSignal);
                json.WriteNumber("stopGraceSeconds", member.StopGraceSeconds);
                json.WriteStartArray("ports");
                foreach (var port in member.Ports)
                {
                    json.WriteStartObject();
                    json.WriteNumber("containerPort", port.ContainerPort);
                    json.WriteNumber("hostPort", port.HostPort);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteBoolean("forwarded", member.Forwarded);
                json.WriteStartObject("image");
                json.WriteString("fingerprint", member.Image.Fingerprint);
                json.WriteString("digest", member.Image.Digest);
                json.WriteString("config", member.Image.Config);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("networks");
            foreach (var network in Networks)
            {
                json.WriteStartObject();
                json.WriteString("name", network.Name);
                json.WriteString("id", network.Id);
                json.WriteString("subnet", network.Subnet);
                json.WriteStartArray("members");
                foreach (var member in network.Members)
                {
                    json.WriteStartObject();
                    json.WriteString("containerId", member.ContainerId);
                    json.WriteString("address", member.Address);
                    json.WriteStartArray("aliases");
                    foreach (var alias in member.Aliases)
                    {
                        json.WriteStringValue(alias);
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("volumes");
            foreach (var volume in Volumes)
            {
                json.WriteStartObject();
                json.WriteString("name", volume.Name);
                json.WriteBoolean("keep", volume.Keep);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("description", Description);
            json.WriteEndObject();
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static string Text(JsonElement element, string name) => element.GetProperty(name).GetString() ?? throw new JsonException($"'{name}' is null");
}

/// <summary>A member of a reused graph, in start order.</summary>
/// <param name="Name">The member's name.</param>
/// <param name="Id">Its container id.</param>
/// <param name="Pid">The host pid of its first process (0: it had finished before it could be seen).</param>
/// <param name="StopSignal">The signal that stops it.</param>
/// <param name="StopGraceSeconds">How long a stop waits before SIGKILL.</param>
/// <param name="Ports">Container port → 127.0.0.1 port, in publishing order.</param>
/// <param name="Forwarded">True when the supervisor forwards the ports into the container's network namespace (else the runtime publishes them).</param>
/// <param name="Image">The image it runs.</param>
internal sealed record ReusedMember(string Name, string Id, int Pid, string StopSignal, double StopGraceSeconds, IReadOnlyList<ReusedPort> Ports, bool Forwarded, ReusedImage Image);

/// <summary>A member's image: its digest and config, and the source's fingerprint then (the same fingerprint now: the same image, not read again).</summary>
internal sealed record ReusedImage(string? Fingerprint, string Digest, string Config);

/// <summary>A published port of a reused member.</summary>
internal sealed record ReusedPort(int ContainerPort, int HostPort);

/// <summary>A network of a reused graph.</summary>
internal sealed record ReusedNetwork(string Name, string Id, string Subnet, IReadOnlyList<ReusedNetworkMember> Members);

/// <summary>A member of a reused graph's network.</summary>
internal sealed record ReusedNetworkMember(string ContainerId, string Address, IReadOnlyList<string> Aliases);

/// <summary>A volume of a reused graph.</summary>
internal sealed record ReusedVolume(string Name, bool Keep);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SupervisorSettings))]
internal sealed partial class ReuseJsonContext : JsonSerializerContext;
