using System.Diagnostics;
using System.Text.Json;
using Containers.Host.Lifecycle;

namespace Containers.Cli.State;

/// <summary>
/// The directory where the tool keeps one directory per container (<c>&lt;id&gt;/</c>: <c>container.json</c>, the run
/// request, its output, the control socket), so that <c>ps</c>, <c>logs</c>, <c>exec</c>, <c>stop</c> and <c>rm</c> in
/// other invocations find what <c>run</c> started. docs/cli.md describes it.
/// </summary>
public sealed class StateStore
{
    /// <summary>The environment variable that names the state directory instead of the default.</summary>
    public const string EnvironmentVariable = "CONTAINERS_CLI_STATE_DIRECTORY";

    private StateStore(string root)
    {
        Root = root;
    }

    /// <summary>The state directory.</summary>
    public string Root { get; }

    /// <summary>
    /// <c>$CONTAINERS_CLI_STATE_DIRECTORY</c>; else as root <c>/run/containers-sdk-cli</c>; else
    /// <c>$XDG_RUNTIME_DIR/containers-sdk-cli</c>; else <c>containers-sdk-cli</c> under the host's cache directory.
    /// Containers do not outlive a reboot: /run and $XDG_RUNTIME_DIR are emptied by one too.
    /// </summary>
    public static StateStore Open()
    {
        var root = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } named
            ? named
            : Environment.IsPrivilegedProcess
                ? "/run/containers-sdk-cli"
                : Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Directory.Exists(runtime)
                    ? Path.Combine(runtime, "containers-sdk-cli")
                    : Path.Combine(ContainerHost.DefaultCacheDirectory, "containers-sdk-cli");
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        return new StateStore(root);
    }

    /// <summary>Every container's entry, oldest first.</summary>
    public IReadOnlyList<ContainerEntry> List() =>
        Directory.GetDirectories(Root)
            .Where(directory => !Path.GetFileName(directory).StartsWith('.'))
            .Select(directory => new ContainerEntry(directory))
            .Select(entry => (Entry: entry, Record: entry.TryRead()))
            .Where(e => e.Record is not null)
            .OrderBy(e => e.Record!.Created)
            .Select(e => e.Entry)
            .ToList();

    /// <summary>The container named <paramref name="nameOrId"/>, or whose id is or starts with it.</summary>
    /// <exception cref="CliException">None is, or the id prefix fits several.</exception>
    public ContainerEntry Find(string nameOrId)
    {
        var entries = List().Select(e => (Entry: e, Record: e.TryRead()!)).ToList();
        if (entries.FirstOrDefault(e => e.Record.Name == nameOrId || e.Record.Id == nameOrId).Entry is { } exact)
        {
            return exact;
        }

        var byPrefix = nameOrId.Length == 0 ? [] : entries.Where(e => e.Record.Id.StartsWith(nameOrId, StringComparison.Ordinal)).ToList();
        return byPrefix.Count switch
        {
            1 => byPrefix[0].Entry,
            0 => throw new CliException(CliErrorCodes.NoSuchContainer, $"No container is named '{nameOrId}' or has an id that starts with it. 'dotnet container ps -a' lists them.", CliExitCodes.NoSuchContainer),
            _ => throw new CliException(CliErrorCodes.NoSuchContainer, $"The id prefix '{nameOrId}' fits {byPrefix.Count} containers ({string.Join(", ", byPrefix.Select(e => e.Record.Id))}); give more of the id, or the name.", CliExitCodes.NoSuchContainer),
        };
    }

    /// <summary>
    /// Makes the directory of a new container with <paramref name="record"/> (its name checked unique under the store's
    /// lock, so two <c>run --name</c> at once cannot both take it).
    /// </summary>
    /// <exception cref="CliException">The name is taken.</exception>
    public ContainerEntry Create(ContainerRecord record)
    {
        using var storeLock = Lock();
        if (List().Select(e => e.TryRead()).FirstOrDefault(r => r?.Name == record.Name) is { } taken)
        {
            throw CliException.Usage(CliErrorCodes.NameInUse, $"The name '{record.Name}' is taken by container {taken.Id} ({taken.Status}). Choose another --name, or remove it first: dotnet container rm -f {record.Name}");
        }

        var entry = new ContainerEntry(Path.Combine(Root, record.Id));
        Directory.CreateDirectory(entry.Directory);

        // There from the start, so `logs -f` of a container that is still starting has files to follow.
        File.WriteAllBytes(entry.StandardOutputFile, []);
        File.WriteAllBytes(entry.StandardErrorFile, []);
        entry.Write(record);
        return entry;
    }

    // An exclusive lock on <root>/.lock: .NET takes an advisory flock for FileShare.None, released when the stream closes.
    private FileStream Lock()
    {
        var path = Path.Combine(Root, ".lock");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>A new container id: 12 random hex digits.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N")[..12];
}

/// <summary>One container's state directory.</summary>
/// <param name="directory">The directory, <c>&lt;state&gt;/&lt;id&gt;</c>.</param>
public sealed class ContainerEntry(string directory)
{
    /// <summary>The directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>The record, <c>container.json</c>.</summary>
    public string RecordFile => Path.Combine(Directory, "container.json");

    /// <summary>The run request a detached container's supervisor reads, <c>run.json</c>.</summary>
    public string RequestFile => Path.Combine(Directory, "run.json");

    /// <summary>What the container wrote to stdout.</summary>
    public string StandardOutputFile => Path.Combine(Directory, "stdout");

    /// <summary>What the container wrote to stderr.</summary>
    public string StandardErrorFile => Path.Combine(Directory, "stderr");

    /// <summary>A detached container's supervisor: its own output (the host's log, its errors).</summary>
    public string SupervisorLogFile => Path.Combine(Directory, "supervisor.log");

    /// <summary>A detached container's supervisor: its owner stamp (pid and start time).</summary>
    public string SupervisorStampFile => Path.Combine(Directory, "supervisor");

    /// <summary>The Unix socket of the process that runs the container, for <c>exec</c> and <c>stop</c>.</summary>
    public string ControlSocket => Path.Combine(Directory, "control.sock");

    /// <summary>The record, or null when it is missing or half written.</summary>
    public ContainerRecord? TryRead()
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(RecordFile), CliJsonContext.Default.ContainerRecord);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The record.</summary>
    /// <exception cref="CliException">It is gone (removed meanwhile).</exception>
    public ContainerRecord Read() =>
        TryRead() ?? throw new CliException(CliErrorCodes.NoSuchContainer, $"The container in {Directory} was removed meanwhile.", CliExitCodes.NoSuchContainer);

    /// <summary>Writes the record (a temporary file renamed over it: readers never see half of it).</summary>
    public void Write(ContainerRecord record)
    {
        var temporary = RecordFile + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(record, CliJsonContext.Default.ContainerRecord));
        File.Move(temporary, RecordFile, overwrite: true);
    }

    /// <summary>
    /// Deletes the directory: first renamed to a hidden name (which listings skip), so that it is gone for every other
    /// invocation at once, not file by file.
    /// </summary>
    public void Delete()
    {
        var trash = Path.Combine(Path.GetDirectoryName(Directory)!, $".removed-{Path.GetFileName(Directory)}-{Guid.NewGuid():N}"[..30]);
        try
        {
            System.IO.Directory.Move(Directory, trash);
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        System.IO.Directory.Delete(trash, recursive: true);
    }
}
