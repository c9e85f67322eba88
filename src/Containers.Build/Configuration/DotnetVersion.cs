using System.Globalization;

namespace Containers.Build.Configuration;

/// <summary>
/// A SemVer 2 version as the SDK versions and target framework versions use it:
/// <c>major.minor.patch[-label.label...][+metadata]</c>; <c>major.minor</c> is read as <c>major.minor.0</c>.
/// Only what base image inference needs: parts, prerelease labels and ordering.
/// </summary>
internal sealed record DotnetVersion(int Major, int Minor, int Patch, IReadOnlyList<string> ReleaseLabels) : IComparable<DotnetVersion>
{
    public bool IsPrerelease => ReleaseLabels.Count > 0;

    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DotnetVersion? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var value = text.Trim();
        if (value.StartsWith('v') || value.StartsWith('V'))
        {
            value = value[1..];
        }

        var plus = value.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            value = value[..plus];
        }

        string[] labels = [];
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            labels = value[(dash + 1)..].Split('.');
            if (labels.Any(label => label.Length == 0))
            {
                return false;
            }

            value = value[..dash];
        }

        var parts = value.Split('.');
        if (parts.Length is < 2 or > 3)
        {
            return false;
        }

        var numbers = new int[3];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }

        version = new DotnetVersion(numbers[0], numbers[1], numbers[2], labels);
        return true;
    }

    public int CompareTo(DotnetVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var byNumbers = (Major, Minor, Patch).CompareTo((other.Major, other.Minor, other.Patch));
        if (byNumbers != 0)
        {
            return byNumbers;
        }

        // A release sorts after any prerelease of the same numbers; prereleases compare label by label.
        if (IsPrerelease != other.IsPrerelease)
        {
            return IsPrerelease ? -1 : 1;
        }

        for (var i = 0; i < Math.Min(ReleaseLabels.Count, other.ReleaseLabels.Count); i++)
        {
            var a = ReleaseLabels[i];
            var b = other.ReleaseLabels[i];
            var aNumeric = int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var aNumber);
            var bNumeric = int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var bNumber);
            var byLabel = (aNumeric, bNumeric) switch
            {
                (true, true) => aNumber.CompareTo(bNumber),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(a, b),
            };
            if (byLabel != 0)
            {
                return byLabel;
            }
        }

        return ReleaseLabels.Count.CompareTo(other.ReleaseLabels.Count);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}") + (IsPrerelease ? "-" + string.Join(".", ReleaseLabels) : string.Empty);
}
