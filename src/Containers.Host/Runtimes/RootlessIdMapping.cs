using System.Globalization;
using System.Text.Json.Nodes;
using Containers.Host.Images;

namespace Containers.Host.Runtimes;

/// <summary>
/// The ids a rootless container's user namespace maps: the caller's own uid and gid as the container's root, and, where
/// <c>/etc/subuid</c> and <c>/etc/subgid</c> give the caller ranges and the setuid helpers newuidmap and newgidmap exist,
/// ids 1 to N as those subordinate ids (the layout podman uses), so an image's user such as 999 really is uid 999
/// inside. Only newuidmap may write such a mapping: the kernel lets an unprivileged process map its own id alone.
/// </summary>
/// <param name="HostUid">The caller's uid, the container's root.</param>
/// <param name="HostGid">The caller's gid, the container's root group.</param>
/// <param name="SubordinateUids">The first subordinate uid (container uid 1), when there is a range.</param>
/// <param name="SubordinateGids">The first subordinate gid (container gid 1), when there is a range.</param>
/// <param name="UidCount">How many subordinate uids are mapped (0: none).</param>
/// <param name="GidCount">How many subordinate gids are mapped (0: none).</param>
/// <param name="SingleReason">Why only the caller is mapped; null when ranges are.</param>
internal sealed record RootlessIdMapping(uint HostUid, uint HostGid, uint SubordinateUids, uint SubordinateGids, uint UidCount, uint GidCount, string? SingleReason)
{
    private static readonly Lazy<RootlessIdMapping> ForThisProcess = new(Detect);

    /// <summary>The mapping for this process's user, found once (a probe of newuidmap included).</summary>
    public static RootlessIdMapping Current => ForThisProcess.Value;

    /// <summary>True when subordinate ranges are mapped, so other users than root exist in the container (and setgroups is allowed there).</summary>
    public bool HasRanges => UidCount > 0 && GidCount > 0;

    /// <summary>True when the container's <paramref name="user"/> (uid, gid and every additional gid) exists in the namespace.</summary>
    public bool Maps(ImageUser user) =>
        MapsUid(user.Uid) && MapsGid(user.Gid) && user.AdditionalGids.All(MapsGid);

    /// <summary>True when container uid <paramref name="uid"/> is mapped.</summary>
    public bool MapsUid(uint uid) => uid == 0 || (UidCount > 0 && uid <= UidCount);

    /// <summary>True when container gid <paramref name="gid"/> is mapped.</summary>
    public bool MapsGid(uint gid) => gid == 0 || (GidCount > 0 && gid <= GidCount);

    /// <summary>The runtime spec's <c>uidMappings</c>.</summary>
    public JsonArray UidMappings() => Mappings(HostUid, SubordinateUids, UidCount);

    /// <summary>The runtime spec's <c>gidMappings</c>.</summary>
    public JsonArray GidMappings() => Mappings(HostGid, SubordinateGids, GidCount);

    /// <summary>util-linux unshare's options that make a user namespace with this mapping (ranges through newuidmap/newgidmap).</summary>
    public IReadOnlyList<string> UnshareArguments() =>
        HasRanges
            ? ["--user", "--map-root-user", Range("--map-users", SubordinateUids, UidCount), Range("--map-groups", SubordinateGids, GidCount)]
            : ["--user", "--map-root-user"];

    /// <summary>The mapping in words, for the log.</summary>
    public string Describe() =>
        HasRanges
            ? $"container uids 1-{UidCount.ToString(CultureInfo.InvariantCulture)} are your subordinate uids {SubordinateUids.ToString(CultureInfo.InvariantCulture)}-{(SubordinateUids + UidCount - 1).ToString(CultureInfo.InvariantCulture)} (/etc/subuid), gids 1-{GidCount.ToString(CultureInfo.InvariantCulture)} your subordinate gids from {SubordinateGids.ToString(CultureInfo.InvariantCulture)} (/etc/subgid)"
            : $"only your own user is mapped (uid {HostUid.ToString(CultureInfo.InvariantCulture)} as the container's root): {SingleReason}";

    /// <summary>Reads the mapping out of a bundle's spec (what the container was started with).</summary>
    public static bool SpecHasRanges(JsonNode spec) => spec["linux"]?["uidMappings"]?.AsArray().Count > 1 && spec["linux"]?["gidMappings"]?.AsArray().Count > 1;

    /// <summary>Whether the spec's mapping includes container uid <paramref name="uid"/> and gid <paramref name="gid"/>.</summary>
    public static bool SpecMaps(JsonNode spec, uint uid, uint gid) =>
        Covers(spec["linux"]?["uidMappings"]?.AsArray(), uid) && Covers(spec["linux"]?["gidMappings"]?.AsArray(), gid);

    private static bool Covers(JsonArray? mappings, uint id) =>
        mappings is null
        || mappings.Any(m => (uint)m!["containerID"]! <= id && id < (uint)m["containerID"]! + (uint)m["size"]!);

    private static string Range(string option, uint start, uint count) =>
        option + "=" + start.ToString(CultureInfo.InvariantCulture) + ",1," + count.ToString(CultureInfo.InvariantCulture);

    private static JsonArray Mappings(uint own, uint start, uint count)
    {
        var mappings = new JsonArray(new JsonObject { ["containerID"] = 0, ["hostID"] = own, ["size"] = 1 });
        if (count > 0)
        {
            mappings.Add((JsonNode)new JsonObject { ["containerID"] = 1, ["hostID"] = start, ["size"] = count });
        }

        return mappings;
    }

    private static RootlessIdMapping Detect()
    {
        var uid = NativeMethods.GetEffectiveUserId();
        var gid = NativeMethods.GetEffectiveGroupId();
        RootlessIdMapping Single(string reason) => new(uid, gid, 0, 0, 0, 0, reason);

        var name = System.Environment.UserName;
        var uids = FirstRange("/etc/subuid", name, uid);
        var gids = FirstRange("/etc/subgid", name, uid);
        if (uids is null || gids is null)
        {
            return Single($"{name} has no range in {string.Join(" and ", new[] { uids is null ? "/etc/subuid" : null, gids is null ? "/etc/subgid" : null }.OfType<string>())}");
        }

        if (HostTools.FindOnPath("newuidmap") is null || HostTools.FindOnPath("newgidmap") is null)
        {
            return Single("newuidmap and newgidmap are not on PATH (Debian package uidmap)");
        }

        var mapping = new RootlessIdMapping(uid, gid, uids.Value.Start, gids.Value.Start, uids.Value.Count, gids.Value.Count, null);

        // newuidmap is setuid root and checks the ranges itself; a broken install (no setuid bit, a range it refuses) shows here once.
        if (HostTools.FindOnPath("unshare") is { } unshare)
        {
            var (code, output) = HostTools.RunAsync(unshare, [.. mapping.UnshareArguments(), "--", "true"], CancellationToken.None).GetAwaiter().GetResult();
            if (code != 0)
            {
                return Single($"newuidmap/newgidmap refused your ranges ({output.Trim()})");
            }
        }

        return mapping;
    }

    // The first "user:start:count" line for the user (by name or uid); count at least 1.
    private static (uint Start, uint Count)? FirstRange(string file, string name, uint uid)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Trim().Split(':');
                if (fields.Length == 3
                    && (fields[0] == name || fields[0] == uid.ToString(CultureInfo.InvariantCulture))
                    && uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                    && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                    && count > 0)
                {
                    return (start, count);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
