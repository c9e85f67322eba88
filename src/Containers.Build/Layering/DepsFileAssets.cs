using System.Text.Json;

namespace Containers.Build.Layering;

/// <summary>
/// What an app's <c>.deps.json</c> says about where each publish file came from: a NuGet package, the
/// runtime pack of a self-contained app, or a project. Only the runtime target's assets are read.
/// </summary>
public sealed class DepsFileAssets
{
    private readonly Dictionary<string, PublishLayerKind> _byRelativePath;
    private readonly Dictionary<string, PublishLayerKind> _byFileName;

    private DepsFileAssets(Dictionary<string, PublishLayerKind> byRelativePath, Dictionary<string, PublishLayerKind> byFileName)
    {
        _byRelativePath = byRelativePath;
        _byFileName = byFileName;
    }

    /// <summary>An instance that knows no assets (no deps.json, e.g. a single-file app).</summary>
    public static DepsFileAssets None { get; } = new(new(StringComparer.Ordinal), new(StringComparer.Ordinal));

    /// <summary>
    /// Reads <paramref name="depsFilePath"/>. <paramref name="applicationName"/> is the app's own
    /// project library name (its assets stay in the application layer).
    /// </summary>
    /// <exception cref="Containers.Oci.OciException">The file is not valid deps.json; the message names it.</exception>
    public static DepsFileAssets Load(string depsFilePath, string applicationName)
    {
        ArgumentNullException.ThrowIfNull(depsFilePath);
        try
        {
            using var stream = File.OpenRead(depsFilePath);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return Read(document.RootElement, applicationName);
        }
        catch (JsonException ex)
        {
            throw new Containers.Oci.OciException($"'{depsFilePath}' is not a valid .deps.json file ({ex.Message}); re-run the publish to regenerate it.", ex);
        }
    }

    private static DepsFileAssets Read(JsonElement root, string applicationName)
    {
        var byRelativePath = new Dictionary<string, PublishLayerKind>(StringComparer.Ordinal);
        var byFileName = new Dictionary<string, PublishLayerKind>(StringComparer.Ordinal);
        if (!root.TryGetProperty("runtimeTarget", out var runtimeTarget)
            || !runtimeTarget.TryGetProperty("name", out var targetNameElement)
            || !root.TryGetProperty("targets", out var targets)
            || !targets.TryGetProperty(targetNameElement.GetString() ?? string.Empty, out var target)
            || !root.TryGetProperty("libraries", out var libraries))
        {
            return new DepsFileAssets(byRelativePath, byFileName);
        }

        foreach (var library in target.EnumerateObject())
        {
            var kind = ClassifyLibrary(library.Name, libraries, applicationName);
            if (kind is null)
            {
                continue;
            }

            foreach (var assetGroup in library.Value.EnumerateObject())
            {
                switch (assetGroup.Name)
                {
                    case "runtime":
                    case "native":
                        // Publish flattens RID-specific and lib/ assets to the app directory.
                        foreach (var asset in assetGroup.Value.EnumerateObject())
                        {
                            AddAsset(byRelativePath, byFileName, asset.Name, Path.GetFileName(asset.Name), kind.Value);
                        }

                        break;
                    case "resources":
                        foreach (var asset in assetGroup.Value.EnumerateObject())
                        {
                            var locale = asset.Value.TryGetProperty("locale", out var l) ? l.GetString() : null;
                            var published = locale is null ? Path.GetFileName(asset.Name) : locale + "/" + Path.GetFileName(asset.Name);
                            byRelativePath.TryAdd(published, kind.Value);
                        }

                        break;
                    case "runtimeTargets":
                        // RID-neutral publish keeps these under runtimes/<rid>/...; a RID-specific one flattens them.
                        foreach (var asset in assetGroup.Value.EnumerateObject())
                        {
                            AddAsset(byRelativePath, byFileName, asset.Name, Path.GetFileName(asset.Name), kind.Value);
                        }

                        break;
                }
            }
        }

        return new DepsFileAssets(byRelativePath, byFileName);
    }

    private static void AddAsset(Dictionary<string, PublishLayerKind> byRelativePath, Dictionary<string, PublishLayerKind> byFileName, string assetPath, string fileName, PublishLayerKind kind)
    {
        byRelativePath.TryAdd(assetPath.Replace('\\', '/'), kind);
        byFileName.TryAdd(fileName, kind);
        // Symbols and XML docs ship next to the assembly with the same base name.
        if (fileName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            var stem = fileName[..^4];
            byFileName.TryAdd(stem + ".pdb", kind);
            byFileName.TryAdd(stem + ".xml", kind);
        }
    }

    private static PublishLayerKind? ClassifyLibrary(string libraryKey, JsonElement libraries, string applicationName)
    {
        var type = libraries.TryGetProperty(libraryKey, out var library) && library.TryGetProperty("type", out var t) ? t.GetString() : null;
        var name = libraryKey.Split('/')[0];
        return type switch
        {
            "runtimepack" => PublishLayerKind.Runtime,
            "package" => PublishLayerKind.Packages,
            "project" when string.Equals(name, applicationName, StringComparison.OrdinalIgnoreCase) => null,
            "project" => PublishLayerKind.ProjectReferences,
            "reference" => PublishLayerKind.ProjectReferences,
            _ => null,
        };
    }

    /// <summary>The layer a publish file belongs to by its origin, or null when the deps file does not list it.</summary>
    public PublishLayerKind? Classify(string relativePath)
    {
        if (_byRelativePath.TryGetValue(relativePath, out var kind))
        {
            return kind;
        }

        // Only files at the root of the publish directory are flattened assets.
        return relativePath.Contains('/', StringComparison.Ordinal) ? null
            : _byFileName.TryGetValue(relativePath, out kind) ? kind : null;
    }
}
