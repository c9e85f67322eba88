namespace Containers.Build.OsPackages;

/// <summary>
/// A Debian package version <c>[epoch:]upstream[-revision]</c>, ordered by the algorithm of Debian policy 5.6.12
/// (the one <c>dpkg --compare-versions</c> implements): '~' sorts before everything, even the end of the string;
/// letters sort before other non-digits; runs of digits compare numerically.
/// </summary>
public sealed class DebianVersion : IComparable<DebianVersion>, IEquatable<DebianVersion>
{
    private DebianVersion(string text, long epoch, string upstream, string revision)
    {
        Text = text;
        Epoch = epoch;
        Upstream = upstream;
        Revision = revision;
    }

    /// <summary>The version as written.</summary>
    public string Text { get; }

    /// <summary>The epoch; 0 when absent.</summary>
    public long Epoch { get; }

    /// <summary>The upstream version.</summary>
    public string Upstream { get; }

    /// <summary>The Debian revision; empty when absent.</summary>
    public string Revision { get; }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">Not a Debian version.</exception>
    public static DebianVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a Debian version ([epoch:]upstream[-revision])");

    /// <summary>Parses <paramref name="text"/>, or returns false.</summary>
    public static bool TryParse(string? text, out DebianVersion version)
    {
        version = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        long epoch = 0;
        var rest = trimmed;
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!long.TryParse(trimmed.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out epoch))
            {
                return false;
            }

            rest = trimmed[(colon + 1)..];
        }

        var dash = rest.LastIndexOf('-');
        var upstream = dash >= 0 ? rest[..dash] : rest;
        var revision = dash >= 0 ? rest[(dash + 1)..] : string.Empty;
        if (upstream.Length == 0 || (dash >= 0 && revision.Length == 0))
        {
            return false;
        }

        foreach (var c in rest)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-' or '~' or ':'))
            {
                return false;
            }
        }

        version = new DebianVersion(trimmed, epoch, upstream, revision);
        return true;
    }

    /// <summary>Compares two version strings as <c>dpkg --compare-versions</c> does.</summary>
    public static int Compare(string left, string right) => Parse(left).CompareTo(Parse(right));

    /// <inheritdoc/>
    public int CompareTo(DebianVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var result = Epoch.CompareTo(other.Epoch);
        if (result != 0)
        {
            return result;
        }

        result = CompareFragment(Upstream, other.Upstream);
        return result != 0 ? result : CompareFragment(Revision, other.Revision);
    }

    /// <summary>True when <paramref name="other"/> sorts equal (so <c>1.0</c> equals <c>0:1.0</c>).</summary>
    public bool Equals(DebianVersion? other) => other is not null && CompareTo(other) == 0;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DebianVersion);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Epoch, Upstream.TrimStart('0'), Revision.TrimStart('0'));

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>Equal by Debian ordering.</summary>
    public static bool operator ==(DebianVersion? left, DebianVersion? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Not equal by Debian ordering.</summary>
    public static bool operator !=(DebianVersion? left, DebianVersion? right) => !(left == right);

    /// <summary>Earlier.</summary>
    public static bool operator <(DebianVersion left, DebianVersion right) => left.CompareTo(right) < 0;

    /// <summary>Earlier or equal.</summary>
    public static bool operator <=(DebianVersion left, DebianVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Later.</summary>
    public static bool operator >(DebianVersion left, DebianVersion right) => left.CompareTo(right) > 0;

    /// <summary>Later or equal.</summary>
    public static bool operator >=(DebianVersion left, DebianVersion right) => left.CompareTo(right) >= 0;

    private static int Order(char c) => c switch
    {
        '~' => -1,
        _ when char.IsAsciiDigit(c) => 0,
        _ when char.IsAsciiLetter(c) => c,
        _ => c + 256,
    };

    private static int CompareFragment(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            var firstDifference = 0;
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ac = i < a.Length ? Order(a[i]) : 0;
                var bc = j < b.Length ? Order(b[j]) : 0;
                if (ac != bc)
                {
                    return ac - bc;
                }

                i++;
                j++;
            }

            while (i < a.Length && a[i] == '0')
            {
                i++;
            }

            while (j < b.Length && b[j] == '0')
            {
                j++;
            }

            while (i < a.Length && char.IsAsciiDigit(a[i]) && j < b.Length && char.IsAsciiDigit(b[j]))
            {
                if (firstDifference == 0)
                {
                    firstDifference = a[i] - b[j];
                }

                i++;
                j++;
            }

            if (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                return 1;
            }

            if (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                return -1;
            }

            if (firstDifference != 0)
            {
                return firstDifference;
            }
        }

        return 0;
    }
}
