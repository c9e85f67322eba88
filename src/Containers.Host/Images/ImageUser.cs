using System.Globalization;
using Containers.Oci;

namespace Containers.Host.Images;

/// <summary>
/// The image config's <c>User</c> (<c>name</c>, <c>uid</c>, <c>name:group</c>, <c>uid:gid</c>) resolved to numeric ids
/// through the root filesystem's <c>/etc/passwd</c> and <c>/etc/group</c>, as container engines do.
/// </summary>
internal sealed record ImageUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string? Home)
{
    public static ImageUser Resolve(string? user, string rootfs)
    {
        var passwd = ReadDatabase(rootfs, "etc/passwd");
        var groups = ReadDatabase(rootfs, "etc/group");
        if (string.IsNullOrEmpty(user))
        {
            return new ImageUser(0, 0, [], passwd.FirstOrDefault(e => e.ElementAtOrDefault(2) == "0")?.ElementAtOrDefault(5) ?? "/root");
        }

        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? user : user[..colon];
        var groupPart = colon < 0 ? null : user[(colon + 1)..];

        string[]? entry = passwd.FirstOrDefault(e => e[0] == userPart);
        uint uid;
        if (entry is not null && uint.TryParse(entry.ElementAtOrDefault(2), NumberStyles.None, CultureInfo.InvariantCulture, out var named))
        {
            uid = named;
        }
        else if (uint.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
        {
            uid = numeric;
            entry = passwd.FirstOrDefault(e => e.ElementAtOrDefault(2) == userPart);
        }
        else
        {
            throw new OciException($"The image's user '{user}' is not in its /etc/passwd; use a numeric uid or a user the image defines.");
        }

        uint gid;
        if (groupPart is null)
        {
            gid = entry is not null && uint.TryParse(entry.ElementAtOrDefault(3), NumberStyles.None, CultureInfo.InvariantCulture, out var primary) ? primary : 0;
        }
        else if (uint.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out var numericGroup))
        {
            gid = numericGroup;
        }
        else
        {
            var group = groups.FirstOrDefault(g => g[0] == groupPart)
                ?? throw new OciException($"The image's user '{user}' names group '{groupPart}', which is not in its /etc/group.");
            gid = uint.Parse(group[2], NumberStyles.None, CultureInfo.InvariantCulture);
        }

        var name = entry?[0];
        var additional = name is null || groupPart is not null
            ? []
            : groups.Where(g => g.ElementAtOrDefault(3)?.Split(',').Contains(name) == true)
                .Select(g => uint.TryParse(g[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : (uint?)null)
                .OfType<uint>()
                .Where(id => id != gid)
                .Distinct()
                .ToList();
        return new ImageUser(uid, gid, additional, entry?.ElementAtOrDefault(5));
    }

    private static List<string[]> ReadDatabase(string rootfs, string relativePath)
    {
        var path = Path.Combine(rootfs, relativePath);
        var file = new FileInfo(path);

        // A link could point anywhere on the host: only a plain file inside the root is read.
        if (!file.Exists || file.LinkTarget is not null)
        {
            return [];
        }

        return File.ReadLines(path)
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split(':'))
            .Where(fields => fields.Length >= 3)
            .ToList();
    }
}
