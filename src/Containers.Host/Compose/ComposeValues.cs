using System.Globalization;
using System.Text.RegularExpressions;

namespace Containers.Host.Compose;

/// <summary>Compose's value formats: durations (<c>1m30s</c>) and byte values (<c>512m</c>, <c>1gb</c>; binary units, as docker's).</summary>
internal static partial class ComposeValues
{
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        if (text == "0")
        {
            return true;
        }

        var matches = DurationPart().Matches(text);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != text.Length)
        {
            return false;
        }

        foreach (Match match in matches)
        {
            var amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
            duration += match.Groups["unit"].Value switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "ms" => TimeSpan.FromMilliseconds(amount),
                "us" or "µs" => TimeSpan.FromMicroseconds(amount),
                _ => TimeSpan.FromTicks((long)(amount / 100)),
            };
        }

        return true;
    }

    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        var match = ByteValue().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }

        var amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
        var factor = match.Groups["unit"].Value.ToLowerInvariant().TrimEnd('b') switch
        {
            "k" => 1024L,
            "m" => 1024L * 1024,
            "g" => 1024L * 1024 * 1024,
            "t" => 1024L * 1024 * 1024 * 1024,
            _ => 1L,
        };
        bytes = (long)Math.Round(amount * factor);
        return true;
    }

    [GeneratedRegex(@"(?<amount>\d+(?:\.\d+)?)(?<unit>h|ms|m|s|us|µs|ns)", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();

    [GeneratedRegex(@"^(?<amount>\d+(?:\.\d+)?)\s*(?<unit>[bB]|[kKmMgGtT][bB]?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ByteValue();
}
