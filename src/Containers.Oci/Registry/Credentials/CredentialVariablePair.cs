namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Two environment variables that hold a user name and a password (or token) for a registry, e.g. a CI system's
/// <c>REGISTRY_USER</c>/<c>REGISTRY_TOKEN</c>. Both set: used; one set alone: a <see cref="RegistryCredentialException"/>
/// naming both, rather than an anonymous request that fails later with a less clear answer.
/// </summary>
/// <param name="UserVariable">The variable with the user name (<c>&lt;token&gt;</c> is passed on as it is).</param>
/// <param name="PasswordVariable">The variable with the password or token.</param>
public sealed record CredentialVariablePair(string UserVariable, string PasswordVariable);
