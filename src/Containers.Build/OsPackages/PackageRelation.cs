namespace Containers.Build.OsPackages;

/// <summary>A version relation of a dependency: <c>&lt;&lt;</c>, <c>&lt;=</c>, <c>=</c>, <c>&gt;=</c>, <c>&gt;&gt;</c>.</summary>
public enum VersionRelation
{
    /// <summary>Any version.</summary>
    Any,
    /// <summary><c>&lt;&lt;</c>: strictly earlier.</summary>
    Earlier,
    /// <summary><c>&lt;=</c>: earlier or equal.</summary>
    EarlierOrEqual,
    /// <summary><c>=</c>: exactly equal.</summary>
    Equal,
    /// <summary><c>&gt;=</c>: later or equal.</summary>
    LaterOrEqual,
    /// <summary><c>&gt;&gt;</c>: strictly later.</summary>
    Later,
}

/// <summary>
/// One alternative of a dependency: <c>libc6 (&gt;= 2.34)</c>, <c>python3:any</c>. Architecture restrictions in
/// brackets and build profiles are dropped; binary package indexes do not carry them.
/// </summary>
public sealed record PackageRelation(string Name, string? ArchitectureQualifier, VersionRelation Relation, DebianVersion? Version)
{
    /// <summary>True when <paramref name="version"/> meets this relation.</summary>
    public bool IsSatisfiedBy(DebianVersion version)
    {
        if (Relation == VersionRelation.Any || Version is null)
        {
            return true;
        }

        var comparison = version.CompareTo(Version);
        return Relation switch
        {
            VersionRelation.Earlier => comparison < 0,
            VersionRelation.EarlierOrEqual => comparison <= 0,
            VersionRelation.Equal => comparison == 0,
            VersionRelation.LaterOrEqual => comparison >= 0,
            VersionRelation.Later => comparison > 0,
            _ => true,
        };
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var name = ArchitectureQualifier is null ? Name : $"{Name}:{ArchitectureQualifier}";
        return Relation == VersionRelation.Any ? name : $"{name} ({RelationText(Relation)} {Version})";
    }

    /// <summary>Parses a relationship field (Depends, Pre-Depends, Conflicts, Provides ...) into groups of alternatives.</summary>
    /// <exception cref="FormatException">A relation is malformed.</exception>
    public static IReadOnlyList<IReadOnlyList<PackageRelation>> ParseField(string? field)
    {
        var groups = new List<IReadOnlyList<PackageRelation>>();
        if (string.IsNullOrWhiteSpace(field))
        {
            return groups;
        }

        foreach (var group in field.Replace('\n', ' ').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var alternatives = new List<PackageRelation>();
            foreach (var alternative in group.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                alternatives.Add(ParseOne(alternative));
            }

            if (alternatives.Count > 0)
            {
                groups.Add(alternatives);
            }
        }

        return groups;
    }

    private static PackageRelation ParseOne(string text)
    {
        var rest = text;
        var bracket = rest.IndexOfAny(['[', '<']);
        var paren = rest.IndexOf('(', StringComparison.Ordinal);
        var nameEnd = new[] { bracket, paren, rest.IndexOf(' ', StringComparison.Ordinal) }.Where(i => i >= 0).DefaultIfEmpty(rest.Length).Min();
        var name = rest[..nameEnd].Trim();
        string? qualifier = null;
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            qualifier = name[(colon + 1)..];
            name = name[..colon];
        }

        if (name.Length == 0)
        {
            throw new FormatException($"'{text}' names no package");
        }

        if (paren < 0)
        {
            return new PackageRelation(name, qualifier, VersionRelation.Any, null);
        }

        var close = rest.IndexOf(')', paren);
        if (close < 0)
        {
            throw new FormatException($"'{text}' has an unclosed '('");
        }

        var inside = rest[(paren + 1)..close].Trim();
        var opLength = 0;
        while (opLength < inside.Length && inside[opLength] is '<' or '>' or '=')
        {
            opLength++;
        }

        var relation = inside[..opLength] switch
        {
            "<<" => VersionRelation.Earlier,
            "<=" or "<" => VersionRelation.EarlierOrEqual,
            "=" => VersionRelation.Equal,
            ">=" or ">" => VersionRelation.LaterOrEqual,
            ">>" => VersionRelation.Later,
            _ => throw new FormatException($"'{text}' has an unknown version relation '{inside[..opLength]}'"),
        };
        return new PackageRelation(name, qualifier, relation, DebianVersion.Parse(inside[opLength..].Trim()));
    }

    private static string RelationText(VersionRelation relation) => relation switch
    {
        VersionRelation.Earlier => "<<",
        VersionRelation.EarlierOrEqual => "<=",
        VersionRelation.Equal => "=",
        VersionRelation.LaterOrEqual => ">=",
        VersionRelation.Later => ">>",
        _ => string.Empty,
    };
}
