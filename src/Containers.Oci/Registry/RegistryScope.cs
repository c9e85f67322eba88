namespace Containers.Oci.Registry;

/// <summary>
/// The access a series of requests needs, as docker token-auth scopes: pull (and push) on one
/// repository, plus pull on the repositories blobs may be mounted from.
/// </summary>
internal sealed record RegistryScope(string Repository, bool Push, IReadOnlyList<string> MountFrom)
{
    public static RegistryScope Pull(string repository) => new(repository, Push: false, []);

    public static RegistryScope ForPush(string repository, IEnumerable<string>? mountFrom) =>
        new(repository, Push: true, (mountFrom ?? []).Where(r => !string.Equals(r, repository, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToArray());

    /// <summary>The scope parameters of a token request, sorted so equal access gives an equal cache key.</summary>
    public IReadOnlyList<string> ToScopeStrings()
    {
        var scopes = new List<string> { $"repository:{Repository}:{(Push ? "pull,push" : "pull")}" };
        scopes.AddRange(MountFrom.Select(from => $"repository:{from}:pull"));
        scopes.Sort(StringComparer.Ordinal);
        return scopes;
    }
}
