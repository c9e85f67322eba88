namespace Containers.Host.Storage;

/// <summary>
/// A file or directory copied into a container before it starts (<see cref="Lifecycle.ContainerStartOptions.Files"/>):
/// it becomes part of the container's own root filesystem (the image stays unchanged), replacing what the image has there.
/// </summary>
/// <example>
/// <code>
/// options.Files.Add(ContainerFile.FromText("/docker-entrypoint-initdb.d/schema.sql", "create table todos (id serial);"));
/// options.Files.Add(ContainerFile.FromHostPath("testdata/config", "/etc/app"));   // a directory, recursively
/// options.Files.Add(ContainerFile.FromText("/home/app/.pgpass", "*:*:*:*:secret", mode) with { Uid = 1654, Gid = 1654 });
/// </code>
/// </example>
public sealed record ContainerFile
{
    private ContainerFile(string containerPath, ReadOnlyMemory<byte>? content, string? hostPath, UnixFileMode? mode)
    {
        if (string.IsNullOrEmpty(containerPath) || !containerPath.StartsWith('/') || containerPath.TrimEnd('/').Length == 0)
        {
            throw new ArgumentException($"'{containerPath}' is not an absolute path of a file inside the container, like /etc/app/settings.json.", nameof(containerPath));
        }

        ContainerPath = containerPath;
        Content = content;
        HostPath = hostPath;
        Mode = mode;
    }

    /// <summary>Where it goes inside the container (absolute).</summary>
    public string ContainerPath { get; }

    /// <summary>The bytes of a file made from content; null for a copy of a host path.</summary>
    public ReadOnlyMemory<byte>? Content { get; }

    /// <summary>The host file or directory copied; null for content.</summary>
    public string? HostPath { get; }

    /// <summary>The permission bits of a file made from content (default 0644); a host path keeps its own.</summary>
    public UnixFileMode? Mode { get; }

    /// <summary>The owner's uid inside the container (default 0, root); applied when the host runs as root.</summary>
    public uint Uid { get; init; }

    /// <summary>The owner's gid inside the container (default 0).</summary>
    public uint Gid { get; init; }

    /// <summary>A file with <paramref name="content"/>.</summary>
    public static ContainerFile FromContent(string containerPath, ReadOnlyMemory<byte> content, UnixFileMode? mode = null) => new(containerPath, content, null, mode);

    /// <summary>A file with <paramref name="text"/> as UTF-8.</summary>
    public static ContainerFile FromText(string containerPath, string text, UnixFileMode? mode = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new(containerPath, System.Text.Encoding.UTF8.GetBytes(text), null, mode);
    }

    /// <summary>A copy of the host file or directory <paramref name="hostPath"/> (directories recursively, modes kept; links copied as links).</summary>
    /// <exception cref="FileNotFoundException">There is nothing at <paramref name="hostPath"/>.</exception>
    public static ContainerFile FromHostPath(string hostPath, string containerPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        var full = Path.GetFullPath(hostPath);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            throw new FileNotFoundException($"'{full}' (to copy into the container as {containerPath}) does not exist.", full);
        }

        return new(containerPath, null, full, null);
    }

    /// <inheritdoc />
    public override string ToString() => HostPath is null ? $"{ContainerPath} ({Content!.Value.Length} bytes)" : $"{HostPath} -> {ContainerPath}";
}
