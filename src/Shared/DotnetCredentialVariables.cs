using Containers.Oci.Registry.Credentials;

namespace Containers.Shared;

/// <summary>
/// The .NET SDK's credential environment variables, as its built-in container support reads them. They are the .NET
/// SDK's policy, not the image library's: Containers.Oci reads whichever variable pairs it is given, and this file is
/// linked into the projects that speak for the SDK (the MSBuild tasks, the runtime host, the tool) so they name the same.
/// </summary>
internal static class DotnetCredentialVariables
{
    /// <summary>For the registry images are pushed to, in order.</summary>
    public static IReadOnlyList<CredentialVariablePair> Push { get; } =
    [
        new("DOTNET_CONTAINER_PUSH_REGISTRY_UNAME", "DOTNET_CONTAINER_PUSH_REGISTRY_PWORD"),
        new("DOTNET_CONTAINER_REGISTRY_UNAME", "DOTNET_CONTAINER_REGISTRY_PWORD"),
        new("SDK_CONTAINER_REGISTRY_UNAME", "SDK_CONTAINER_REGISTRY_PWORD"),
    ];

    /// <summary>For the registry base images (and images a host runs) are pulled from.</summary>
    public static IReadOnlyList<CredentialVariablePair> Pull { get; } =
    [
        new("DOTNET_CONTAINER_PULL_REGISTRY_UNAME", "DOTNET_CONTAINER_PULL_REGISTRY_PWORD"),
    ];

    /// <summary><paramref name="options"/> with the SDK's push variables for its destination and pull variables for its source.</summary>
    public static CredentialProviderOptions Apply(CredentialProviderOptions options) =>
        options with { DestinationVariables = Push, SourceVariables = Pull };
}
