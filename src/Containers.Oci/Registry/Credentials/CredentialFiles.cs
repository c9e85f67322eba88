using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// The parts of docker's config.json and containers' auth.json (same "auths"/"credHelpers" shape,
/// see containers-auth.json(5)) that hold registry credentials.
/// </summary>
internal sealed class CredentialConfigFile
{
    [JsonPropertyName("auths")]
    public Dictionary<string, CredentialConfigEntry?>? Auths { get; init; }

    [JsonPropertyName("credHelpers")]
    public Dictionary<string, string?>? CredHelpers { get; init; }

    [JsonPropertyName("credsStore")]
    public string? CredsStore { get; init; }
}

/// <summary>One "auths" entry: base64 "user:password" in <c>auth</c>, or the fields separately, or tokens.</summary>
internal sealed class CredentialConfigEntry
{
    [JsonPropertyName("auth")]
    public string? Auth { get; init; }

    [JsonPropertyName("username")]
    public string? Username { get; init; }

    [JsonPropertyName("password")]
    public string? Password { get; init; }

    [JsonPropertyName("identitytoken")]
    public string? IdentityToken { get; init; }

    [JsonPropertyName("registrytoken")]
    public string? RegistryToken { get; init; }
}

/// <summary>What <c>docker-credential-&lt;helper&gt; get</c> prints.</summary>
internal sealed class CredentialHelperResponse
{
    [JsonPropertyName("ServerURL")]
    public string? ServerUrl { get; init; }

    [JsonPropertyName("Username")]
    public string? Username { get; init; }

    [JsonPropertyName("Secret")]
    public string? Secret { get; init; }
}

/// <summary>Source-generated (reflection-free, trimming-safe) serialization for the credential files.</summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(CredentialConfigFile))]
[JsonSerializable(typeof(CredentialHelperResponse))]
internal sealed partial class CredentialJsonContext : JsonSerializerContext;
