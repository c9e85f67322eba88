namespace Containers.Host.Storage;

/// <summary>Something mounted into a container (<see cref="Lifecycle.ContainerStartOptions.Mounts"/>): a host path, a volume, or a tmpfs.</summary>
public abstract record ContainerMount
{
    private protected ContainerMount(string containerPath, bool readOnly)
    {
        if (string.IsNullOrEmpty(containerPath) || !containerPath.StartsWith('/') || containerPath.TrimEnd('/').Length == 0)
        {
            throw new ArgumentException($"'{containerPath}' is not an absolute path inside the container (and not /), like /var/lib/data.", nameof(containerPath));
        }

        ContainerPath = containerPath;
        ReadOnly = readOnly;
    }

    /// <summary>Where it is mounted inside the container.</summary>
    public string ContainerPath { get; }

    /// <summary>True when the container cannot write to it.</summary>
    public bool ReadOnly { get; }

    /// <summary>The host's <paramref name="hostPath"/> (file or directory) at <paramref name="containerPath"/>: what either side writes, the other sees.</summary>
    public static ContainerMount Bind(string hostPath, string containerPath, bool readOnly = false) => new BindMount(hostPath, containerPath, readOnly);

    /// <summary><paramref name="volume"/> at <paramref name="containerPath"/>. An empty volume first gets what the image has there (content, owners, modes), as docker does.</summary>
    public static ContainerMount Volume(ContainerVolume volume, string containerPath, bool readOnly = false) => new VolumeMount(volume, containerPath, readOnly);

    /// <summary>A tmpfs at <paramref name="containerPath"/> (memory, gone with the container), at most <paramref name="sizeBytes"/> (null: half the memory), mode 1777 unless given.</summary>
    public static ContainerMount Tmpfs(string containerPath, long? sizeBytes = null, UnixFileMode? mode = null) => new TmpfsMount(containerPath, sizeBytes, mode);
}

/// <summary>A host path bound into the container.</summary>
public sealed record BindMount : ContainerMount
{
    internal BindMount(string hostPath, string containerPath, bool readOnly)
        : base(containerPath, readOnly)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        HostPath = Path.GetFullPath(hostPath);
        if (!File.Exists(HostPath) && !Directory.Exists(HostPath))
        {
            throw new DirectoryNotFoundException($"The bind mount source '{HostPath}' (for {containerPath}) does not exist; create it first.");
        }
    }

    /// <summary>The host file or directory.</summary>
    public string HostPath { get; }
}

/// <summary>A volume mounted into the container.</summary>
public sealed record VolumeMount : ContainerMount
{
    internal VolumeMount(ContainerVolume volume, string containerPath, bool readOnly)
        : base(containerPath, readOnly)
    {
        ArgumentNullException.ThrowIfNull(volume);
        Source = volume;
    }

    /// <summary>The volume.</summary>
    public ContainerVolume Source { get; }
}

/// <summary>A tmpfs mounted into the container.</summary>
public sealed record TmpfsMount : ContainerMount
{
    internal TmpfsMount(string containerPath, long? sizeBytes, UnixFileMode? mode)
        : base(containerPath, readOnly: false)
    {
        SizeBytes = sizeBytes;
        Mode = mode;
    }

    /// <summary>Its size limit, or null (the kernel's default, half the memory).</summary>
    public long? SizeBytes { get; }

    /// <summary>Its root's mode, or null (1777, as docker's).</summary>
    public UnixFileMode? Mode { get; }

    /// <summary>The mount options: <c>size=…,mode=…</c>.</summary>
    internal IReadOnlyList<string> Options =>
    [
        "mode=" + Convert.ToString((int)(Mode ?? (UnixFileMode)Convert.ToInt32("1777", 8)), 8),
        .. SizeBytes is { } size ? new[] { "size=" + size.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [],
    ];
}
