namespace Containers.Build.Layering;

/// <summary>
/// A user-declared layer (MSBuild <c>ContainerLayer</c> item): the publish files that match any of
/// <paramref name="Include"/> and none of <paramref name="Exclude"/> go into a layer of their own.
/// </summary>
/// <param name="Name">The layer's name (the item's Include).</param>
/// <param name="Include">Globs relative to the publish directory: <c>*</c>, <c>?</c> and <c>**</c>, '/' or '\' separated.</param>
/// <param name="Exclude">Globs removed from the match.</param>
public sealed record CustomLayerRule(string Name, IReadOnlyList<string> Include, IReadOnlyList<string> Exclude)
{
    /// <summary>True when <paramref name="relativePath"/> is in this layer.</summary>
    public bool Matches(string relativePath) =>
        Include.Any(g => Glob.IsMatch(g, relativePath)) && !Exclude.Any(g => Glob.IsMatch(g, relativePath));
}
