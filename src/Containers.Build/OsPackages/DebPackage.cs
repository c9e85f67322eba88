namespace Containers.Build.OsPackages;

/// <summary>
/// A binary package as an index or the dpkg database describes it: its control paragraph and the fields the
/// resolver reads from it.
/// </summary>
public sealed class DebPackage
{
    /// <summary>Reads the fields of <paramref name="control"/>.</summary>
    /// <exception cref="FormatException">Package, Version or Architecture is missing or malformed.</exception>
    public DebPackage(ControlParagraph control)
    {
        Control = control;
        Name = control["Package"] ?? throw new FormatException("a paragraph has no Package field");
        Version = DebianVersion.Parse(control["Version"] ?? throw new FormatException($"package '{Name}' has no Version field"));
        Architecture = control["Architecture"] ?? throw new FormatException($"package '{Name}' has no Architecture field");
        MultiArch = control["Multi-Arch"] ?? "no";
        Depends = PackageRelation.ParseField(control["Pre-Depends"]).Concat(PackageRelation.ParseField(control["Depends"])).ToArray();
        Conflicts = PackageRelation.ParseField(control["Conflicts"]).Concat(PackageRelation.ParseField(control["Breaks"])).SelectMany(g => g).ToArray();
        Provides = PackageRelation.ParseField(control["Provides"]).SelectMany(g => g).ToArray();
        var source = control["Source"];
        if (string.IsNullOrWhiteSpace(source))
        {
            SourceName = Name;
            SourceVersion = Version;
        }
        else
        {
            var parts = source.Split(' ', 2, StringSplitOptions.TrimEntries);
            SourceName = parts[0];
            SourceVersion = parts.Length == 2 ? DebianVersion.Parse(parts[1].Trim('(', ')', ' ')) : Version;
        }
    }

    /// <summary>The control paragraph as read.</summary>
    public ControlParagraph Control { get; }

    /// <summary>The package name.</summary>
    public string Name { get; }

    /// <summary>The version.</summary>
    public DebianVersion Version { get; }

    /// <summary>The architecture: <c>amd64</c>, <c>arm64</c> ... or <c>all</c>.</summary>
    public string Architecture { get; }

    /// <summary>The Multi-Arch field: <c>no</c>, <c>same</c>, <c>foreign</c> or <c>allowed</c>.</summary>
    public string MultiArch { get; }

    /// <summary>Pre-Depends then Depends, each a group of alternatives.</summary>
    public IReadOnlyList<IReadOnlyList<PackageRelation>> Depends { get; }

    /// <summary>Conflicts and Breaks.</summary>
    public IReadOnlyList<PackageRelation> Conflicts { get; }

    /// <summary>Virtual (or versioned) packages this one provides.</summary>
    public IReadOnlyList<PackageRelation> Provides { get; }

    /// <summary>The source package name.</summary>
    public string SourceName { get; }

    /// <summary>The source package version.</summary>
    public DebianVersion SourceVersion { get; }

    /// <summary>The path of the .deb below the repository root (Filename); null for installed packages.</summary>
    public string? Filename => Control["Filename"];

    /// <summary>The .deb's size in bytes, or -1 when the index does not say.</summary>
    public long Size => long.TryParse(Control["Size"], out var size) ? size : -1;

    /// <summary>The .deb's SHA-256 (lowercase hex) from the index; null for installed packages.</summary>
    public string? Sha256 => Control["SHA256"]?.ToLowerInvariant();

    /// <summary>For dpkg status paragraphs: true when the Status field says <c>install ok installed</c>.</summary>
    public bool IsInstalled => Control["Status"] is { } status && status.EndsWith(" installed", StringComparison.Ordinal)
        && !status.Contains("not-installed", StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => $"{Name}={Version}:{Architecture}";
}
