namespace Containers.Build.Layering;

/// <summary>
/// Splits a publish directory into layers by how often their content changes (see
/// <see cref="PublishLayerKind"/>), omitting empty layers. The result depends only on the files'
/// relative paths and the deps.json, never on enumeration order or the machine.
/// </summary>
public static class PublishLayering
{
    /// <summary>Splits <paramref name="publishDirectory"/>.</summary>
    /// <param name="publishDirectory">The publish output.</param>
    /// <param name="applicationName">The app's assembly name; its <c>.deps.json</c> is read when present.</param>
    /// <param name="customLayers">User-declared layers; the first rule that matches a file wins, and custom rules win over the defaults.</param>
    public static IReadOnlyList<PublishLayerGroup> Split(string publishDirectory, string applicationName, IReadOnlyList<CustomLayerRule>? customLayers = null)
    {
        ArgumentNullException.ThrowIfNull(publishDirectory);
        ArgumentNullException.ThrowIfNull(applicationName);
        if (!Directory.Exists(publishDirectory))
        {
            throw new Containers.Oci.OciException($"The publish directory '{publishDirectory}' does not exist; publish the project before building its image.");
        }

        var depsFile = Path.Combine(publishDirectory, applicationName + ".deps.json");
        var assets = File.Exists(depsFile) ? DepsFileAssets.Load(depsFile, applicationName) : DepsFileAssets.None;
        var files = Directory.EnumerateFiles(publishDirectory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Concat(EnumerateSymlinkedDirectories(publishDirectory))
            .Select(full => new PublishedFile(Path.GetRelativePath(publishDirectory, full).Replace('\\', '/'), full));
        return Split(files, assets, customLayers ?? []);
    }

    /// <summary>Splits an explicit list of files (the publish item list) using <paramref name="assets"/>.</summary>
    public static IReadOnlyList<PublishLayerGroup> Split(IEnumerable<PublishedFile> files, DepsFileAssets assets, IReadOnlyList<CustomLayerRule> customLayers)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(assets);
        ArgumentNullException.ThrowIfNull(customLayers);
        var duplicateNames = customLayers.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicateNames is not null)
        {
            throw new Containers.Oci.OciException($"ContainerLayer '{duplicateNames.Key}' is declared more than once; give each ContainerLayer item a unique name.");
        }

        var defaults = new Dictionary<PublishLayerKind, List<PublishedFile>>();
        var custom = customLayers.ToDictionary(r => r.Name, _ => new List<PublishedFile>(), StringComparer.Ordinal);
        foreach (var file in files)
        {
            var rule = customLayers.FirstOrDefault(r => r.Matches(file.RelativePath));
            if (rule is not null)
            {
                custom[rule.Name].Add(file);
                continue;
            }

            var kind = assets.Classify(file.RelativePath)
                ?? (file.RelativePath.StartsWith("wwwroot/", StringComparison.Ordinal) ? PublishLayerKind.StaticWebAssets : PublishLayerKind.Application);
            if (!defaults.TryGetValue(kind, out var list))
            {
                defaults[kind] = list = [];
            }

            list.Add(file);
        }

        var result = new List<PublishLayerGroup>();
        foreach (var kind in Enum.GetValues<PublishLayerKind>())
        {
            if (kind == PublishLayerKind.Custom)
            {
                result.AddRange(customLayers
                    .Where(r => custom[r.Name].Count > 0)
                    .Select(r => new PublishLayerGroup(r.Name, PublishLayerKind.Custom, Sorted(custom[r.Name]))));
            }
            else if (defaults.TryGetValue(kind, out var list))
            {
                result.Add(new PublishLayerGroup(DefaultName(kind), kind, Sorted(list)));
            }
        }

        return result;
    }

    /// <summary>The name of a default layer.</summary>
    public static string DefaultName(PublishLayerKind kind) => kind switch
    {
        PublishLayerKind.Runtime => "runtime",
        PublishLayerKind.Packages => "packages",
        PublishLayerKind.ProjectReferences => "project-references",
        PublishLayerKind.StaticWebAssets => "wwwroot",
        PublishLayerKind.Application => "app",
        _ => "custom",
    };

    private static PublishedFile[] Sorted(List<PublishedFile> files) =>
        [.. files.OrderBy(f => f.RelativePath, StringComparer.Ordinal)];

    // A symlink to a directory is enumerated as neither file nor traversed directory; keep it as an entry.
    private static IEnumerable<string> EnumerateSymlinkedDirectories(string root) =>
        Directory.EnumerateDirectories(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(d => new DirectoryInfo(d).LinkTarget is not null);
}
