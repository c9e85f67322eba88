using Containers.Host.Lifecycle;
using Containers.Oci;

namespace Containers.Host.Storage;

/// <summary>
/// A named volume: storage that containers mount (<see cref="ContainerMount.Volume"/>) and that outlives each of them.
/// Removed when disposed, unless <see cref="ContainerVolumeOptions.Keep"/> — then it stays, and the next
/// <see cref="CreateAsync"/> with its name (in any process) finds its data again, until <see cref="RemoveAsync"/>.
/// </summary>
/// <example>
/// <code>
/// await using var data = await ContainerVolume.CreateAsync("pgdata");
/// db.Mounts.Add(ContainerMount.Volume(data, "/var/lib/postgresql/data"));
/// </code>
/// </example>
public sealed class ContainerVolume : IAsyncDisposable
{
    /// <summary>The prefix of the volumes' names in a docker/podman CLI.</summary>
    public const string CliNamePrefix = ContainerHost.IdPrefix + "vol-";

    private readonly List<(string Executable, string Name)> _cliVolumes = [];
    private int _disposed;

    private ContainerVolume(string name, string directory, bool keep)
    {
        Name = name;
        Directory = directory;
        Keep = keep;
    }

    /// <summary>Its name.</summary>
    public string Name { get; }

    /// <summary>True when it outlives this process (<see cref="ContainerVolumeOptions.Keep"/>).</summary>
    public bool Keep { get; }

    /// <summary>The host directory holding it (<c>&lt;cache&gt;/volumes/&lt;name&gt;</c>); runc and the namespaces backend mount its <c>data</c>.</summary>
    public string Directory { get; }

    internal string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>Its name in a docker/podman CLI.</summary>
    internal string CliName => CliNamePrefix + Name;

    /// <summary>Creates the volume, or (kept) opens it with its data.</summary>
    /// <exception cref="OciException">The name is invalid, or a volume of that name belongs to a live process.</exception>
    public static async Task<ContainerVolume> CreateAsync(string name, ContainerVolumeOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (Networking.ContainerNetwork.ValidateName(name) is { } problem)
        {
            throw new OciException($"'{name}' is not a volume name: {problem}");
        }

        options ??= new ContainerVolumeOptions();
        var cacheDirectory = Path.GetFullPath(options.CacheDirectory ?? ContainerHost.DefaultCacheDirectory);
        await ContainerHost.ReapAsync(cacheDirectory, options.Log, cancellationToken).ConfigureAwait(false);
        var directory = Path.Combine(VolumesDirectory(cacheDirectory), name);
        var keepFile = Path.Combine(directory, "keep");
        var ownerFile = Path.Combine(directory, "owner");
        if (System.IO.Directory.Exists(directory))
        {
            if (File.Exists(keepFile))
            {
                if (!options.Keep)
                {
                    throw new OciException($"The volume {name} is a kept one (it outlives test runs); open it with Keep = true, or remove it first with ContainerVolume.RemoveAsync(\"{name}\").");
                }

                options.Log?.Invoke($"Volume {name} found with its data ({directory}).");
                return new ContainerVolume(name, directory, keep: true);
            }

            if (OwnerStamp.IsFileOwnerAlive(ownerFile))
            {
                throw new OciException($"The volume {name} belongs to another live process ({await File.ReadAllTextAsync(ownerFile, cancellationToken).ConfigureAwait(false)}); give this one another name, or keep it (Keep = true) to share it.");
            }

            ContainerDirectory.DeleteDirectory(directory);
        }

        System.IO.Directory.CreateDirectory(Path.Combine(directory, "data"));
        await File.WriteAllTextAsync(options.Keep ? keepFile : ownerFile, options.Keep ? "kept\n" : OwnerStamp.Current, cancellationToken).ConfigureAwait(false);
        options.Log?.Invoke($"Volume {name} created ({directory}{(options.Keep ? ", kept after this run" : "")}).");
        return new ContainerVolume(name, directory, options.Keep);
    }

    /// <summary>Removes the volume <paramref name="name"/> with its data, kept or not (and its copies in the docker/podman CLI).</summary>
    public static async Task RemoveAsync(string name, ContainerVolumeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var cacheDirectory = Path.GetFullPath(options?.CacheDirectory ?? ContainerHost.DefaultCacheDirectory);
        ContainerDirectory.DeleteDirectory(Path.Combine(VolumesDirectory(cacheDirectory), name));
        if (Runtimes.CliRuntime.Find() is { } cli)
        {
            await Runtimes.HostTools.RunAsync(cli.Path, ["volume", "rm", "--force", CliNamePrefix + name], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the volume, unless it is kept.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || Keep)
        {
            return;
        }

        List<(string Executable, string Name)> cliVolumes;
        lock (_cliVolumes)
        {
            cliVolumes = [.. _cliVolumes];
        }

        foreach (var (executable, cliName) in cliVolumes)
        {
            await Runtimes.HostTools.RunAsync(executable, ["volume", "rm", "--force", cliName], CancellationToken.None).ConfigureAwait(false);
        }

        ContainerDirectory.DeleteDirectory(Directory);
    }

    /// <inheritdoc />
    public override string ToString() => $"volume {Name}";

    internal static string VolumesDirectory(string cacheDirectory) => Path.Combine(cacheDirectory, "volumes");

    /// <summary>Remembers that a CLI holds this volume too, so disposing removes it there.</summary>
    internal void AddCliVolume(string executable)
    {
        lock (_cliVolumes)
        {
            if (!_cliVolumes.Contains((executable, CliName)))
            {
                _cliVolumes.Add((executable, CliName));
            }
        }
    }
}

/// <summary>How <see cref="ContainerVolume.CreateAsync"/> makes a volume.</summary>
public sealed class ContainerVolumeOptions
{
    /// <summary>Keep it after disposal and across test runs (found again by name); default false: removed with its owner.</summary>
    public bool Keep { get; init; }

    /// <summary>The host's cache and state directory, as in <see cref="ContainerStartOptions.CacheDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Receives host diagnostics.</summary>
    public Action<string>? Log { get; init; }
}
