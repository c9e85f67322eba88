using System.Globalization;

namespace Containers.Build.Reproducibility;

/// <summary>
/// The one timestamp an image is stamped with (config <c>created</c>, history, layer mtimes), chosen
/// so that the same sources give the same image on any machine and at any time.
/// </summary>
/// <param name="Value">The timestamp, whole seconds, UTC.</param>
/// <param name="Source">Where it came from, for the build log.</param>
public sealed record BuildTimestamp(DateTimeOffset Value, string Source)
{
    /// <summary>The timestamp as labels, annotations and SBOMs write it: <c>yyyy-MM-ddTHH:mm:ssZ</c> (RFC 3339, UTC, whole seconds).</summary>
    public string Text => Format(Value);

    /// <summary>Writes <paramref name="value"/> as <c>yyyy-MM-ddTHH:mm:ssZ</c>.</summary>
    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The fallback when neither SOURCE_DATE_EPOCH nor git history is available: the Unix epoch.</summary>
    public static BuildTimestamp FixedEpoch { get; } = new(DateTimeOffset.UnixEpoch, "fixed epoch (no SOURCE_DATE_EPOCH, no git history)");

    /// <summary>What to do about an image dated 1970 (<see cref="FixedEpoch"/>): said once in the publish log.</summary>
    public const string HowToSet =
        "The image is dated 1970-01-01 (decades old in 'docker images' and 'podman images') because the project has no git history and SOURCE_DATE_EPOCH is not set. "
        + "To date it, set SOURCE_DATE_EPOCH to seconds since 1970 (an environment variable, or -p:SOURCE_DATE_EPOCH=$(date +%s); in CI, $(git log -1 --format=%ct)) or commit the project to git; the same value gives the same image digest.";

    /// <summary>
    /// Resolves the timestamp: <c>SOURCE_DATE_EPOCH</c> when set (reproducible-builds.org), else the
    /// committer time of the last git commit touching <paramref name="projectDirectory"/>, else
    /// <see cref="FixedEpoch"/>.
    /// </summary>
    /// <param name="projectDirectory">The project's directory (git is asked about this path).</param>
    /// <param name="sourceDateEpoch">The value of SOURCE_DATE_EPOCH, or null when unset.</param>
    /// <exception cref="Containers.Oci.OciException">SOURCE_DATE_EPOCH is set but is not a non-negative integer.</exception>
    public static BuildTimestamp Resolve(string projectDirectory, string? sourceDateEpoch)
    {
        if (!string.IsNullOrWhiteSpace(sourceDateEpoch))
        {
            if (!long.TryParse(sourceDateEpoch.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253402300799)
            {
                throw new Containers.Oci.OciException($"SOURCE_DATE_EPOCH is '{sourceDateEpoch}'; expected a number of seconds since 1970-01-01 UTC, e.g. $(git log -1 --format=%ct). Unset it or fix its value.");
            }

            return new BuildTimestamp(DateTimeOffset.FromUnixTimeSeconds(seconds), "SOURCE_DATE_EPOCH");
        }

        return TryGitCommitTime(projectDirectory) ?? FixedEpoch;
    }

    private static BuildTimestamp? TryGitCommitTime(string directory)
    {
        var output = Git.Run(directory, "log", "-1", "--format=%ct %H", "--", ".");
        if (output is null)
        {
            return null;
        }

        var parts = output.Split(' ');
        return long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? new BuildTimestamp(DateTimeOffset.FromUnixTimeSeconds(seconds), $"git commit {parts.ElementAtOrDefault(1)?[..Math.Min(12, parts[1].Length)]}")
            : null;
    }
}
