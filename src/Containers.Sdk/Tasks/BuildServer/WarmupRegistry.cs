using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Containers.Oci.Digests;

namespace Containers.Sdk.Tasks.BuildServer;

/// <summary>
/// A registry in memory on a loopback port, for the build server's warm-up only: just enough of the OCI
/// distribution API (blobs, chunked and monolithic uploads, cross-repository mounts, manifests by tag and
/// digest; no referrers API, so the fallback tag is used) for a push and a pull to take the code paths a real
/// registry makes them take. Never used for anything else; it holds only the warm-up's tiny image.
/// </summary>
internal sealed class WarmupRegistry : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (byte[] Content, string MediaType)> _manifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MemoryStream> _uploads = new(StringComparer.Ordinal);
    private readonly Task _serving;

    private WarmupRegistry(int port)
    {
        // By name, as registries usually are: the name resolution gets warm too.
        Host = "localhost:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _listener.Prefixes.Add($"http://{Host}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>host:port of the registry.</summary>
    public string Host { get; }

    /// <summary>Starts a registry on a free loopback port.</summary>
    public static WarmupRegistry Start()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new WarmupRegistry(port);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _serving.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                await AnswerAsync(context.Request, context.Response).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpListenerException or IOException)
            {
                // The client went away: the warm-up only loses some warmth.
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private async Task AnswerAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        var path = request.Url!.AbsolutePath;
        var method = request.HttpMethod;
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
        response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";

        if (path is "/v2/" or "/v2")
        {
            await WriteAsync(response, 200, "application/json", "{}"u8.ToArray(), method).ConfigureAwait(false);
            return;
        }

        if (Split(path, "/blobs/uploads/") is { } upload)
        {
            var (repository, id) = upload;
            var digest = request.QueryString["digest"];
            if (method == "POST" && request.QueryString["mount"] is { } mount && _blobs.ContainsKey(mount))
            {
                response.Headers["Location"] = $"/v2/{repository}/blobs/{mount}";
                response.Headers["Docker-Content-Digest"] = mount;
                await WriteAsync(response, 201, null, [], method).ConfigureAwait(false);
                return;
            }

            if (method == "POST")
            {
                if (digest is not null)
                {
                    await StoreBlobAsync(response, repository, digest, body.ToArray(), method).ConfigureAwait(false);
                    return;
                }

                var session = Guid.NewGuid().ToString("N");
                _uploads[session] = new MemoryStream();
                response.Headers["Location"] = $"/v2/{repository}/blobs/uploads/{session}";
                response.Headers["Range"] = "0-0";
                await WriteAsync(response, 202, null, [], method).ConfigureAwait(false);
                return;
            }

            if (!_uploads.TryGetValue(id, out var buffer))
            {
                await WriteAsync(response, 404, null, [], method).ConfigureAwait(false);
                return;
            }

            body.Position = 0;
            await body.CopyToAsync(buffer).ConfigureAwait(false);
            if (method == "PATCH")
            {
                response.Headers["Location"] = $"/v2/{repository}/blobs/uploads/{id}";
                response.Headers["Range"] = $"0-{Math.Max(0, buffer.Length - 1)}";
                await WriteAsync(response, 202, null, [], method).ConfigureAwait(false);
                return;
            }

            _uploads.TryRemove(id, out _);
            await StoreBlobAsync(response, repository, digest ?? "", buffer.ToArray(), method).ConfigureAwait(false);
            return;
        }

        if (Split(path, "/blobs/") is { } blob)
        {
            if (_blobs.TryGetValue(blob.Tail, out var content))
            {
                response.Headers["Docker-Content-Digest"] = blob.Tail;
                await WriteAsync(response, 200, "application/octet-stream", content, method).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(response, 404, "application/json", """{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"""u8.ToArray(), method).ConfigureAwait(false);
            }

            return;
        }

        if (Split(path, "/manifests/") is { } manifest)
        {
            var key = manifest.Repository + "@" + manifest.Tail;
            if (method == "PUT")
            {
                var content = body.ToArray();
                var digest = Digest.Compute(content).ToString();
                var stored = (content, request.ContentType ?? "application/vnd.oci.image.manifest.v1+json");
                _manifests[key] = stored;
                _manifests[manifest.Repository + "@" + digest] = stored;
                response.Headers["Docker-Content-Digest"] = digest;
                response.Headers["Location"] = $"/v2/{manifest.Repository}/manifests/{digest}";
                await WriteAsync(response, 201, null, [], method).ConfigureAwait(false);
            }
            else if (_manifests.TryGetValue(key, out var found))
            {
                response.Headers["Docker-Content-Digest"] = Digest.Compute(found.Content).ToString();
                await WriteAsync(response, 200, found.MediaType, found.Content, method).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(response, 404, "application/json", """{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"""u8.ToArray(), method).ConfigureAwait(false);
            }

            return;
        }

        // The referrers API and anything else: not here, as on distribution 2.8.
        await WriteAsync(response, 404, "application/json", """{"errors":[{"code":"UNSUPPORTED","message":"not supported"}]}"""u8.ToArray(), method).ConfigureAwait(false);
    }

    private async Task StoreBlobAsync(HttpListenerResponse response, string repository, string digest, byte[] content, string method)
    {
        var actual = Digest.Compute(content).ToString();
        if (!string.Equals(actual, digest, StringComparison.Ordinal))
        {
            await WriteAsync(response, 400, "application/json", """{"errors":[{"code":"DIGEST_INVALID","message":"digest invalid"}]}"""u8.ToArray(), method).ConfigureAwait(false);
            return;
        }

        _blobs[actual] = content;
        response.Headers["Location"] = $"/v2/{repository}/blobs/{actual}";
        response.Headers["Docker-Content-Digest"] = actual;
        await WriteAsync(response, 201, null, [], method).ConfigureAwait(false);
    }

    // "/v2/<repository><marker><rest>" -> (repository, rest).
    private static (string Repository, string Tail)? Split(string path, string marker)
    {
        var at = path.IndexOf(marker, StringComparison.Ordinal);
        return path.StartsWith("/v2/", StringComparison.Ordinal) && at > 4
            ? (path[4..at], path[(at + marker.Length)..])
            : null;
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string? contentType, byte[] content, string method)
    {
        response.StatusCode = status;
        if (contentType is not null)
        {
            response.ContentType = contentType;
        }

        response.ContentLength64 = content.Length;
        if (method != "HEAD" && content.Length > 0)
        {
            await response.OutputStream.WriteAsync(content).ConfigureAwait(false);
        }
    }
}
