namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Where <see cref="ConfiguredCredentialProvider"/> looks for credentials. Every setting defaults to
/// the current process (its environment variables and home directory); tests and hosts such as MSBuild
/// can pass their own instead of mutating the process environment.
/// </summary>
public sealed record CredentialProviderOptions
{
    /// <summary>
    /// The registry images are pushed to: <see cref="DestinationVariables"/> apply to this registry only. Null: they
    /// apply to no registry.
    /// </summary>
    public string? DestinationRegistry { get; init; }

    /// <summary>
    /// Environment variable pairs with credentials for <see cref="DestinationRegistry"/>, the first pair that is set
    /// wins (the .NET SDK's are <c>DOTNET_CONTAINER_PUSH_REGISTRY_UNAME/PWORD</c>, <c>DOTNET_CONTAINER_REGISTRY_UNAME/PWORD</c>
    /// and <c>SDK_CONTAINER_REGISTRY_UNAME/PWORD</c>). Empty: none.
    /// </summary>
    public IReadOnlyList<CredentialVariablePair> DestinationVariables { get; init; } = [];

    /// <summary>
    /// The registry base images come from: <see cref="SourceVariables"/> apply to it. Null: they apply to no registry.
    /// </summary>
    public string? SourceRegistry { get; init; }

    /// <summary>
    /// Environment variable pairs with credentials for <see cref="SourceRegistry"/> (the .NET SDK's is
    /// <c>DOTNET_CONTAINER_PULL_REGISTRY_UNAME/PWORD</c>). Empty: none.
    /// </summary>
    public IReadOnlyList<CredentialVariablePair> SourceVariables { get; init; } = [];

    /// <summary>
    /// The environment variables to read (DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME,
    /// HOME, PATH and the credential variable pairs). Null: the current process environment.
    /// </summary>
    public IReadOnlyDictionary<string, string>? EnvironmentVariables { get; init; }

    /// <summary>The user's home directory (for ~/.docker and ~/.config). Null: HOME, else the OS user profile.</summary>
    public string? HomeDirectory { get; init; }

    /// <summary>How long a credential helper may take before it is killed and reported as hanging.</summary>
    public TimeSpan CredentialHelperTimeout { get; init; } = TimeSpan.FromSeconds(60);

    internal string? GetVariable(string name)
    {
        var value = EnvironmentVariables is null
            ? Environment.GetEnvironmentVariable(name)
            : EnvironmentVariables.TryGetValue(name, out var configured) ? configured : null;
        return string.IsNullOrEmpty(value) ? null : value;
    }

    internal string ResolveHomeDirectory() =>
        HomeDirectory
        ?? GetVariable("HOME")
        ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
