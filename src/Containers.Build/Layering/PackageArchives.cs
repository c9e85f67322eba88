using System.Text.Json;

namespace Containers.Build.Layering;

/// <summary>
/// The NuGet packages (<c>.nupkg</c> files in the package folders) an app's <c>.deps.json</c> says its publish files
/// came from: its packages and, for a self-contained app, its runtime packs. Their deflated entries save a gzip layer
/// compressing the same files again (<see cref="Containers.Oci.Layers.DeflatedFileSources"/>).
/// </summary>
public static class PackageArchives
{
    /// <summary>
    /// The archives of <paramref name="depsFilePath"/>'s packages and runtime packs that exist in
    /// <paramref name="packageFolders"/> (the first folder that has a package wins), in the deps file's order; none when
    /// the deps file is missing or unreadable (the layers are then compressed as usual).
    /// </summary>
    public static IReadOnlyList<string> Find(string depsFilePath, IReadOnlyList<string> packageFolders)
    {
        ArgumentNullException.ThrowIfNull(depsFilePath);
        ArgumentNullException.ThrowIfNull(packageFolders);
        var archives = new List<string>();
        if (packageFolders.Count == 0 || !File.Exists(depsFilePath))
        {
            return archives;
        }

        try
        {
            using var stream = File.OpenRead(depsFilePath);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (!document.RootElement.TryGetProperty("libraries", out var libraries) || libraries.ValueKind != JsonValueKind.Object)
            {
                return archives;
            }

            foreach (var library in libraries.EnumerateObject())
            {
                if (ArchiveOf(library.Name, library.Value, packageFolders) is { } archive)
                {
                    archives.Add(archive);
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            // The layering reads the same file and reports what is wrong with it; here it only means nothing to copy.
            archives.Clear();
        }

        return archives;
    }

    // A package is at <folder>/<path>/<id>.<version>.nupkg, path being the deps file's or <id>/<version>, all lower
    // case as NuGet lays them out; a runtime pack is listed as runtimepack.<pack id>/<version> and restored as a package.
    private static string? ArchiveOf(string key, JsonElement library, IReadOnlyList<string> packageFolders)
    {
        var type = library.ValueKind == JsonValueKind.Object && library.TryGetProperty("type", out var t) ? t.GetString() : null;
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || type is not ("package" or "runtimepack"))
        {
            return null;
        }

        var id = key[..slash].ToLowerInvariant();
        var version = key[(slash + 1)..].ToLowerInvariant();
        if (type == "runtimepack")
        {
            const string Prefix = "runtimepack.";
            if (!id.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return null;
            }

            id = id[Prefix.Length..];
        }

        var relative = type == "package" && library.TryGetProperty("path", out var p) && p.GetString() is { Length: > 0 } path ? path : Path.Combine(id, version);
        return packageFolders
            .Select(folder => Path.Combine(folder, relative, $"{id}.{version}.nupkg"))
            .FirstOrDefault(File.Exists);
    }
}
