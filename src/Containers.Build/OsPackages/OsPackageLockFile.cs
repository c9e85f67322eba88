using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Build.OsPackages;

/// <summary>One package pinned by the lock file.</summary>
public sealed record LockedOsPackage
{
    /// <summary>The package name.</summary>
    public required string Name { get; init; }

    /// <summary>The exact version.</summary>
    public required string Version { get; init; }

    /// <summary>The Debian architecture (<c>amd64</c>, <c>all</c> ...).</summary>
    public required string Architecture { get; init; }

    /// <summary>The .deb's SHA-256 (hex).</summary>
    public required string Sha256 { get; init; }

    /// <summary>The .deb's size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>The .deb's path below the source's root.</summary>
    public required string Filename { get; init; }

    /// <summary>The source it comes from, as <see cref="AptSource.DisplayName"/>.</summary>
    public required string Source { get; init; }

    /// <summary>The source package name.</summary>
    public required string SourcePackage { get; init; }

    /// <summary>The source package version.</summary>
    public required string SourceVersion { get; init; }
}

/// <summary>A source as the lock file records it.</summary>
public sealed record LockedOsPackageSource
{
    /// <summary>The repository root.</summary>
    public required string Uri { get; init; }

    /// <summary>The suite.</summary>
    public required string Suite { get; init; }

    /// <summary>The components.</summary>
    public required IReadOnlyList<string> Components { get; init; }

    /// <summary>The source as a line (the key the packages' <see cref="LockedOsPackage.Source"/> refer to).</summary>
    [JsonIgnore]
    public string DisplayName => new AptSource(new Uri(Uri), Suite, Components).DisplayName;
}

/// <summary>
/// <c>container-packages.lock.json</c>: what was asked for, from which sources, and every package resolved per
/// architecture with version, SHA-256, size, path and source. Written on the first resolution and used as is
/// afterwards, so that the same lock gives the same layer; re-resolved only on demand.
/// </summary>
public sealed record OsPackageLockFile
{
    /// <summary>The file name, beside the project.</summary>
    public const string FileName = "container-packages.lock.json";

    /// <summary>The format version; 1.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The requested packages as <c>name</c> or <c>name=version</c>, sorted.</summary>
    public required IReadOnlyList<string> Requested { get; init; }

    /// <summary>The sources in priority order.</summary>
    public required IReadOnlyList<LockedOsPackageSource> Sources { get; init; }

    /// <summary>The resolved packages per Debian architecture, each list sorted by name.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<LockedOsPackage>> Packages { get; init; }

    /// <summary>The canonical form of <paramref name="requests"/> for <see cref="Requested"/>.</summary>
    public static IReadOnlyList<string> Describe(IEnumerable<OsPackageRequest> requests) =>
        requests.Select(r => string.IsNullOrEmpty(r.Version) ? r.Name : $"{r.Name}={r.Version}").Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>The canonical form of <paramref name="sources"/> for <see cref="Sources"/>.</summary>
    public static IReadOnlyList<LockedOsPackageSource> Describe(IEnumerable<AptSource> sources) =>
        sources.Select(s => new LockedOsPackageSource { Uri = s.Uri.ToString(), Suite = s.Suite, Components = s.Components }).ToArray();

    /// <summary>True when this lock was made for the same requests and sources and holds <paramref name="architecture"/>.</summary>
    public bool Covers(IReadOnlyList<string> requested, IReadOnlyList<LockedOsPackageSource> sources, string architecture) =>
        Requested.SequenceEqual(requested, StringComparer.Ordinal)
        && Sources.Select(s => s.DisplayName).SequenceEqual(sources.Select(s => s.DisplayName), StringComparer.Ordinal)
        && Packages.ContainsKey(architecture);

    /// <summary>Reads <paramref name="path"/>, or returns null when it does not exist.</summary>
    /// <exception cref="OsPackageException">The file is not a lock file of this format.</exception>
    public static OsPackageLockFile? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var lockFile = JsonSerializer.Deserialize(File.ReadAllBytes(path), OsPackageLockJsonContext.Default.OsPackageLockFile);
            if (lockFile is null || lockFile.Version != 1)
            {
                throw new JsonException("expected an object with \"version\": 1");
            }

            return lockFile;
        }
        catch (JsonException ex)
        {
            throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration,
                $"The lock file '{path}' cannot be read ({ex.Message}); restore it from version control, or delete it and run 'dotnet msbuild -t:ResolveContainerOsPackages' to resolve again.");
        }
    }

    /// <summary>The lock as JSON text (stable: sorted lists, fixed property order, '\n' line ends).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, OsPackageLockJsonContext.Default.OsPackageLockFile).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    /// <summary>Writes the lock to <paramref name="path"/> atomically.</summary>
    public void Write(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(ToJson()));
    }
}

// Source-generated (no reflection): the same code runs in MSBuild and in the dotnet container tool, which is compiled
// ahead of time.
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OsPackageLockFile))]
internal sealed partial class OsPackageLockJsonContext : JsonSerializerContext;
