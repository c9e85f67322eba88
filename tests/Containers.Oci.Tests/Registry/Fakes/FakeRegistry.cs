using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.Oci.Digests;
using Containers.Oci.Registry.Credentials;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Containers.Oci.Tests.Registry.Fakes;

/// <summary>How the fake registry authenticates.</summary>
public enum FakeAuth { None, Basic, Bearer }

/// <summary>One request as the fake registry saw it.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, string? ContentRange);

/// <summary>
/// A fault: for matching requests (after letting <see cref="Skip"/> of them through), <see cref="Times"/>
/// times, run <see cref="Action"/> instead of the normal handler.
/// </summary>
public sealed class FaultRule
{
    public required Func<HttpRequest, bool> When { get; init; }

    public required Func<HttpContext, Task> Action { get; init; }

    public int Skip { get; set; }

    public int Times { get; set; } = 1;

    public int Applied;

    public static Func<HttpContext, Task> Status(int status, string? retryAfter = null) => async context =>
    {
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}""");
    };

    /// <summary>Reads part of the request body, then drops the connection.</summary>
    public static Func<HttpContext, Task> AbortMidBody(int bytesToRead = 100) => async context =>
    {
        var buffer = new byte[bytesToRead];
        try
        {
            await context.Request.Body.ReadAtLeastAsync(buffer, bytesToRead, throwOnEndOfStream: false);
        }
        catch (IOException)
        {
        }

        context.Abort();
    };

    /// <summary>Never answers (until the client gives up).</summary>
    public static Func<HttpContext, Task> Hang => async context =>
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    };

    public static Func<HttpRequest, bool> Matching(string method, string pathFragment) =>
        request => string.Equals(request.Method, method, StringComparison.OrdinalIgnoreCase)
            && (request.Path.Value ?? string.Empty).Contains(pathFragment, StringComparison.Ordinal);
}

/// <summary>
/// An in-process, in-memory implementation of enough of the OCI distribution API (ping, blobs, uploads
/// with PATCH/Content-Range, mount, manifests, tags with pagination) to push and pull images, with
/// injectable faults, Basic or Bearer auth (with its own token endpoint), corrupt blobs, and blob
/// downloads redirected to a second "storage" server that refuses requests carrying Authorization.
/// </summary>
public sealed partial class FakeRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private WebApplication? _storage;
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _repositoryBlobs = new();
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string MediaType)> _manifests = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _tags = new();
    private readonly ConcurrentDictionary<string, (string Repository, MemoryStream Data)> _uploads = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<string> _tokenScopes = new();
    private int _tokensIssued;
    private int _storageAuthorizationViolations;
    private int _storageRequests;

    private FakeRegistry(WebApplication app) => _app = app;

    public string Host { get; private set; } = string.Empty;

    public FakeAuth Auth { get; init; }

    public string Username { get; init; } = "fake-user";

    public string Password { get; init; } = "fake-secret-password";

    /// <summary>Lifetime of issued Bearer tokens.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public List<FaultRule> Faults { get; } = [];

    /// <summary>Blobs served with different bytes than stored (digest mismatch).</summary>
    public ConcurrentDictionary<string, bool> CorruptBlobs { get; } = new();

    /// <summary>When set, blob GETs answer 307 to the storage server.</summary>
    public bool RedirectBlobsToStorage { get; set; }

    /// <summary>Page size of tag lists (Link header pagination).</summary>
    public int TagPageSize { get; set; } = 100;

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public int TokensIssued => _tokensIssued;

    public IReadOnlyList<string> TokenScopes => _tokenScopes.ToArray();

    public int StorageRequests => _storageRequests;

    public int StorageAuthorizationViolations => _storageAuthorizationViolations;

    public RegistryCredential Credential => new() { Username = Username, Password = Password, Source = "fake registry test credentials" };

    public static async Task<FakeRegistry> StartAsync(FakeAuth auth = FakeAuth.None, bool withStorage = false)
    {
        var app = CreateApp();
        var registry = new FakeRegistry(app) { Auth = auth };
        app.Run(registry.HandleAsync);
        await app.StartAsync();
        registry.Host = AddressOf(app);
        if (withStorage)
        {
            registry._storage = CreateApp();
            registry._storage.Run(registry.HandleStorageAsync);
            await registry._storage.StartAsync();
        }

        return registry;
    }

    private static WebApplication CreateApp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0);
            options.Limits.MaxRequestBodySize = null;
        });
        return builder.Build();
    }

    private static string AddressOf(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Authority;

    public bool HasTag(string repository, string tag) => _tags.TryGetValue(repository, out var tags) && tags.ContainsKey(tag);

    public bool HasBlob(string repository, string digest) => _repositoryBlobs.TryGetValue(repository, out var blobs) && blobs.ContainsKey(digest);

    public bool HasManifest(string digest) => _manifests.ContainsKey(digest);

    public void PutBlob(string repository, byte[] content)
    {
        var digest = Digest.Compute(content).ToString();
        _blobs[digest] = content;
        _repositoryBlobs.GetOrAdd(repository, _ => new()).TryAdd(digest, true);
    }

    public int CountRequests(string method, string pathFragment) =>
        _requests.Count(r => r.Method == method && r.Path.Contains(pathFragment, StringComparison.Ordinal));

    [GeneratedRegex("^/v2/(?<name>.+?)/(?:(?<uploads>blobs/uploads)/(?<upload>[^/]*)|blobs/(?<digest>[^/]+)|manifests/(?<reference>[^/]+)|(?<tags>tags/list))$")]
    private static partial Regex RoutePattern();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? string.Empty;
        _requests.Enqueue(new RecordedRequest(request.Method, path, request.QueryString.Value ?? string.Empty, request.Headers.Authorization.FirstOrDefault(), request.Headers["Content-Range"].FirstOrDefault()));

        if (path == "/token")
        {
            await IssueTokenAsync(context);
            return;
        }

        foreach (var fault in Faults)
        {
            if (!fault.When(request))
            {
                continue;
            }

            lock (fault)
            {
                if (fault.Skip > 0)
                {
                    fault.Skip--;
                    continue;
                }

                if (fault.Times <= 0)
                {
                    continue;
                }

                fault.Times--;
                fault.Applied++;
            }

            await fault.Action(context);
            return;
        }

        if (!IsAuthorized(request))
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = Auth == FakeAuth.Basic
                ? "Basic realm=\"fake registry\""
                : $"Bearer realm=\"http://{Host}/token\",service=\"fake-registry\",scope=\"repository:x:pull\"";
            await WriteErrorAsync(context, 401, "UNAUTHORIZED", "authentication required");
            return;
        }

        if (path is "/v2/" or "/v2")
        {
            context.Response.StatusCode = 200;
            return;
        }

        var match = RoutePattern().Match(path);
        if (!match.Success)
        {
            await WriteErrorAsync(context, 404, "NOT_FOUND", "no such route");
            return;
        }

        var name = match.Groups["name"].Value;
        if (match.Groups["uploads"].Success)
        {
            await HandleUploadAsync(context, name, match.Groups["upload"].Value);
        }
        else if (match.Groups["digest"].Success)
        {
            await HandleBlobAsync(context, name, match.Groups["digest"].Value);
        }
        else if (match.Groups["reference"].Success)
        {
            await HandleManifestAsync(context, name, match.Groups["reference"].Value);
        }
        else
        {
            await HandleTagsAsync(context, name);
        }
    }

    private bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.FirstOrDefault();
        switch (Auth)
        {
            case FakeAuth.None:
                return true;
            case FakeAuth.Basic:
                return header == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Username + ":" + Password));
            default:
                return header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal)
                    && _tokens.TryGetValue(header["Bearer ".Length..], out var expiry) && expiry > DateTimeOffset.UtcNow;
        }
    }

    private async Task IssueTokenAsync(HttpContext context)
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Username + ":" + Password));
        if (context.Request.Headers.Authorization.FirstOrDefault() != expected)
        {
            await WriteErrorAsync(context, 401, "UNAUTHORIZED", "bad credentials");
            return;
        }

        foreach (var scope in context.Request.Query["scope"])
        {
            _tokenScopes.Enqueue(scope!);
        }

        var token = Guid.NewGuid().ToString("N");
        _tokens[token] = DateTimeOffset.UtcNow + TokenLifetime;
        Interlocked.Increment(ref _tokensIssued);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object> { ["token"] = token, ["expires_in"] = (int)Math.Ceiling(TokenLifetime.TotalSeconds) }));
    }

    private async Task HandleUploadAsync(HttpContext context, string name, string uploadId)
    {
        var request = context.Request;
        var response = context.Response;
        if (request.Method == "POST" && uploadId.Length == 0)
        {
            string? mount = request.Query["mount"];
            string? from = request.Query["from"];
            if (mount is not null && from is not null && HasBlob(from, mount))
            {
                _repositoryBlobs.GetOrAdd(name, _ => new()).TryAdd(mount, true);
                response.StatusCode = 201;
                response.Headers.Location = $"/v2/{name}/blobs/{mount}";
                response.Headers["Docker-Content-Digest"] = mount;
                return;
            }

            var id = Guid.NewGuid().ToString("N");
            _uploads[id] = (name, new MemoryStream());
            response.StatusCode = 202;
            response.Headers.Location = $"/v2/{name}/blobs/uploads/{id}?_state=s{id[..6]}";
            response.Headers.Range = "0-0";
            return;
        }

        if (!_uploads.TryGetValue(uploadId, out var upload) || upload.Repository != name)
        {
            await WriteErrorAsync(context, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown");
            return;
        }

        if (request.Method == "PATCH")
        {
            var range = request.Headers["Content-Range"].FirstOrDefault();
            if (range is not null)
            {
                var start = long.Parse(range.Split('-')[0]);
                if (start != upload.Data.Length)
                {
                    await WriteErrorAsync(context, 416, "BLOB_UPLOAD_INVALID", "range mismatch");
                    return;
                }
            }

            await request.Body.CopyToAsync(upload.Data, context.RequestAborted);
            response.StatusCode = 202;
            response.Headers.Location = $"/v2/{name}/blobs/uploads/{uploadId}?_state=p{upload.Data.Length}";
            response.Headers.Range = $"0-{upload.Data.Length - 1}";
            return;
        }

        if (request.Method == "PUT")
        {
            await request.Body.CopyToAsync(upload.Data, context.RequestAborted);
            string? digest = request.Query["digest"];
            var bytes = upload.Data.ToArray();
            var actual = Digest.Compute(bytes).ToString();
            if (digest != actual)
            {
                await WriteErrorAsync(context, 400, "DIGEST_INVALID", $"provided digest did not match uploaded content ({actual})");
                return;
            }

            _uploads.TryRemove(uploadId, out _);
            PutBlob(name, bytes);
            response.StatusCode = 201;
            response.Headers.Location = $"/v2/{name}/blobs/{digest}";
            response.Headers["Docker-Content-Digest"] = digest;
            return;
        }

        await WriteErrorAsync(context, 405, "UNSUPPORTED", "method not allowed");
    }

    private async Task HandleBlobAsync(HttpContext context, string name, string digest)
    {
        if (!HasBlob(name, digest) || !_blobs.TryGetValue(digest, out var content))
        {
            if (context.Request.Method == "HEAD")
            {
                context.Response.StatusCode = 404;
                return;
            }

            await WriteErrorAsync(context, 404, "BLOB_UNKNOWN", "blob unknown to registry");
            return;
        }

        context.Response.Headers["Docker-Content-Digest"] = digest;
        if (context.Request.Method == "GET" && RedirectBlobsToStorage && _storage is not null)
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"http://{AddressOf(_storage)}/storage/{digest}?signature=fake";
            return;
        }

        await ServeBlobAsync(context, digest, content);
    }

    private async Task ServeBlobAsync(HttpContext context, string digest, byte[] content)
    {
        if (CorruptBlobs.ContainsKey(digest))
        {
            content = (byte[])content.Clone();
            content[content.Length / 2] ^= 0xFF;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = content.Length;
        if (context.Request.Method == "GET")
        {
            await context.Response.Body.WriteAsync(content, context.RequestAborted);
        }
    }

    private async Task HandleStorageAsync(HttpContext context)
    {
        Interlocked.Increment(ref _storageRequests);
        if (context.Request.Headers.Authorization.Count > 0)
        {
            Interlocked.Increment(ref _storageAuthorizationViolations);
            await WriteErrorAsync(context, 400, "AUTHORIZATION_LEAKED", "storage must not receive the registry's Authorization header");
            return;
        }

        var digest = (context.Request.Path.Value ?? string.Empty).Replace("/storage/", string.Empty, StringComparison.Ordinal);
        if (!_blobs.TryGetValue(digest, out var content))
        {
            context.Response.StatusCode = 404;
            return;
        }

        await ServeBlobAsync(context, digest, content);
    }

    private async Task HandleManifestAsync(HttpContext context, string name, string reference)
    {
        var request = context.Request;
        if (request.Method == "PUT")
        {
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body, context.RequestAborted);
            var bytes = body.ToArray();
            var digest = Digest.Compute(bytes).ToString();
            if (reference.StartsWith("sha256:", StringComparison.Ordinal) && reference != digest)
            {
                await WriteErrorAsync(context, 400, "DIGEST_INVALID", "manifest digest did not match");
                return;
            }

            // Like the real registry: every referenced blob must be present in this repository.
            using var document = JsonDocument.Parse(bytes);
            var referenced = new List<string>();
            if (document.RootElement.TryGetProperty("config", out var config))
            {
                referenced.Add(config.GetProperty("digest").GetString()!);
            }

            if (document.RootElement.TryGetProperty("layers", out var layers))
            {
                referenced.AddRange(layers.EnumerateArray().Select(l => l.GetProperty("digest").GetString()!));
            }

            if (document.RootElement.TryGetProperty("manifests", out var manifests))
            {
                foreach (var m in manifests.EnumerateArray().Select(m => m.GetProperty("digest").GetString()!))
                {
                    if (!_manifests.ContainsKey(m))
                    {
                        await WriteErrorAsync(context, 400, "MANIFEST_UNKNOWN", $"manifest {m} unknown");
                        return;
                    }
                }
            }

            var missing = referenced.FirstOrDefault(d => !HasBlob(name, d));
            if (missing is not null)
            {
                await WriteErrorAsync(context, 400, "MANIFEST_BLOB_UNKNOWN", $"blob unknown to registry: {missing}");
                return;
            }

            _manifests[digest] = (bytes, request.ContentType ?? "application/vnd.oci.image.manifest.v1+json");
            _repositoryBlobs.GetOrAdd(name, _ => new()).TryAdd(digest, true);
            if (!reference.StartsWith("sha256:", StringComparison.Ordinal))
            {
                _tags.GetOrAdd(name, _ => new())[reference] = digest;
            }

            context.Response.StatusCode = 201;
            context.Response.Headers["Docker-Content-Digest"] = digest;
            context.Response.Headers.Location = $"/v2/{name}/manifests/{digest}";
            return;
        }

        var resolved = reference;
        if (!reference.StartsWith("sha256:", StringComparison.Ordinal))
        {
            if (!_tags.TryGetValue(name, out var tags) || !tags.TryGetValue(reference, out resolved!))
            {
                await WriteNotFoundAsync(context, _tags.ContainsKey(name) || _repositoryBlobs.ContainsKey(name) ? "MANIFEST_UNKNOWN" : "NAME_UNKNOWN");
                return;
            }
        }

        if (!HasBlob(name, resolved) || !_manifests.TryGetValue(resolved, out var manifest))
        {
            await WriteNotFoundAsync(context, _repositoryBlobs.ContainsKey(name) ? "MANIFEST_UNKNOWN" : "NAME_UNKNOWN");
            return;
        }

        var content = manifest.Bytes;
        if (CorruptBlobs.ContainsKey(resolved))
        {
            content = (byte[])content.Clone();
            content[^2] = (byte)' ';
        }

        context.Response.ContentType = manifest.MediaType;
        context.Response.Headers["Docker-Content-Digest"] = resolved;
        context.Response.ContentLength = content.Length;
        if (request.Method == "GET")
        {
            await context.Response.Body.WriteAsync(content, context.RequestAborted);
        }
    }

    private async Task WriteNotFoundAsync(HttpContext context, string code)
    {
        if (context.Request.Method == "HEAD")
        {
            context.Response.StatusCode = 404;
            return;
        }

        await WriteErrorAsync(context, 404, code, code == "NAME_UNKNOWN" ? "repository name not known to registry" : "manifest unknown");
    }

    private async Task HandleTagsAsync(HttpContext context, string name)
    {
        if (!_tags.TryGetValue(name, out var tags))
        {
            await WriteErrorAsync(context, 404, "NAME_UNKNOWN", "repository name not known to registry");
            return;
        }

        var all = tags.Keys.Order(StringComparer.Ordinal).ToList();
        string? last = context.Request.Query["last"];
        var page = all.Where(t => last is null || string.CompareOrdinal(t, last) > 0).Take(TagPageSize).ToList();
        if (page.Count == TagPageSize && all.IndexOf(page[^1]) < all.Count - 1)
        {
            context.Response.Headers.Link = $"</v2/{name}/tags/list?n={TagPageSize}&last={page[^1]}>; rel=\"next\"";
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { name, tags = page }));
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (context.Request.Method != "HEAD")
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { errors = new[] { new { code, message } } }));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_storage is not null)
        {
            await _storage.StopAsync();
            await _storage.DisposeAsync();
        }
    }
}
