using Containers.Oci;

namespace Containers.Host.Images;

/// <summary>
/// Paths inside a container's root filesystem, resolved as a chroot would: symbolic links met on the way are followed
/// with absolute targets re-rooted and <c>..</c> clamped at the root, so the result never leaves it (a link
/// <c>/etc/hosts -&gt; /etc/shadow</c> in an image names the image's file, never the host's).
/// </summary>
internal static class RootPath
{
    private const int MaxSymlinkHops = 40;

    /// <summary>The host path of <paramref name="containerPath"/> (absolute inside the container) under <paramref name="root"/>; the last component is not followed when it is a link.</summary>
    public static string ResolveParentAndJoin(string root, string containerPath, bool createDirectories)
    {
        var components = containerPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".").ToArray();
        if (components.Length == 0 || components[^1] == "..")
        {
            return Resolve(root, components, createDirectories);
        }

        return Path.Combine(Resolve(root, components.Take(components.Length - 1), createDirectories), components[^1]);
    }

    /// <summary>The host path of <paramref name="containerPath"/> under <paramref name="root"/>, every component (the last too) resolved.</summary>
    public static string ResolveFully(string root, string containerPath, bool createDirectories) =>
        Resolve(root, containerPath.Split('/', StringSplitOptions.RemoveEmptyEntries), createDirectories);

    /// <summary>Resolves a relative path inside <paramref name="root"/> as a chroot would.</summary>
    public static string Resolve(string root, IEnumerable<string> components, bool createDirectories)
    {
        var resolved = new List<string>();
        var pending = new Stack<string>(components.Reverse());
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part.Length == 0 || string.Equals(part, ".", StringComparison.Ordinal))
            {
                continue;
            }

            if (string.Equals(part, "..", StringComparison.Ordinal))
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var candidate = Path.Combine(root, Path.Combine([.. resolved, part]));
            var info = new FileInfo(candidate);
            if (info.LinkTarget is { } link)
            {
                if (++hops > MaxSymlinkHops)
                {
                    throw new OciException($"Too many symbolic links while resolving '{candidate}' inside the root filesystem '{root}'.");
                }

                if (link.StartsWith('/'))
                {
                    resolved.Clear();
                }

                foreach (var linkPart in Enumerable.Reverse(link.Split('/')))
                {
                    pending.Push(linkPart);
                }

                continue;
            }

            if (createDirectories && !Directory.Exists(candidate))
            {
                if (File.Exists(candidate))
                {
                    File.Delete(candidate);
                }

                Directory.CreateDirectory(candidate);
            }

            resolved.Add(part);
        }

        return resolved.Count == 0 ? root : Path.Combine(root, Path.Combine([.. resolved]));
    }

}
