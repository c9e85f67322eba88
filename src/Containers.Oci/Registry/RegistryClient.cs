using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Json;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.References;

namespace Containers.Oci.Registry;

/// <summary>
/// A client for the OCI distribution API: pull images and indexes (verifying every digest), push them
/// (blobs first, concurrently, skipping and mounting what the registry already has; tags last), list tags.
/// </summary>
/// <example>
/// <code>
/// using var client = new RegistryClient(new RegistryClientOptions { CredentialProvider = credentials });
/// IImage baseImage = await client.GetImageAsync("localhost:5000", "dotnet/runtime", "10.0", Platform.LinuxAmd64, ct);
/// IImage app = Image.From(baseImage).AppendLayers(appLayer);
/// Digest pushed = await client.PushImageAsync(app, "localhost:5000", "myapp", ["1.0", "latest"], mountFrom: ["dotnet/runtime"], ct);
/// </code>
/// </example>
public sealed partial class RegistryClient : IDisposable
{
    /// <summary>The largest manifest or config accepted into memory (the distribution registry's own limit is 4 MiB).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    private const int MaxConfigBytes = 16 * 1024 * 1024;
    private const int MaxRedirects = 5;

    private readonly RegistryTransport _transport;

    /// <summary>Creates a client; dispose it to close its connections.</summary>
    public RegistryClient(RegistryClientOptions? options = null)
    {
        Options = options ?? new RegistryClientOptions();
        if (Options.ChunkSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.ChunkSize, "ChunkSize must be positive.");
        }

        _transport = new RegistryTransport(Options);
    }

    /// <summary>The options this client was created with.</summary>
    public RegistryClientOptions Options { get; }

    /// <summary>How many Bearer tokens this client has obtained from token services (they are cached and reused until shortly before expiry).</summary>
    public int TokensFetched => _transport.TokensFetched;

    // ---- manifests ----

    /// <summary>
    /// Fetches a manifest or index by tag or digest. The bytes are verified against the digest asked
    /// for and against the registry's Docker-Content-Digest header.
    /// </summary>
    /// <exception cref="RegistryNotFoundException">The repository or the tag/digest does not exist.</exception>
    /// <exception cref="DigestMismatchException">The registry returned content that does not hash to the digest.</exception>
    public Task<RegistryManifest> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken = default) =>
        GetManifestAsync(registry, RegistryScope.Pull(repository), reference, cancellationToken);

    private async Task<RegistryManifest> GetManifestAsync(string registry, RegistryScope scope, string reference, CancellationToken cancellationToken)
    {
        ValidateNames(registry, scope.Repository, reference);
        var repository = scope.Repository;
        using var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress => WithManifestAccept(new HttpRequestMessage(HttpMethod.Get, ManifestUri(baseAddress, repository, reference))),
            retryTransient: true,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw await NotFoundAsync(response, registry, repository, reference, cancellationToken).ConfigureAwait(false);
        }

        await EnsureSuccessAsync(response, registry, repository, $"fetching the manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        var bytes = await ReadLimitedAsync(response.Content, MaxManifestBytes, $"The manifest {registry}/{repository}:{reference}", cancellationToken).ConfigureAwait(false);
        var source = $"manifest {registry}/{repository}@{reference}";

        Digest digest;
        if (Digest.TryParse(reference, out var requested))
        {
            VerifyDigest(bytes, requested, source);
            digest = requested;
        }
        else
        {
            digest = Digest.Compute(bytes);
        }

        if (response.Headers.TryGetValues("Docker-Content-Digest", out var headerValues)
            && Digest.TryParse(headerValues.FirstOrDefault(), out var announced))
        {
            VerifyDigest(bytes, announced, source + " (Docker-Content-Digest)");
            if (announced.Algorithm == digest.Algorithm && announced != digest)
            {
                throw new DigestMismatchException(source, announced, digest);
            }
        }

        var mediaType = OciJson.DetectManifestMediaType(bytes, response.Content.Headers.ContentType?.MediaType, source);
        return new RegistryManifest(new Descriptor { MediaType = mediaType, Digest = digest, Size = bytes.Length }, bytes);
    }

    /// <summary>Checks whether a manifest exists; returns its descriptor (digest, size, media type) or null.</summary>
    public Task<Descriptor?> HeadManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken = default) =>
        HeadManifestAsync(registry, RegistryScope.Pull(repository), reference, cancellationToken);

    private async Task<Descriptor?> HeadManifestAsync(string registry, RegistryScope scope, string reference, CancellationToken cancellationToken)
    {
        ValidateNames(registry, scope.Repository, reference);
        using var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress => WithManifestAccept(new HttpRequestMessage(HttpMethod.Head, ManifestUri(baseAddress, scope.Repository, reference))),
            retryTransient: true,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, registry, scope.Repository, $"checking the manifest {scope.Repository}:{reference}", cancellationToken).ConfigureAwait(false);
        Digest digest;
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var announced))
        {
            digest = announced;
        }
        else if (Digest.TryParse(reference, out var requested))
        {
            digest = requested;
        }
        else
        {
            // Without the header a HEAD cannot tell the digest; fetch the manifest to compute it.
            return (await GetManifestAsync(registry, scope, reference, cancellationToken).ConfigureAwait(false)).Descriptor;
        }

        return new Descriptor
        {
            MediaType = response.Content.Headers.ContentType?.MediaType ?? MediaTypes.OciManifest,
            Digest = digest,
            Size = response.Content.Headers.ContentLength ?? -1,
        };
    }

    /// <summary>Uploads a manifest or index under a tag or its digest. Every blob it references must already be in the repository.</summary>
    public Task<Digest> PutManifestAsync(string registry, string repository, string reference, ReadOnlyMemory<byte> manifest, string mediaType, CancellationToken cancellationToken = default) =>
        PutManifestAsync(registry, RegistryScope.ForPush(repository, null), reference, manifest, mediaType, cancellationToken);

    private async Task<Digest> PutManifestAsync(string registry, RegistryScope scope, string reference, ReadOnlyMemory<byte> manifest, string mediaType, CancellationToken cancellationToken)
    {
        ValidateNames(registry, scope.Repository, reference);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        var digest = Digest.Compute(manifest.Span);
        using var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress =>
            {
                var content = new ReadOnlyMemoryContent(manifest);
                content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
                return new HttpRequestMessage(HttpMethod.Put, ManifestUri(baseAddress, scope.Repository, reference)) { Content = content };
            },
            retryTransient: true,
            cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, registry, scope.Repository, $"uploading the manifest {scope.Repository}:{reference}", cancellationToken).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values)
            && Digest.TryParse(values.FirstOrDefault(), out var stored)
            && stored.Algorithm == digest.Algorithm
            && stored != digest)
        {
            throw new DigestMismatchException($"The manifest stored as {registry}/{scope.Repository}:{reference}", digest, stored);
        }

        return digest;
    }

    // ---- blobs ----

    /// <summary>True when the repository has the blob.</summary>
    public Task<bool> BlobExistsAsync(string registry, string repository, Digest digest, CancellationToken cancellationToken = default) =>
        BlobExistsAsync(registry, RegistryScope.Pull(repository), digest, cancellationToken);

    private async Task<bool> BlobExistsAsync(string registry, RegistryScope scope, Digest digest, CancellationToken cancellationToken)
    {
        ValidateNames(registry, scope.Repository, digest);
        using var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress => new HttpRequestMessage(HttpMethod.Head, BlobUri(baseAddress, scope.Repository, digest)),
            retryTransient: true,
            cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        // A registry backed by object storage may answer a blob HEAD with a redirect: the blob exists.
        if (status is >= 200 and < 400)
        {
            return true;
        }

        await EnsureSuccessAsync(response, registry, scope.Repository, $"checking the blob {digest}", cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// Opens a blob for reading. The stream verifies the content while it is read and throws
    /// <see cref="DigestMismatchException"/> at its end if the bytes do not hash to the descriptor's digest.
    /// Redirects are followed without sending credentials to other hosts.
    /// </summary>
    public Task<Stream> OpenBlobAsync(string registry, string repository, Descriptor descriptor, CancellationToken cancellationToken = default) =>
        OpenBlobAsync(registry, RegistryScope.Pull(repository), descriptor, cancellationToken);

    private async Task<Stream> OpenBlobAsync(string registry, RegistryScope scope, Descriptor descriptor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ValidateNames(registry, scope.Repository, descriptor.Digest);
        var response = await _transport.RetryAsync(
            registry,
            scope.Repository,
            _ => GetFollowingRedirectsAsync(registry, scope, descriptor.Digest, cancellationToken),
            cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw await NotFoundAsync(response, registry, scope.Repository, descriptor.Digest, cancellationToken).ConfigureAwait(false);
            }

            await EnsureSuccessAsync(response, registry, scope.Repository, $"downloading the blob {descriptor.Digest}", cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var progress = Options.Progress;
            return new VerifyingReadStream(
                body,
                descriptor.Digest,
                descriptor.Size,
                $"The blob {registry}/{scope.Repository}@{descriptor.Digest}",
                owner: response,
                progress: progress is null ? null : read => progress.Report(new TransferProgress(registry, scope.Repository, descriptor.Digest, TransferOperation.Pulled, read, descriptor.Size)));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(string registry, RegistryScope scope, Digest digest, CancellationToken cancellationToken)
    {
        var response = await _transport.SendAsync(
            registry,
            scope,
            baseAddress => new HttpRequestMessage(HttpMethod.Get, BlobUri(baseAddress, scope.Repository, digest)),
            retryTransient: false,
            cancellationToken).ConfigureAwait(false);
        var registryAuthority = _transport.BaseAddress(registry).GetLeftPart(UriPartial.Authority);
        for (var hop = 0; IsRedirect(response.StatusCode); hop++)
        {
            var from = response.RequestMessage?.RequestUri ?? _transport.BaseAddress(registry);
            var location = response.Headers.Location;
            response.Dispose();
            if (location is null || hop >= MaxRedirects)
            {
                throw new RegistryException(
                    $"Registry {registry} redirected the download of blob {digest} {(location is null ? "without a Location header" : $"more than {MaxRedirects} times")}.",
                    registry,
                    scope.Repository,
                    null);
            }

            var target = location.IsAbsoluteUri ? location : new Uri(from, location);
            if (string.Equals(target.GetLeftPart(UriPartial.Authority), registryAuthority, StringComparison.OrdinalIgnoreCase))
            {
                response = await _transport.SendAsync(registry, scope, _ => new HttpRequestMessage(HttpMethod.Get, target), retryTransient: false, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Storage (S3, a CDN) authenticates through the signed URL; the registry's credentials must not leak to it.
                response = await _transport.SendAnonymousAsync(registry, new HttpRequestMessage(HttpMethod.Get, target), cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private async Task<byte[]> GetBlobBytesAsync(string registry, RegistryScope scope, Descriptor descriptor, int limit, CancellationToken cancellationToken)
    {
        if (descriptor.Size > limit)
        {
            throw new OciException($"The blob {registry}/{scope.Repository}@{descriptor.Digest} is {descriptor.Size} bytes; at most {limit} are accepted for a config.");
        }

        var stream = await OpenBlobAsync(registry, scope, descriptor, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new MemoryStream(descriptor.Size > 0 ? (int)descriptor.Size : 0);
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    /// <summary>
    /// Makes sure the repository has a blob: skips it when present, else mounts it from one of
    /// <paramref name="mountFrom"/> (repositories on the same registry), else uploads it (in chunks when
    /// larger than <see cref="RegistryClientOptions.ChunkedUploadThreshold"/>). Returns what was done.
    /// </summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="repository">The target repository.</param>
    /// <param name="descriptor">The blob's digest and size.</param>
    /// <param name="openContent">Opens the blob's bytes; called again when an upload is retried.</param>
    /// <param name="mountFrom">Repositories that may already have the blob.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    public Task<TransferOperation> PushBlobAsync(string registry, string repository, Descriptor descriptor, Func<CancellationToken, Task<Stream>> openContent, IEnumerable<string>? mountFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(openContent);
        return PushBlobAsync(registry, RegistryScope.ForPush(repository, mountFrom), descriptor, openContent, cancellationToken);
    }

    private Task<TransferOperation> PushBlobAsync(string registry, RegistryScope scope, Descriptor descriptor, Func<CancellationToken, Task<Stream>> openContent, CancellationToken cancellationToken)
    {
        ValidateNames(registry, scope.Repository, descriptor.Digest);

        // Each retry starts a new upload session: a half-sent PATCH cannot be resumed portably.
        return _transport.RetryAsync(
            registry,
            scope.Repository,
            _ => PushBlobOnceAsync(registry, scope, descriptor, openContent, cancellationToken),
            cancellationToken);
    }

    private async Task<TransferOperation> PushBlobOnceAsync(string registry, RegistryScope scope, Descriptor descriptor, Func<CancellationToken, Task<Stream>> openContent, CancellationToken cancellationToken)
    {
        var repository = scope.Repository;
        var digest = descriptor.Digest;
        if (await BlobExistsAsync(registry, scope, digest, cancellationToken).ConfigureAwait(false))
        {
            Report(registry, repository, digest, TransferOperation.SkippedExisting, descriptor.Size, descriptor.Size);
            return TransferOperation.SkippedExisting;
        }

        Uri? location = null;
        foreach (var source in scope.MountFrom)
        {
            using var mount = await _transport.SendAsync(
                registry,
                scope,
                baseAddress => new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, $"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(source)}")),
                retryTransient: false,
                cancellationToken).ConfigureAwait(false);
            if (mount.StatusCode == HttpStatusCode.Created)
            {
                Report(registry, repository, digest, TransferOperation.Mounted, descriptor.Size, descriptor.Size);
                return TransferOperation.Mounted;
            }

            if (mount.StatusCode == HttpStatusCode.Accepted)
            {
                // Not mounted; the registry opened an ordinary upload session instead.
                location = UploadLocation(mount, registry, repository);
            }
        }

        if (location is null)
        {
            using var start = await _transport.SendAsync(
                registry,
                scope,
                baseAddress => new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, $"v2/{repository}/blobs/uploads/")),
                retryTransient: false,
                cancellationToken).ConfigureAwait(false);
            await EnsureUploadStatusAsync(start, HttpStatusCode.Accepted, registry, repository, digest, "starting the upload", cancellationToken).ConfigureAwait(false);
            location = UploadLocation(start, registry, repository);
        }

        Action<long> progress = sent => Report(registry, repository, digest, TransferOperation.Pushed, sent, descriptor.Size);
        if (descriptor.Size <= Options.ChunkedUploadThreshold)
        {
            var target = WithQuery(location, "digest=" + Uri.EscapeDataString(digest));
            using var put = await _transport.SendAsync(
                registry,
                scope,
                _ => new HttpRequestMessage(HttpMethod.Put, target) { Content = new BlobUploadContent(openContent, descriptor.Size, progress) },
                retryTransient: false,
                cancellationToken).ConfigureAwait(false);
            await EnsureUploadStatusAsync(put, HttpStatusCode.Created, registry, repository, digest, "uploading", cancellationToken).ConfigureAwait(false);
            return TransferOperation.Pushed;
        }

        var content = await openContent(cancellationToken).ConfigureAwait(false);
        await using (content.ConfigureAwait(false))
        {
            var buffer = new byte[(int)Math.Min(Options.ChunkSize, Math.Max(descriptor.Size, 1))];
            long offset = 0;
            while (true)
            {
                var filled = await FillAsync(content, buffer, cancellationToken).ConfigureAwait(false);
                if (filled == 0)
                {
                    break;
                }

                if (offset + filled > descriptor.Size)
                {
                    throw new OciException($"The blob {digest} being uploaded is longer than the {descriptor.Size} bytes its descriptor states; the layer's content changed since it was described.");
                }

                var chunkStart = offset;
                var chunkTarget = location;
                using var patch = await _transport.SendAsync(
                    registry,
                    scope,
                    _ =>
                    {
                        var chunk = BlobUploadContent.FromMemory(buffer.AsMemory(0, filled));
                        var request = new HttpRequestMessage(HttpMethod.Patch, chunkTarget) { Content = chunk };
                        request.Content.Headers.TryAddWithoutValidation("Content-Range", string.Create(CultureInfo.InvariantCulture, $"{chunkStart}-{chunkStart + filled - 1}"));
                        return request;
                    },
                    retryTransient: false,
                    cancellationToken).ConfigureAwait(false);
                await EnsureUploadStatusAsync(patch, HttpStatusCode.Accepted, registry, repository, digest, "uploading a chunk", cancellationToken).ConfigureAwait(false);
                location = UploadLocation(patch, registry, repository);
                offset += filled;
                progress(offset);
            }

            if (offset != descriptor.Size)
            {
                throw new OciException($"The blob {digest} being uploaded has {offset} bytes but its descriptor states {descriptor.Size}; the layer's content changed since it was described.");
            }
        }

        var finish = WithQuery(location, "digest=" + Uri.EscapeDataString(digest));
        using var close = await _transport.SendAsync(
            registry,
            scope,
            _ => new HttpRequestMessage(HttpMethod.Put, finish) { Content = new ByteArrayContent([]) },
            retryTransient: false,
            cancellationToken).ConfigureAwait(false);
        await EnsureUploadStatusAsync(close, HttpStatusCode.Created, registry, repository, digest, "completing the chunked upload", cancellationToken).ConfigureAwait(false);
        return TransferOperation.Pushed;
    }

    /// <summary>
    /// Starts an upload to <paramref name="repository"/> whose digest is given only when it is complete: write the
    /// blob's bytes to the returned stream as they are produced (they go up in chunks meanwhile), then call
    /// <see cref="BlobUploadStream.CompleteAsync"/> with the descriptor. Disposing it uncompleted cancels the upload.
    /// </summary>
    /// <exception cref="RegistryException">The registry refused to start an upload.</exception>
    public async Task<BlobUploadStream> StartBlobUploadAsync(string registry, string repository, CancellationToken cancellationToken = default)
    {
        ValidateNames(registry, repository, "upload");
        var scope = RegistryScope.ForPush(repository, null);
        using var start = await _transport.SendAsync(
            registry,
            scope,
            baseAddress => new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, $"v2/{repository}/blobs/uploads/")),
            retryTransient: true,
            cancellationToken).ConfigureAwait(false);
        await EnsureUploadStatusAsync(start, HttpStatusCode.Accepted, registry, repository, "a streamed blob", "starting the upload", cancellationToken).ConfigureAwait(false);
        return new BlobUploadStream(this, registry, scope, UploadLocation(start, registry, repository));
    }

    internal Task<Uri> PatchStreamedUploadAsync(string registry, RegistryScope scope, Uri location, ReadOnlyMemory<byte> chunk, long offset, CancellationToken cancellationToken) =>
        WithoutRetryAsync(registry, scope, () => PatchStreamedUploadOnceAsync(registry, scope, location, chunk, offset, cancellationToken));

    private async Task<Uri> PatchStreamedUploadOnceAsync(string registry, RegistryScope scope, Uri location, ReadOnlyMemory<byte> chunk, long offset, CancellationToken cancellationToken)
    {
        using var patch = await _transport.SendAsync(
            registry,
            scope,
            _ =>
            {
                var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = BlobUploadContent.FromMemory(chunk) };
                request.Content.Headers.TryAddWithoutValidation("Content-Range", BlobUploadStream.ContentRange(offset, chunk.Length));
                return request;
            },
            retryTransient: false,
            cancellationToken).ConfigureAwait(false);
        await EnsureUploadStatusAsync(patch, HttpStatusCode.Accepted, registry, scope.Repository, "a streamed blob", "uploading a chunk of", cancellationToken).ConfigureAwait(false);
        return UploadLocation(patch, registry, scope.Repository);
    }

    internal Task CompleteStreamedUploadAsync(string registry, RegistryScope scope, Uri location, ReadOnlyMemory<byte> lastChunk, long offset, Descriptor descriptor, CancellationToken cancellationToken) =>
        WithoutRetryAsync(registry, scope, async () =>
        {
            await CompleteStreamedUploadOnceAsync(registry, scope, location, lastChunk, offset, descriptor, cancellationToken).ConfigureAwait(false);
            return true;
        });

    // A streamed chunk cannot be sent again (its bytes are gone), so a transient failure is final at once.
    private static async Task<T> WithoutRetryAsync<T>(string registry, RegistryScope scope, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (TransientRegistryFailureException ex)
        {
            throw Transport.RetryPolicy.FinalException(ex, registry, scope.Repository, attempts: 1);
        }
    }

    private async Task CompleteStreamedUploadOnceAsync(string registry, RegistryScope scope, Uri location, ReadOnlyMemory<byte> lastChunk, long offset, Descriptor descriptor, CancellationToken cancellationToken)
    {
        var target = WithQuery(location, "digest=" + Uri.EscapeDataString(descriptor.Digest));
        using var close = await _transport.SendAsync(
            registry,
            scope,
            _ =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, target) { Content = BlobUploadContent.FromMemory(lastChunk) };
                if (!lastChunk.IsEmpty)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Range", BlobUploadStream.ContentRange(offset, lastChunk.Length));
                }

                return request;
            },
            retryTransient: false,
            cancellationToken).ConfigureAwait(false);
        await EnsureUploadStatusAsync(close, HttpStatusCode.Created, registry, scope.Repository, descriptor.Digest.ToString(), "completing the streamed upload of", cancellationToken).ConfigureAwait(false);
        Report(registry, scope.Repository, descriptor.Digest, TransferOperation.Pushed, descriptor.Size, descriptor.Size);
    }

    // Best effort: a session left open expires on the registry's own schedule.
    internal async Task CancelStreamedUploadAsync(string registry, RegistryScope scope, Uri location)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var delete = await _transport.SendAsync(registry, scope, _ => new HttpRequestMessage(HttpMethod.Delete, location), retryTransient: false, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OciException or HttpRequestException or OperationCanceledException or IOException)
        {
        }
    }

    private static async Task<int> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    private Uri UploadLocation(HttpResponseMessage response, string registry, string repository)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException($"Registry {registry} accepted an upload to {repository} but sent no Location header to continue it.", registry, repository, response.StatusCode);
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage?.RequestUri ?? _transport.BaseAddress(registry), location);
    }

    private static Uri WithQuery(Uri uri, string parameter)
    {
        var builder = new UriBuilder(uri);
        builder.Query = builder.Query.Length > 1 ? builder.Query[1..] + "&" + parameter : parameter;
        return builder.Uri;
    }

    private static Task EnsureUploadStatusAsync(HttpResponseMessage response, HttpStatusCode expected, string registry, string repository, Digest digest, string step, CancellationToken cancellationToken) =>
        EnsureUploadStatusAsync(response, expected, registry, repository, "blob " + digest, step, cancellationToken);

    private static async Task EnsureUploadStatusAsync(HttpResponseMessage response, HttpStatusCode expected, string registry, string repository, string blob, string step, CancellationToken cancellationToken)
    {
        if (response.StatusCode == expected)
        {
            return;
        }

        var errors = await RegistryTransport.ReadErrorsAsync(response, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound && errors.Any(e => e.Code == "BLOB_UPLOAD_UNKNOWN"))
        {
            // The session expired or was lost (a registry restart, a load balancer switching nodes): start over.
            throw new TransientRegistryFailureException($"the upload session for {blob} is gone (BLOB_UPLOAD_UNKNOWN)", response.StatusCode, null, errors, null);
        }

        if (errors.Any(e => e.Code == "DIGEST_INVALID"))
        {
            throw new RegistryException(
                $"Registry {registry} refused {blob} for {repository}: the uploaded bytes do not hash to that digest ({string.Join("; ", errors)}). The layer's content does not match its descriptor.",
                registry,
                repository,
                response.StatusCode,
                errors);
        }

        throw new RegistryException(
            $"Registry {registry} answered {(int)response.StatusCode} {response.StatusCode} while {step} {blob} to {repository}{FormatErrors(errors)}; expected {(int)expected} {expected}.",
            registry,
            repository,
            response.StatusCode,
            errors);
    }

    private void Report(string registry, string repository, Digest digest, TransferOperation operation, long done, long total) =>
        Options.Progress?.Report(new TransferProgress(registry, repository, digest, operation, done, total));

    // ---- images ----

    /// <summary>
    /// Pulls the single-platform image <paramref name="reference"/> names; from an index, the manifest
    /// for <paramref name="platform"/> is selected (when null, the index must list exactly one image).
    /// </summary>
    /// <exception cref="PlatformNotFoundException">The index has no image for the platform.</exception>
    public Task<IImage> GetImageAsync(ImageReference reference, Platform? platform, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return GetImageAsync(reference.Registry, reference.Repository, reference.Reference, platform, cancellationToken);
    }

    /// <summary>Pulls the multi-platform image <paramref name="reference"/> names.</summary>
    public Task<IImageIndex> GetIndexAsync(ImageReference reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return GetIndexAsync(reference.Registry, reference.Repository, reference.Reference, cancellationToken);
    }

    /// <summary>
    /// Pushes <paramref name="image"/> to <paramref name="destination"/>'s repository, tagged with its tag
    /// (if any) and <paramref name="additionalTags"/>. See <see cref="PushImageAsync(IImage, string, string, IEnumerable{string}?, IEnumerable{string}?, CancellationToken)"/>.
    /// </summary>
    public Task<Digest> PushImageAsync(IImage image, ImageReference destination, IEnumerable<string>? additionalTags = null, IEnumerable<string>? mountFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return PushImageAsync(image, destination.Registry, destination.Repository, TagsOf(destination, additionalTags), mountFrom, cancellationToken);
    }

    /// <summary>Pushes a multi-platform image to <paramref name="destination"/>'s repository, tagged with its tag and <paramref name="additionalTags"/>.</summary>
    public Task<Digest> PushIndexAsync(IImageIndex index, ImageReference destination, IEnumerable<string>? additionalTags = null, IEnumerable<string>? mountFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return PushIndexAsync(index, destination.Registry, destination.Repository, TagsOf(destination, additionalTags), mountFrom, cancellationToken);
    }

    private static IEnumerable<string> TagsOf(ImageReference destination, IEnumerable<string>? additionalTags) =>
        (destination.Tag is null ? [] : new[] { destination.Tag }).Concat(additionalTags ?? []).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Pulls a single-platform image: its manifest (selected for <paramref name="platform"/> when the
    /// reference names an index) and config, verified; the layers are fetched and verified when opened.
    /// </summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="repository">The repository.</param>
    /// <param name="reference">A tag or digest.</param>
    /// <param name="platform">The platform to pick from an index; when null, an index must list exactly one image.</param>
    /// <param name="cancellationToken">Cancels the pull.</param>
    public async Task<IImage> GetImageAsync(string registry, string repository, string reference, Platform? platform, CancellationToken cancellationToken = default)
    {
        var scope = RegistryScope.Pull(repository);
        var manifest = await GetManifestAsync(registry, scope, reference, cancellationToken).ConfigureAwait(false);
        if (MediaTypes.IsIndex(manifest.Descriptor.MediaType))
        {
            var index = OciJson.DeserializeIndex(manifest.Bytes.Span, $"index {registry}/{repository}:{reference}");
            var selected = SelectImage(index, platform, $"{registry}/{repository}:{reference}");
            manifest = await GetManifestAsync(registry, scope, selected.Digest, cancellationToken).ConfigureAwait(false);
            if (!MediaTypes.IsImageManifest(manifest.Descriptor.MediaType))
            {
                throw new OciException($"The index {registry}/{repository}:{reference} lists {selected.Digest} for {selected.Platform} but that is a {manifest.Descriptor.MediaType}, not an image manifest.");
            }

            return await LoadImageAsync(registry, scope, manifest, selected.Platform, cancellationToken).ConfigureAwait(false);
        }

        return await LoadImageAsync(registry, scope, manifest, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pulls a multi-platform image: the index and every image it lists (manifests and configs; layers lazily).</summary>
    /// <exception cref="OciException">The reference names a single-platform image, not an index.</exception>
    public async Task<IImageIndex> GetIndexAsync(string registry, string repository, string reference, CancellationToken cancellationToken = default)
    {
        var scope = RegistryScope.Pull(repository);
        var manifest = await GetManifestAsync(registry, scope, reference, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(manifest.Descriptor.MediaType))
        {
            throw new OciException($"{registry}/{repository}:{reference} is a single-platform image ({manifest.Descriptor.MediaType}), not an index; pull it as an image instead.");
        }

        var index = OciJson.DeserializeIndex(manifest.Bytes.Span, $"index {registry}/{repository}:{reference}");
        var images = new List<IImage>();
        foreach (var entry in index.Manifests)
        {
            if (!MediaTypes.IsImageManifest(entry.MediaType))
            {
                throw new OciException($"The index {registry}/{repository}:{reference} lists {entry.Digest} of type {entry.MediaType}; only image manifests are supported in an index.");
            }

            var imageManifest = await GetManifestAsync(registry, scope, entry.Digest, cancellationToken).ConfigureAwait(false);
            images.Add(await LoadImageAsync(registry, scope, imageManifest, entry.Platform, cancellationToken).ConfigureAwait(false));
        }

        return new RegistryImageIndex(manifest.Bytes, index, manifest.Descriptor, images);
    }

    private static Descriptor SelectImage(ImageIndex index, Platform? platform, string imageName)
    {
        if (platform is not null)
        {
            return PlatformMatching.SelectManifestOrThrow(index.Manifests, platform, imageName);
        }

        var images = index.Manifests.Where(m => MediaTypes.IsImageManifest(m.MediaType) && !PlatformMatching.IsAttestation(m)).ToArray();
        if (images.Length == 1)
        {
            return images[0];
        }

        throw new OciException(
            $"{imageName} is a multi-platform image ({string.Join(", ", images.Select(i => i.Platform?.ToString() ?? i.Digest.ToString()))}); say which platform to use.");
    }

    private async Task<IImage> LoadImageAsync(string registry, RegistryScope scope, RegistryManifest manifest, Platform? platform, CancellationToken cancellationToken)
    {
        var name = $"{registry}/{scope.Repository}@{manifest.Descriptor.Digest}";
        var parsed = OciJson.DeserializeManifest(manifest.Bytes.Span, "manifest " + name);
        var configBytes = await GetBlobBytesAsync(registry, scope, parsed.Config, MaxConfigBytes, cancellationToken).ConfigureAwait(false);
        var config = OciJson.DeserializeConfig(configBytes, "config of " + name);
        var diffIds = config.RootFs.DiffIds;
        if (diffIds.Count != parsed.Layers.Count)
        {
            throw new OciException($"The image {name} is inconsistent: its manifest lists {parsed.Layers.Count} layers but its config lists {diffIds.Count} diff ids.");
        }

        var layers = new ILayer[parsed.Layers.Count];
        for (var i = 0; i < layers.Length; i++)
        {
            var descriptor = parsed.Layers[i];
            layers[i] = new StoredLayer(descriptor, diffIds[i], ct => OpenBlobAsync(registry, scope, descriptor, ct));
        }

        return new RegistryImage(manifest.Bytes, parsed, manifest.Descriptor with { Platform = platform ?? config.Platform }, configBytes, config, layers);
    }

    /// <summary>
    /// Pushes an image: every blob (config and layers, concurrently within the per-registry bound) is
    /// skipped if present, mounted from <paramref name="mountFrom"/> if possible, else uploaded; only
    /// when all are in the repository is the manifest written, by digest and then under each tag.
    /// If anything fails, no tag is written. Returns the manifest digest.
    /// </summary>
    public async Task<Digest> PushImageAsync(IImage image, string registry, string repository, IEnumerable<string>? tags, IEnumerable<string>? mountFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var scope = RegistryScope.ForPush(repository, mountFrom);
        var tagList = (tags ?? []).ToArray();
        await PushImageContentAsync(image, registry, scope, cancellationToken).ConfigureAwait(false);
        foreach (var tag in tagList)
        {
            await PutManifestAsync(registry, scope, tag, image.ManifestBytes, image.ManifestDescriptor.MediaType, cancellationToken).ConfigureAwait(false);
        }

        return image.ManifestDescriptor.Digest;
    }

    /// <summary>
    /// Pushes a multi-platform image: each image by digest (blobs first, as for a single image), then the
    /// index by digest and under each tag.
    /// </summary>
    public async Task<Digest> PushIndexAsync(IImageIndex index, string registry, string repository, IEnumerable<string>? tags, IEnumerable<string>? mountFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        var scope = RegistryScope.ForPush(repository, mountFrom);
        var tagList = (tags ?? []).ToArray();
        foreach (var image in index.Images)
        {
            await PushImageContentAsync(image, registry, scope, cancellationToken).ConfigureAwait(false);
        }

        var mediaType = index.IndexDescriptor.MediaType;
        await PutManifestAsync(registry, scope, index.IndexDescriptor.Digest, index.IndexBytes, mediaType, cancellationToken).ConfigureAwait(false);
        foreach (var tag in tagList)
        {
            await PutManifestAsync(registry, scope, tag, index.IndexBytes, mediaType, cancellationToken).ConfigureAwait(false);
        }

        return index.IndexDescriptor.Digest;
    }

    private async Task PushImageContentAsync(IImage image, string registry, RegistryScope scope, CancellationToken cancellationToken)
    {
        var manifestDigest = image.ManifestDescriptor.Digest;
        if (await HeadManifestAsync(registry, scope, manifestDigest, cancellationToken).ConfigureAwait(false) is null)
        {
            await PushBlobsAsync(image, registry, scope, cancellationToken).ConfigureAwait(false);
            await PutManifestAsync(registry, scope, manifestDigest, image.ManifestBytes, image.ManifestDescriptor.MediaType, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            foreach (var blob in BlobsOf(image))
            {
                Report(registry, scope.Repository, blob.Descriptor.Digest, TransferOperation.SkippedExisting, blob.Descriptor.Size, blob.Descriptor.Size);
            }
        }
    }

    private static IEnumerable<(Descriptor Descriptor, Func<CancellationToken, Task<Stream>> Open)> BlobsOf(IImage image)
    {
        var seen = new HashSet<Digest>();
        var configBytes = image.ConfigBytes;
        var configDescriptor = image.Manifest.Config;
        if (seen.Add(configDescriptor.Digest))
        {
            yield return (configDescriptor, _ => Task.FromResult<Stream>(new MemoryStream(configBytes.ToArray(), writable: false)));
        }

        foreach (var layer in image.Layers)
        {
            // Non-distributable layers live elsewhere by definition; they are never copied.
            if (!MediaTypes.IsNonDistributable(layer.Descriptor.MediaType) && seen.Add(layer.Descriptor.Digest))
            {
                yield return (layer.Descriptor, layer.OpenCompressedAsync);
            }
        }
    }

    private async Task PushBlobsAsync(IImage image, string registry, RegistryScope scope, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var slots = _transport.TransferSlots(registry);
        var tasks = BlobsOf(image).Select(async blob =>
        {
            await slots.WaitAsync(failed.Token).ConfigureAwait(false);
            try
            {
                await PushBlobAsync(registry, scope, blob.Descriptor, blob.Open, failed.Token).ConfigureAwait(false);
            }
            catch
            {
                // One blob failing dooms the push: stop the others instead of letting them run on.
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                slots.Release();
            }
        }).ToArray();

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            cancellationToken.ThrowIfCancellationRequested();
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }

            throw;
        }
    }

    // ---- tags ----

    /// <summary>Lists the repository's tags, following the registry's pagination (Link headers).</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string registry, string repository, CancellationToken cancellationToken = default)
    {
        ValidateNames(registry, repository, "latest");
        var scope = RegistryScope.Pull(repository);
        var tags = new List<string>();
        string? next = $"v2/{repository}/tags/list";
        for (var page = 0; next is not null && page < 10_000; page++)
        {
            var relative = next;
            using var response = await _transport.SendAsync(
                registry,
                scope,
                baseAddress => new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, relative)),
                retryTransient: true,
                cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw await NotFoundAsync(response, registry, repository, "tags", cancellationToken).ConfigureAwait(false);
            }

            await EnsureSuccessAsync(response, registry, repository, "listing tags", cancellationToken).ConfigureAwait(false);
            var body = await ReadLimitedAsync(response.Content, MaxManifestBytes * 4, $"The tag list of {registry}/{repository}", cancellationToken).ConfigureAwait(false);
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    tags.AddRange(list.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!));
                }
            }
            catch (JsonException ex)
            {
                throw new RegistryException($"Registry {registry} sent a tag list for {repository} that is not valid JSON: {ex.Message}", registry, repository, response.StatusCode, null, ex);
            }

            next = NextLink(response);
        }

        return tags;
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var trimmed = link.Trim();
            var close = trimmed.IndexOf('>', StringComparison.Ordinal);
            if (trimmed.StartsWith('<') && close > 0 && trimmed[close..].Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                var target = trimmed[1..close];
                return target.StartsWith('/') ? target[1..] : target;
            }
        }

        return null;
    }

    /// <summary>Contacts the registry (GET /v2/) and learns how it authenticates.</summary>
    /// <exception cref="RegistryUnreachableException">The registry cannot be reached.</exception>
    public Task PingAsync(string registry, CancellationToken cancellationToken = default) => _transport.PingAsync(registry, cancellationToken);

    // ---- helpers ----

    private static HttpRequestMessage WithManifestAccept(HttpRequestMessage request)
    {
        foreach (var type in MediaTypes.AllManifestTypes)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return request;
    }

    private static Uri ManifestUri(Uri baseAddress, string repository, string reference) =>
        new(baseAddress, $"v2/{repository}/manifests/{reference}");

    private static Uri BlobUri(Uri baseAddress, string repository, Digest digest) =>
        new(baseAddress, $"v2/{repository}/blobs/{digest}");

    private static void ValidateNames(string registry, string repository, string reference)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        ArgumentException.ThrowIfNullOrEmpty(repository);
        ArgumentException.ThrowIfNullOrEmpty(reference);
        if (repository.Contains("..", StringComparison.Ordinal) || repository.Contains('?', StringComparison.Ordinal) || repository.Contains('#', StringComparison.Ordinal)
            || repository.StartsWith('/') || repository.EndsWith('/'))
        {
            throw new OciException($"'{repository}' is not a valid repository name: expected lower-case path components separated by '/'.");
        }

        if (reference.Contains('/', StringComparison.Ordinal) || reference.Contains('?', StringComparison.Ordinal) || reference.Contains('#', StringComparison.Ordinal))
        {
            throw new OciException($"'{reference}' is not a valid tag or digest.");
        }
    }

    private static void VerifyDigest(ReadOnlySpan<byte> bytes, Digest expected, string what)
    {
        var actual = Digest.Compute(expected.Algorithm, bytes);
        if (actual != expected)
        {
            throw new DigestMismatchException(what, expected, actual);
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, string what, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            throw new OciException($"{what} is {content.Headers.ContentLength} bytes; at most {limit} are accepted.");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new OciException($"{what} is larger than {limit} bytes, the most that is accepted.");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string registry, string repository, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var errors = await RegistryTransport.ReadErrorsAsync(response, cancellationToken).ConfigureAwait(false);
        throw new RegistryException(
            $"Registry {registry} answered {(int)response.StatusCode} {response.StatusCode} when {what}{FormatErrors(errors)}.",
            registry,
            repository,
            response.StatusCode,
            errors);
    }

    private static async Task<RegistryNotFoundException> NotFoundAsync(HttpResponseMessage response, string registry, string repository, string reference, CancellationToken cancellationToken)
    {
        var errors = await RegistryTransport.ReadErrorsAsync(response, cancellationToken).ConfigureAwait(false);
        var separator = Digest.TryParse(reference, out _) ? "@" : ":";
        string message;
        if (errors.Any(e => e.Code == "NAME_UNKNOWN"))
        {
            message = $"The repository {repository} does not exist on {registry}{FormatErrors(errors)}. Check the repository name (and that it was pushed to this registry).";
        }
        else if (errors.Any(e => e.Code == "BLOB_UNKNOWN"))
        {
            message = $"The blob {reference} is missing from {registry}/{repository}{FormatErrors(errors)}; the image is incomplete in that registry. Push it again.";
        }
        else
        {
            message = $"Image {registry}/{repository}{separator}{reference} was not found{FormatErrors(errors)}. Check the {(separator == "@" ? "digest" : "tag")} (list the tags with skopeo list-tags, or push the image first).";
        }

        return new RegistryNotFoundException(message, registry, repository, reference, errors);
    }

    private static string FormatErrors(IReadOnlyList<RegistryError> errors) =>
        errors.Count == 0 ? string.Empty : " (" + string.Join("; ", errors) + ")";

    /// <summary>Closes the client's connections.</summary>
    public void Dispose() => _transport.Dispose();
}

/// <summary>A manifest or index as fetched: its descriptor (media type, verified digest, size) and exact bytes.</summary>
/// <param name="Descriptor">The manifest's descriptor.</param>
/// <param name="Bytes">The exact bytes served, which hash to <see cref="Descriptor"/>'s digest.</param>
public sealed record RegistryManifest(Descriptor Descriptor, ReadOnlyMemory<byte> Bytes);

internal sealed record RegistryImage(ReadOnlyMemory<byte> ManifestBytes, ImageManifest Manifest, Descriptor ManifestDescriptor, ReadOnlyMemory<byte> ConfigBytes, ImageConfig Config, IReadOnlyList<ILayer> Layers) : IImage;

internal sealed record RegistryImageIndex(ReadOnlyMemory<byte> IndexBytes, ImageIndex Index, Descriptor IndexDescriptor, IReadOnlyList<IImage> Images) : IImageIndex;
