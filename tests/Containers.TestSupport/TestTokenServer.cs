using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Containers.TestSupport;

/// <summary>
/// An in-process implementation of the docker registry token protocol (GET /token with Basic auth,
/// and the OAuth2 POST /token with password and refresh_token grants). It signs RS256 JWTs whose
/// header carries the signing certificate in <c>x5c</c>, which the distribution registry verifies
/// against the certificate bundle in its <c>auth: token: rootcertbundle</c>.
/// </summary>
internal sealed class TestTokenServer : IAsyncDisposable
{
    public const string Service = "test-registry";
    public const string Issuer = "test-issuer";

    private static readonly string[] FullActions = ["pull", "push"];
    private static readonly string[] ReadOnlyActions = ["pull"];

    private readonly RSA _signingKey;
    private readonly X509Certificate2 _certificate;
    private readonly Dictionary<string, (string Password, string[] Actions)> _users;
    private readonly ConcurrentDictionary<string, string> _refreshTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requestedScopes = new();
    private readonly WebApplication _application;
    private int _tokensIssued;

    private TestTokenServer(WebApplication application, RSA signingKey, X509Certificate2 certificate, Dictionary<string, (string, string[])> users)
    {
        _application = application;
        _signingKey = signingKey;
        _certificate = certificate;
        _users = users;
    }

    /// <summary>The URL the registry sends clients to, e.g. http://127.0.0.1:41234/token.</summary>
    public string Realm { get; private set; } = "";

    /// <summary>The signing certificate in PEM, for the registry's rootcertbundle.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(5);

    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    public IReadOnlyList<string> RequestedScopes => _requestedScopes.ToArray();

    public static async Task<TestTokenServer> StartAsync(
        string fullUser, string fullPassword, string readOnlyUser, string readOnlyPassword, TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        var signingKey = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Issuer}", signingKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var application = builder.Build();
        var users = new Dictionary<string, (string, string[])>(StringComparer.Ordinal)
        {
            [fullUser] = (fullPassword, FullActions),
            [readOnlyUser] = (readOnlyPassword, ReadOnlyActions),
        };
        var server = new TestTokenServer(application, signingKey, certificate, users) { TokenLifetime = tokenLifetime };
        application.MapGet("/token", server.HandleGetAsync);
        application.MapPost("/token", server.HandlePostAsync);
        await application.StartAsync(cancellationToken);
        var address = application.Urls.First();
        server.Realm = address.TrimEnd('/') + "/token";
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _application.StopAsync();
        await _application.DisposeAsync();
        _certificate.Dispose();
        _signingKey.Dispose();
    }

    /// <summary>The docker token spec: Basic auth (optional), service, repeated scope, offline_token.</summary>
    private async Task HandleGetAsync(HttpContext context)
    {
        string? user = null;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            user = AuthenticateBasic(authorization);
            if (user is null)
            {
                await WriteErrorAsync(context, HttpStatusCode.Unauthorized, "invalid username or password");
                return;
            }
        }

        var scopes = context.Request.Query["scope"].Where(s => !string.IsNullOrEmpty(s)).SelectMany(s => s!.Split(' ')).ToList();
        var offline = string.Equals(context.Request.Query["offline_token"], "true", StringComparison.OrdinalIgnoreCase);
        var service = context.Request.Query["service"].ToString();
        await IssueAsync(context, user, service, scopes, offline, useOAuthShape: false);
    }

    /// <summary>The OAuth2 flavour: grant_type=password or refresh_token, form-encoded.</summary>
    private async Task HandlePostAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var grantType = form["grant_type"].ToString();
        var scopes = form["scope"].Where(s => !string.IsNullOrEmpty(s)).SelectMany(s => s!.Split(' ')).ToList();
        var service = form["service"].ToString();
        string? user;
        switch (grantType)
        {
            case "password":
                user = Authenticate(form["username"].ToString(), form["password"].ToString());
                break;
            case "refresh_token":
                user = _refreshTokens.TryGetValue(form["refresh_token"].ToString(), out var owner) ? owner : null;
                break;
            default:
                await WriteErrorAsync(context, HttpStatusCode.BadRequest, $"unsupported grant_type '{grantType}'");
                return;
        }

        if (user is null)
        {
            await WriteErrorAsync(context, HttpStatusCode.Unauthorized, "invalid credentials");
            return;
        }

        var offline = string.Equals(form["access_type"], "offline", StringComparison.Ordinal);
        await IssueAsync(context, user, service, scopes, offline, useOAuthShape: true);
    }

    private async Task IssueAsync(HttpContext context, string? user, string service, List<string> scopes, bool offline, bool useOAuthShape)
    {
        if (service.Length > 0 && service != Service)
        {
            await WriteErrorAsync(context, HttpStatusCode.BadRequest, $"unknown service '{service}', expected '{Service}'");
            return;
        }

        foreach (var scope in scopes)
        {
            _requestedScopes.Enqueue(scope);
        }

        var granted = new List<(string Type, string Name, string[] Actions)>();
        var allowed = user is null ? [] : _users[user].Actions;
        foreach (var scope in scopes)
        {
            var firstColon = scope.IndexOf(':', StringComparison.Ordinal);
            var lastColon = scope.LastIndexOf(':');
            if (firstColon <= 0 || lastColon == firstColon)
            {
                await WriteErrorAsync(context, HttpStatusCode.BadRequest, $"malformed scope '{scope}'");
                return;
            }

            var type = scope[..firstColon];
            var name = scope[(firstColon + 1)..lastColon];
            var actions = scope[(lastColon + 1)..].Split(',').Where(a => allowed.Contains(a)).Distinct().ToArray();
            if (type == "repository" && actions.Length > 0)
            {
                granted.Add((type, name, actions));
            }
        }

        var issuedAt = DateTimeOffset.UtcNow;
        var token = CreateJwt(user ?? "", granted, issuedAt);
        Interlocked.Increment(ref _tokensIssued);

        string? refreshToken = null;
        if (offline && user is not null)
        {
            refreshToken = "refresh-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            _refreshTokens[refreshToken] = user;
        }

        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (!useOAuthShape)
            {
                writer.WriteString("token", token);
            }

            writer.WriteString("access_token", token);
            writer.WriteNumber("expires_in", (int)TokenLifetime.TotalSeconds);
            writer.WriteString("issued_at", issuedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            if (useOAuthShape)
            {
                writer.WriteString("scope", string.Join(' ', scopes));
            }

            if (refreshToken is not null)
            {
                writer.WriteString("refresh_token", refreshToken);
            }

            writer.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
    }

    private string CreateJwt(string subject, List<(string Type, string Name, string[] Actions)> access, DateTimeOffset issuedAt)
    {
        var header = Serialize(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("typ", "JWT");
            writer.WriteString("alg", "RS256");
            writer.WriteStartArray("x5c");
            writer.WriteStringValue(Convert.ToBase64String(_certificate.RawData));
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
        var claims = Serialize(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("iss", Issuer);
            writer.WriteString("sub", subject);
            writer.WriteString("aud", Service);
            writer.WriteNumber("exp", issuedAt.Add(TokenLifetime).ToUnixTimeSeconds());
            // A minute of slack so a registry clock read a moment earlier still accepts the token.
            writer.WriteNumber("nbf", issuedAt.AddMinutes(-1).ToUnixTimeSeconds());
            writer.WriteNumber("iat", issuedAt.ToUnixTimeSeconds());
            writer.WriteString("jti", Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant());
            writer.WriteStartArray("access");
            foreach (var (type, name, actions) in access)
            {
                writer.WriteStartObject();
                writer.WriteString("type", type);
                writer.WriteString("name", name);
                writer.WriteStartArray("actions");
                foreach (var action in actions)
                {
                    writer.WriteStringValue(action);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
        var signingInput = Base64Url(header) + "." + Base64Url(claims);
        var signature = _signingKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private string? AuthenticateBasic(string authorization)
    {
        const string prefix = "Basic ";
        if (!authorization.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[prefix.Length..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : Authenticate(decoded[..colon], decoded[(colon + 1)..]);
    }

    private string? Authenticate(string user, string password) =>
        _users.TryGetValue(user, out var entry) && entry.Password == password ? user : null;

    private static async Task WriteErrorAsync(HttpContext context, HttpStatusCode status, string message)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        var body = Serialize(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteEndObject();
        });
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static byte[] Serialize(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    private static string Base64Url(byte[] data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
