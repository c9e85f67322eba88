namespace Containers.Build.Layering;

/// <summary>
/// MSBuild-style globs over relative paths: <c>*</c> matches within one path segment, <c>?</c> one
/// character, <c>**</c> any number of whole segments. Matching is case-sensitive, as on Linux file
/// systems, and '\' is treated as '/', so globs written on Windows work unchanged.
/// </summary>
public static class Glob
{
    /// <summary>True when <paramref name="path"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(string pattern, string path)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(path);
        var patternSegments = Normalize(pattern).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var pathSegments = Normalize(path).Split('/', StringSplitOptions.RemoveEmptyEntries);
        return MatchSegments(patternSegments, 0, pathSegments, 0);
    }

    private static string Normalize(string value)
    {
        var normalized = value.Replace('\\', '/');
        return normalized.StartsWith("./", StringComparison.Ordinal) ? normalized[2..] : normalized;
    }

    private static bool MatchSegments(string[] pattern, int p, string[] path, int s)
    {
        while (p < pattern.Length)
        {
            if (pattern[p] == "**")
            {
                // '**' absorbs zero or more whole segments; try every split.
                for (var skip = s; skip <= path.Length; skip++)
                {
                    if (MatchSegments(pattern, p + 1, path, skip))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (s >= path.Length || !MatchSegment(pattern[p], 0, path[s], 0))
            {
                return false;
            }

            p++;
            s++;
        }

        return s == path.Length;
    }

    private static bool MatchSegment(string pattern, int p, string text, int t)
    {
        while (p < pattern.Length)
        {
            var c = pattern[p];
            if (c == '*')
            {
                for (var rest = t; rest <= text.Length; rest++)
                {
                    if (MatchSegment(pattern, p + 1, text, rest))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (t >= text.Length || (c != '?' && c != text[t]))
            {
                return false;
            }

            p++;
            t++;
        }

        return t == text.Length;
    }
}
