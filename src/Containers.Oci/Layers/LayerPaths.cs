using System.Text;

namespace Containers.Oci.Layers;

/// <summary>Normalizes container paths to tar names and rejects the ones that could escape the image root.</summary>
internal static class LayerPaths
{
    /// <summary>
    /// "/app//x/" and "app/x" both become "app/x". The root itself ("/" or "") becomes "" — allowed as the
    /// target of a directory tree, not as an entry.
    /// </summary>
    public static string NormalizeContainerPath(string containerPath)
    {
        ArgumentNullException.ThrowIfNull(containerPath);
        if (containerPath.Contains('\\', StringComparison.Ordinal))
        {
            throw new InvalidLayerPathException(containerPath, "it contains '\\'; paths inside a Linux image are separated by '/'");
        }

        if (containerPath.Length >= 2 && containerPath[1] == ':' && char.IsAsciiLetter(containerPath[0]))
        {
            throw new InvalidLayerPathException(containerPath, "it looks like a Windows drive path; paths inside the image start at '/'");
        }

        if (containerPath.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidLayerPathException(containerPath, "it contains a NUL character, which tar cannot store");
        }

        var builder = new StringBuilder(containerPath.Length);
        foreach (var segment in containerPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment is "..")
            {
                throw new InvalidLayerPathException(containerPath, "it contains '..', which could place files outside the image root");
            }

            if (segment is ".")
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append('/');
            }

            builder.Append(segment);
        }

        return builder.ToString();
    }

    public static string NormalizeEntryPath(string containerPath)
    {
        var path = NormalizeContainerPath(containerPath);
        if (path.Length == 0)
        {
            throw new InvalidLayerPathException(containerPath, "it names the image root, which every layer has implicitly");
        }

        return path;
    }

    public static string Combine(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;

    public static string? Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? null : path[..slash];
    }
}
