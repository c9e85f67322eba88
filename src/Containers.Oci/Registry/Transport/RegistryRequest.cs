namespace Containers.Oci.Registry.Transport;

/// <summary>
/// What the handlers of the transport pipeline need to know about a request beyond its HTTP message, carried in
/// <see cref="HttpRequestMessage.Options"/>.
/// </summary>
internal static class RegistryRequest
{
    /// <summary>The registry (host[:port]) the request is on behalf of; messages name it.</summary>
    public static readonly HttpRequestOptionsKey<string> Registry = new("Containers.Oci.Registry");

    /// <summary>The repository and access the request needs; null for registry-wide requests.</summary>
    public static readonly HttpRequestOptionsKey<RegistryScope?> Scope = new("Containers.Oci.Scope");

    /// <summary>
    /// Makes the same request again: a message (and its content, possibly an open layer file) is sent once, so a
    /// handler that sends it again (after a challenge, or a transient failure) asks for a new one.
    /// </summary>
    public static readonly HttpRequestOptionsKey<Func<HttpRequestMessage>> Resend = new("Containers.Oci.Resend");

    /// <summary>True when transient failures are retried in the pipeline; false leaves them to the caller's own loop.</summary>
    public static readonly HttpRequestOptionsKey<bool> RetryTransient = new("Containers.Oci.RetryTransient");

    /// <summary>True for requests sent without authentication (redirects to blob storage).</summary>
    public static readonly HttpRequestOptionsKey<bool> Anonymous = new("Containers.Oci.Anonymous");

    /// <summary>The registry the request is on behalf of (the request URI's authority when none was set).</summary>
    public static string RegistryOf(HttpRequestMessage request) =>
        request.Options.TryGetValue(Registry, out var registry) ? registry : request.RequestUri?.Authority ?? string.Empty;

    /// <summary>The request's scope, or null.</summary>
    public static RegistryScope? ScopeOf(HttpRequestMessage request) =>
        request.Options.TryGetValue(Scope, out var scope) ? scope : null;

    /// <summary>Whether <paramref name="key"/> is set to true on the request.</summary>
    public static bool Is(HttpRequestMessage request, HttpRequestOptionsKey<bool> key) =>
        request.Options.TryGetValue(key, out var value) && value;

    /// <summary>A new message for the same request, with the same options.</summary>
    public static HttpRequestMessage Recreate(HttpRequestMessage request) =>
        request.Options.TryGetValue(Resend, out var resend)
            ? resend()
            : throw new InvalidOperationException("The request cannot be sent again: it carries no way to make it anew.");
}
