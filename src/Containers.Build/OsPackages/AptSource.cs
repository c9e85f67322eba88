namespace Containers.Build.OsPackages;

/// <summary>
/// An apt repository: <c>deb [signed-by=KeyFile] Uri Suite Components...</c>. Without a key file the repository is
/// verified with the keyring the base image ships.
/// </summary>
/// <param name="Uri">The repository root (the directory holding <c>dists/</c> and <c>pool/</c>).</param>
/// <param name="Suite">The suite or codename: <c>bookworm</c>, <c>bookworm-updates</c>, <c>noble</c>.</param>
/// <param name="Components">The components: <c>main</c>, <c>contrib</c> ...</param>
/// <param name="KeyFile">A host file with the repository's public key(s), or null for the base image's keyring.</param>
public sealed record AptSource(Uri Uri, string Suite, IReadOnlyList<string> Components, string? KeyFile = null)
{
    /// <summary>The source as one line, as in a sources.list: <c>http://host/debian bookworm main</c>.</summary>
    public string DisplayName => $"{Uri.ToString().TrimEnd('/')} {Suite} {string.Join(' ', Components)}";

    /// <summary>The absolute URL of <paramref name="relativePath"/> below the repository root.</summary>
    public Uri Resolve(string relativePath) => new(Uri.ToString().TrimEnd('/') + "/" + relativePath.TrimStart('/'));

    /// <inheritdoc/>
    public override string ToString() => DisplayName;

    /// <summary>True when both describe the same repository, suite and components.</summary>
    public bool Equals(AptSource? other) =>
        other is not null && Uri == other.Uri && Suite == other.Suite && Components.SequenceEqual(other.Components) && KeyFile == other.KeyFile;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Uri, Suite, string.Join(' ', Components), KeyFile);
}
