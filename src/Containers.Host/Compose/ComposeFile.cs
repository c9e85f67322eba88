using System.Text.RegularExpressions;
using Containers.Host.Images;
using Containers.Host.Lifecycle;

namespace Containers.Host.Compose;

/// <summary>
/// A compose file (a subset of the compose specification) read into a <see cref="ContainerGraph"/>: services from images
/// or built projects, environment, ports, dependencies with health checks as waits, volumes and networks. Values are
/// interpolated from <see cref="ComposeLoadOptions.Variables"/>, the process environment and a <c>.env</c> file beside
/// the compose file; what the host does not do as docker compose would is in <see cref="Warnings"/>; what cannot work
/// is a <see cref="ComposeFileException"/> naming the file, line, key path and fix. See docs/compose.md.
/// </summary>
/// <example>
/// <code>
/// var compose = ComposeFile.Load("compose.yaml");
/// foreach (var warning in compose.Warnings) Console.WriteLine(warning);
/// var graph = compose.ToGraph(new ComposeGraphOptions { BuildImage = s => ContainerImageSource.FromOciLayout($"obj/containers/{s.Name}", "test") });
/// await using var running = await graph.StartAsync();
/// using var http = running["web"].CreateHttpClient(8080);
/// </code>
/// </example>
public sealed partial class ComposeFile
{
    private readonly IReadOnlyDictionary<string, (int Line, int Column)> _positions;

    private ComposeFile(string label, string? path, string directory, string projectName, IReadOnlyList<ComposeService> services, IReadOnlyList<string> networks, IReadOnlyList<string> volumes, IReadOnlyList<ComposeWarning> warnings, IReadOnlyDictionary<string, (int, int)> positions)
    {
        Label = label;
        Path = path;
        Directory = directory;
        ProjectName = projectName;
        Services = services;
        Networks = networks;
        Volumes = volumes;
        Warnings = warnings;
        _positions = positions;
    }

    /// <summary>The file's full path; null when read from text.</summary>
    public string? Path { get; }

    /// <summary>The directory relative paths (binds, env files, build contexts, <c>oci:</c> layouts) are resolved against.</summary>
    public string Directory { get; }

    /// <summary>The project name: <see cref="ComposeLoadOptions.ProjectName"/>, else <c>COMPOSE_PROJECT_NAME</c>, else <c>name:</c>, else the directory's name (lower-cased, other characters dropped). It names the graph.</summary>
    public string ProjectName { get; }

    /// <summary>The services, in file order (those whose profiles are not active left out).</summary>
    public IReadOnlyList<ComposeService> Services { get; }

    /// <summary>The top-level networks declared.</summary>
    public IReadOnlyList<string> Networks { get; }

    /// <summary>The top-level volumes declared.</summary>
    public IReadOnlyList<string> Volumes { get; }

    /// <summary>What is ignored or done differently from docker compose, each naming its key path.</summary>
    public IReadOnlyList<ComposeWarning> Warnings { get; }

    /// <summary>The services built from a project (<c>build:</c>), whose images <see cref="ComposeGraphOptions.BuildImage"/> must give.</summary>
    public IReadOnlyList<ComposeService> BuiltServices => Services.Where(s => s.Build is not null).ToList();

    /// <summary>The service named <paramref name="name"/>.</summary>
    public ComposeService this[string name] =>
        Services.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"{Label} has no service '{name}'; it has {string.Join(", ", Services.Select(s => s.Name))}.");

    internal string Label { get; }

    /// <summary>Reads the compose file at <paramref name="path"/>.</summary>
    /// <exception cref="ComposeFileException">The file is missing, not YAML, or describes something that cannot run; the message says where and how to fix it.</exception>
    public static ComposeFile Load(string path, ComposeLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new ComposeFileException(full, null, null, null, "the compose file does not exist; check the path (compose's default names are compose.yaml and docker-compose.yml).");
        }

        return Read(File.ReadAllText(full), full, full, System.IO.Path.GetDirectoryName(full)!, options ?? new ComposeLoadOptions());
    }

    /// <summary>Reads compose YAML from <paramref name="yaml"/>; relative paths and <c>.env</c> are taken from <see cref="ComposeLoadOptions.BaseDirectory"/> (default: the current directory).</summary>
    /// <param name="yaml">The compose file's text.</param>
    /// <param name="options">Variables, project name, profiles and base directory.</param>
    /// <param name="sourceName">How messages name the text (default <c>compose.yaml</c>).</param>
    /// <exception cref="ComposeFileException">The text is not YAML or describes something that cannot run.</exception>
    public static ComposeFile Parse(string yaml, ComposeLoadOptions? options = null, string sourceName = "compose.yaml")
    {
        ArgumentNullException.ThrowIfNull(yaml);
        options ??= new ComposeLoadOptions();
        return Read(yaml, sourceName, null, System.IO.Path.GetFullPath(options.BaseDirectory ?? System.Environment.CurrentDirectory), options);
    }

    /// <summary>
    /// The graph the file describes, named after <see cref="ProjectName"/>: a member per service (its image, command,
    /// environment, published ports, mounts, limits), its dependencies, networks with aliases, volumes, and the waits
    /// its health check becomes. Each call makes a new graph. Creates missing bind-mount directories, as compose does.
    /// </summary>
    /// <exception cref="ComposeFileException">A service is built (<c>build:</c>) and no <see cref="ComposeGraphOptions.BuildImage"/> gives its image.</exception>
    public ContainerGraph ToGraph(ComposeGraphOptions? options = null) => ComposeGraphBuilder.Build(this, options ?? new ComposeGraphOptions());

    internal ComposeFileException Error(string keyPath, string problem)
    {
        var position = _positions.TryGetValue(keyPath, out var p) ? p : ((int, int)?)null;
        return new ComposeFileException(Label, keyPath, position?.Item1, position?.Item2, problem);
    }

    private static ComposeFile Read(string text, string label, string? path, string directory, ComposeLoadOptions options)
    {
        var dotEnv = ReadDotEnv(label, directory, options);
        string? Lookup(string name) =>
            options.Variables?.TryGetValue(name, out var given) == true ? given
            : options.UseProcessEnvironment && System.Environment.GetEnvironmentVariable(name) is { } fromProcess ? fromProcess
            : dotEnv.GetValueOrDefault(name);

        var reader = new ComposeReader(label, directory, Lookup);
        var root = reader.ParseYaml(text);
        var written = reader.ReadTopLevel(root);
        var projectName = options.ProjectName ?? Lookup("COMPOSE_PROJECT_NAME") ?? written;
        if (projectName is null)
        {
            projectName = NormalizeProjectName(System.IO.Path.GetFileName(directory.TrimEnd('/')));
            if (projectName.Length == 0)
            {
                throw new ComposeFileException(label, "name", null, null, $"no project name: the directory '{directory}' gives none; add name: to the file or set ComposeLoadOptions.ProjectName.");
            }
        }
        else if (!ProjectNamePattern().IsMatch(projectName) || projectName.Length > 40)
        {
            throw new ComposeFileException(label, "name", null, null, $"'{projectName}' is not a project name: use lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 40 characters.");
        }

        // The project name is a variable for the rest of the file, as in compose.
        var reader2 = new ComposeReader(label, directory, name => name == "COMPOSE_PROJECT_NAME" ? Lookup(name) ?? projectName : Lookup(name));
        reader2.ReadTopLevel(root);
        var networks = reader2.ReadNetworks(root);
        var volumes = reader2.ReadVolumes(root);
        var profiles = options.Profiles ?? (Lookup("COMPOSE_PROFILES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var leftOut = new List<string>();
        var selected = reader2.SelectServices(root, profiles.ToHashSet(StringComparer.Ordinal), leftOut);
        var names = selected.Select(s => s.Name).ToList();
        var services = selected.Select(s => reader2.ReadService(s.Name, s.Node, names, leftOut, networks, volumes)).ToList();
        var file = new ComposeFile(label, path, directory, projectName, services, networks, volumes, reader2.Warnings, reader2.Positions);
        ComposeGraphBuilder.Validate(file);
        return file;
    }

    private static Dictionary<string, string> ReadDotEnv(string label, string directory, ComposeLoadOptions options)
    {
        var file = options.EnvironmentFile is { } given ? System.IO.Path.GetFullPath(given, directory) : System.IO.Path.Combine(directory, ".env");
        if (!File.Exists(file))
        {
            return options.EnvironmentFile is null ? [] : throw new ComposeFileException(file, null, null, null, $"the environment file does not exist (ComposeLoadOptions.EnvironmentFile, for {label}); check the path.");
        }

        try
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in DotEnvFile.Parse(File.ReadAllText(file), (text, local) => ComposeInterpolation.Interpolate(text, v => local(v) ?? (options.UseProcessEnvironment ? System.Environment.GetEnvironmentVariable(v) : null), _ => { })))
            {
                variables[name] = value;
            }

            return variables;
        }
        catch (FormatException ex)
        {
            throw new ComposeFileException(file, null, null, null, $"{ex.Message} Write NAME=VALUE lines.");
        }
    }

    private static string NormalizeProjectName(string directoryName) =>
        new string(directoryName.ToLowerInvariant().Where(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_').ToArray()).TrimStart('-', '_');

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectNamePattern();
}

/// <summary>How <see cref="ComposeFile.Load"/> reads a file.</summary>
public sealed class ComposeLoadOptions
{
    /// <summary>Variables for interpolation and for <c>environment</c> names without a value; they win over the process environment, which wins over <c>.env</c>.</summary>
    public IReadOnlyDictionary<string, string>? Variables { get; init; }

    /// <summary>Whether the process environment is a source of variables (default true, as for compose).</summary>
    public bool UseProcessEnvironment { get; init; } = true;

    /// <summary>The project name (the graph's); null: <c>COMPOSE_PROJECT_NAME</c>, <c>name:</c>, or the directory's name.</summary>
    public string? ProjectName { get; init; }

    /// <summary>The active profiles; null: <c>COMPOSE_PROFILES</c> (comma-separated). A service with profiles is left out unless one is active.</summary>
    public IReadOnlyList<string>? Profiles { get; init; }

    /// <summary>The variables file (compose's <c>--env-file</c>); null: <c>.env</c> beside the compose file, when there is one.</summary>
    public string? EnvironmentFile { get; init; }

    /// <summary>For <see cref="ComposeFile.Parse"/>: the directory relative paths are resolved against; null: the current directory.</summary>
    public string? BaseDirectory { get; init; }
}

/// <summary>How <see cref="ComposeFile.ToGraph"/> makes the graph.</summary>
public sealed class ComposeGraphOptions
{
    /// <summary>Gives the image of a service built from a project (<c>build:</c>), e.g. the OCI layout its publish wrote. Without it, such a service runs its <c>image:</c>, and one without is an error.</summary>
    public Func<ComposeService, ContainerImageSource>? BuildImage { get; init; }

    /// <summary>How long each member may take to get ready (default 60 s); raised for a member whose health check needs longer (start period plus retries × (interval + timeout)).</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
