using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Stores.Containerd.Api;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ContainerdImage = Containers.Oci.Stores.Containerd.Api.Image;
using ContainerdImages = Containers.Oci.Stores.Containerd.Api.Images;

namespace Containers.Oci.Stores;

/// <summary>What an import into containerd did.</summary>
/// <param name="Target">The descriptor the image names point at: the manifest, or the index of a multi-platform image.</param>
/// <param name="Names">The image names created or moved, as given.</param>
/// <param name="Sent">The blobs containerd lacked and that were streamed to it.</param>
/// <param name="AlreadyPresent">The blobs containerd already held; none of their bytes were sent.</param>
public sealed record ContainerdImportResult(Descriptor Target, IReadOnlyList<string> Names, IReadOnlyList<Descriptor> Sent, IReadOnlyList<Descriptor> AlreadyPresent)
{
    /// <summary>The bytes streamed to containerd (the sum of <see cref="Sent"/>'s sizes).</summary>
    public long BytesSent => Sent.Sum(d => d.Size);
}

/// <summary>
/// containerd's content and image stores, reached through containerd's gRPC API on its unix socket: imports an
/// image or a multi-platform index under image names, sending only the blobs containerd does not already hold.
/// </summary>
/// <remarks>
/// <para>
/// An import does what containerd's own pull does: every blob is written under a lease (so containerd's garbage
/// collector leaves it alone while the import runs), manifests and indexes carry the
/// <c>containerd.io/gc.ref.content.*</c> labels that make them hold their config, layers and manifests, and the
/// image names are created or moved only after every blob is committed; a failed import moves no name, and what it
/// wrote is collected once its lease is gone. A blob containerd already holds is not sent (containerd answers
/// "already exists" to the write's first message, before any data).
/// </para>
/// <para>
/// Images are not unpacked into a snapshotter: <c>ctr run</c>, the CRI plugin and nerdctl unpack the host's
/// platform when a container is created from the image. A multi-platform index goes in as one image, as a pull of it
/// would.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var containerd = new ContainerdStore();   // /run/containerd/containerd.sock, namespace k8s.io
/// var result = await containerd.ImportImageAsync(image, ["registry.example/app:1.0"], ct);
/// Console.WriteLine($"{result.Sent.Count} blobs sent, {result.AlreadyPresent.Count} already there");
/// </code>
/// </example>
public sealed partial class ContainerdStore : IDisposable
{
    /// <summary>containerd's default socket.</summary>
    public const string DefaultAddress = "/run/containerd/containerd.sock";

    /// <summary>The namespace Kubernetes' CRI plugin uses, and so the one kind and k3s nodes run images from.</summary>
    public const string DefaultNamespace = "k8s.io";

    // containerd's gRPC server accepts messages up to 16 MiB; 1 MiB chunks keep a layer write well below that.
    private const int ChunkSize = 1024 * 1024;
    private const string NamespaceHeader = "containerd-namespace";
    private const string LeaseHeader = "containerd-lease";
    private const string GcRefContentPrefix = "containerd.io/gc.ref.content.";

    // How long a write waits for another writer of the same blob (a parallel publish sharing a base layer) to finish.
    private static readonly TimeSpan LockedWaitLimit = TimeSpan.FromMinutes(10);

    private readonly GrpcChannel _channel;
    private readonly Content.ContentClient _content;
    private readonly ContainerdImages.ImagesClient _images;
    private readonly Leases.LeasesClient _leases;

    /// <summary>Creates a store for the containerd at <paramref name="address"/>, working in <paramref name="namespace"/>. Nothing is contacted yet.</summary>
    /// <param name="address">The socket path, with or without <c>unix://</c>; <see cref="DefaultAddress"/> when null or empty.</param>
    /// <param name="namespace">The containerd namespace (created by containerd on first use); <see cref="DefaultNamespace"/> when null or empty.</param>
    /// <exception cref="ContainerdException">The namespace is not a valid containerd namespace name.</exception>
    public ContainerdStore(string? address = null, string? @namespace = null)
    {
        Address = NormalizeAddress(address);
        Namespace = string.IsNullOrWhiteSpace(@namespace) ? DefaultNamespace : @namespace.Trim();
        if (!NamespacePattern().IsMatch(Namespace))
        {
            throw new ContainerdException(ContainerdFailure.InvalidNamespace, Address, $"'{Namespace}' is not a containerd namespace name: expected letters and digits, separated by single '.', '_' or '-' (e.g. k8s.io, default).");
        }

        var socketPath = Address;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        // The authority is never looked at: the connection is the socket.
        _channel = GrpcChannel.ForAddress("http://containerd", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        _content = new Content.ContentClient(_channel);
        _images = new ContainerdImages.ImagesClient(_channel);
        _leases = new Leases.LeasesClient(_channel);
    }

    /// <summary>The socket path used.</summary>
    public string Address { get; }

    /// <summary>The containerd namespace used.</summary>
    public string Namespace { get; }

    /// <summary>Imports <paramref name="image"/> and names it by each of <paramref name="names"/> (<c>NAME:TAG</c>, e.g. <c>docker.io/library/app:1.0</c>).</summary>
    /// <exception cref="ContainerdException">containerd cannot be reached at <see cref="Address"/>, or refused part of the import.</exception>
    /// <exception cref="DigestMismatchException">A layer's content does not match its descriptor.</exception>
    public Task<ContainerdImportResult> ImportImageAsync(IImage image, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(names);
        var labels = new Dictionary<Digest, Dictionary<string, string>> { [image.ManifestDescriptor.Digest] = ManifestLabels(image) };
        return ImportAsync(ImageBlobs.Of(image), labels, image.ManifestDescriptor, names, cancellationToken);
    }

    /// <summary>Imports the multi-platform <paramref name="index"/> (all its platforms) as one image named by each of <paramref name="names"/>.</summary>
    /// <exception cref="ContainerdException">containerd cannot be reached at <see cref="Address"/>, or refused part of the import.</exception>
    /// <exception cref="DigestMismatchException">A layer's content does not match its descriptor.</exception>
    public Task<ContainerdImportResult> ImportIndexAsync(IImageIndex index, IReadOnlyList<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(names);
        var labels = index.Images.ToDictionary(i => i.ManifestDescriptor.Digest, ManifestLabels);
        labels[index.IndexDescriptor.Digest] = index.Images
            .Select((image, i) => (Key: GcRefContentPrefix + "m." + i.ToString(CultureInfo.InvariantCulture), Value: image.ManifestDescriptor.Digest.ToString()))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return ImportAsync(ImageBlobs.Of(index), labels, index.IndexDescriptor, names, cancellationToken);
    }

    /// <summary>The descriptor the image <paramref name="name"/> points at; null when containerd has no such image in <see cref="Namespace"/>.</summary>
    /// <exception cref="ContainerdException">containerd cannot be reached at <see cref="Address"/> or answered with an error.</exception>
    public async Task<Descriptor?> GetImageTargetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        await EnsureReachableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await _images.GetAsync(new GetImageRequest { Name = name }, Headers(lease: null), cancellationToken: cancellationToken).ConfigureAwait(false);
            var target = response.Image.Target;
            return new Descriptor { MediaType = target.MediaType, Digest = Digest.Parse(target.Digest), Size = target.Size };
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
        catch (RpcException ex)
        {
            throw ServerError($"reading image '{name}'", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();

    private async Task<ContainerdImportResult> ImportAsync(IReadOnlyList<ImageBlob> blobs, Dictionary<Digest, Dictionary<string, string>> gcLabels, Descriptor target, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            throw new ArgumentException("At least one image name is needed.", nameof(names));
        }

        await EnsureReachableAsync(cancellationToken).ConfigureAwait(false);
        var leaseId = "containers-sdk-import-" + Guid.NewGuid().ToString("N");
        await CreateLeaseAsync(leaseId, cancellationToken).ConfigureAwait(false);
        try
        {
            var sent = new List<Descriptor>();
            var present = new List<Descriptor>();
            // Referenced blobs come first, so a manifest's labels only ever name content that is already in place.
            foreach (var blob in blobs)
            {
                var labels = gcLabels.GetValueOrDefault(blob.Descriptor.Digest);
                if (await WriteBlobAsync(blob, labels, leaseId, cancellationToken).ConfigureAwait(false))
                {
                    sent.Add(blob.Descriptor);
                }
                else
                {
                    present.Add(blob.Descriptor);
                    if (labels is not null)
                    {
                        await SetLabelsAsync(blob.Descriptor.Digest, labels, leaseId, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            foreach (var name in names)
            {
                await PutImageAsync(name, target, leaseId, cancellationToken).ConfigureAwait(false);
            }

            return new ContainerdImportResult(target, names, sent, present);
        }
        finally
        {
            // The names now hold everything; after a failure, what was written is left to containerd's collector.
            await DeleteLeaseAsync(leaseId).ConfigureAwait(false);
        }
    }

    private static Dictionary<string, string> ManifestLabels(IImage image)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [GcRefContentPrefix + "config"] = image.Manifest.Config.Digest.ToString(),
        };
        for (var i = 0; i < image.Manifest.Layers.Count; i++)
        {
            labels[GcRefContentPrefix + "l." + i.ToString(CultureInfo.InvariantCulture)] = image.Manifest.Layers[i].Digest.ToString();
        }

        return labels;
    }

    // True when the blob was sent; false when containerd already held it (it then joins the lease all the same).
    private async Task<bool> WriteBlobAsync(ImageBlob blob, Dictionary<string, string>? labels, string leaseId, CancellationToken cancellationToken)
    {
        var descriptor = blob.Descriptor;
        // One ref per blob: a retry after a failed import truncates and rewrites the same ingest instead of leaving another.
        var reference = "containers-sdk-" + descriptor.Digest.Hex;
        var waitedSince = DateTime.UtcNow;
        while (true)
        {
            using var call = _content.Write(Headers(leaseId), cancellationToken: cancellationToken);
            try
            {
                await call.RequestStream.WriteAsync(new WriteContentRequest { Action = WriteAction.Stat, Ref = reference, Total = descriptor.Size, Expected = descriptor.Digest.ToString() }, cancellationToken).ConfigureAwait(false);
                await ReadResponseAsync(call, cancellationToken).ConfigureAwait(false);

                var stream = await blob.OpenVerifiedAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    var buffer = new byte[(int)Math.Min(ChunkSize, Math.Max(descriptor.Size, 1))];
                    long offset = 0;
                    while (true)
                    {
                        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                        var last = offset + read >= descriptor.Size;
                        var request = new WriteContentRequest
                        {
                            Action = last ? WriteAction.Commit : WriteAction.Write,
                            Ref = reference,
                            Offset = offset,
                            Data = ByteString.CopyFrom(buffer, 0, read),
                            Total = descriptor.Size,
                            Expected = descriptor.Digest.ToString(),
                        };
                        if (last && labels is not null)
                        {
                            request.Labels.Add(labels);
                        }

                        await call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
                        await ReadResponseAsync(call, cancellationToken).ConfigureAwait(false);
                        offset += read;
                        if (last)
                        {
                            break;
                        }
                    }

                    // The verifying stream checked the digest when the last byte was read, before the commit went out;
                    // reading on proves the content is no longer than its descriptor says.
                    await stream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                }

                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                return true;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
            {
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Status.Detail.Contains("locked", StringComparison.OrdinalIgnoreCase) && DateTime.UtcNow - waitedSince < LockedWaitLimit)
            {
                // Another client writes the same blob right now; once it commits, the write answers "already exists".
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                throw ServerError($"writing {blob.What}", ex);
            }
        }
    }

    private static async Task ReadResponseAsync(AsyncDuplexStreamingCall<WriteContentRequest, WriteContentResponse> call, CancellationToken cancellationToken)
    {
        if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "containerd closed the write stream without an answer"));
        }
    }

    private async Task SetLabelsAsync(Digest digest, Dictionary<string, string> labels, string leaseId, CancellationToken cancellationToken)
    {
        var info = new Info { Digest = digest.ToString() };
        info.Labels.Add(labels);
        var mask = new Google.Protobuf.WellKnownTypes.FieldMask();
        mask.Paths.AddRange(labels.Keys.Select(k => "labels." + k));
        try
        {
            await _content.UpdateAsync(new UpdateRequest { Info = info, UpdateMask = mask }, Headers(leaseId), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw ServerError($"labelling {digest} for garbage collection", ex);
        }
    }

    private async Task PutImageAsync(string name, Descriptor target, string leaseId, CancellationToken cancellationToken)
    {
        var image = new ContainerdImage
        {
            Name = name,
            Target = new TargetDescriptor { MediaType = target.MediaType, Digest = target.Digest.ToString(), Size = target.Size },
        };
        try
        {
            try
            {
                await _images.CreateAsync(new CreateImageRequest { Image = image }, Headers(leaseId), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
            {
                // Only the target moves: labels others put on the name (the CRI plugin's) stay.
                var mask = new Google.Protobuf.WellKnownTypes.FieldMask();
                mask.Paths.Add("target");
                await _images.UpdateAsync(new UpdateImageRequest { Image = image, UpdateMask = mask }, Headers(leaseId), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException ex)
        {
            throw ServerError($"naming the image '{name}'", ex);
        }
    }

    private async Task CreateLeaseAsync(string leaseId, CancellationToken cancellationToken)
    {
        var request = new CreateRequest { Id = leaseId };
        // Should this process die mid-import, containerd drops the lease itself after a day.
        request.Labels.Add("containerd.io/gc.expire", DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        try
        {
            await _leases.CreateAsync(request, Headers(lease: null), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw ServerError("creating a lease for the import", ex);
        }
    }

    private async Task DeleteLeaseAsync(string leaseId)
    {
        try
        {
            // Not the caller's token: a cancelled import still lets go of what it held.
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _leases.DeleteAsync(new DeleteRequest { Id = leaseId }, Headers(lease: null), cancellationToken: limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            // The lease expires by itself (containerd.io/gc.expire); failing the import for it would hide the real outcome.
        }
    }

    private Metadata Headers(string? lease)
    {
        var headers = new Metadata { { NamespaceHeader, Namespace } };
        if (lease is not null)
        {
            headers.Add(LeaseHeader, lease);
        }

        return headers;
    }

    /// <summary>
    /// Connects to <see cref="Address"/> once and closes the connection: a missing socket, a socket nobody listens on and a
    /// socket this user may not use each get a message that says what to do. Every import and read does this first.
    /// </summary>
    /// <exception cref="ContainerdException">containerd cannot be reached (<see cref="ContainerdException.IsUnreachable"/>).</exception>
    public async Task EnsureReachableAsync(CancellationToken cancellationToken = default)
    {
        var fix = $"Start containerd (e.g. 'systemctl start containerd', or 'containerd --address {Address}'), or set ContainerContainerdAddress to the socket it listens on.";
        if (!File.Exists(Address))
        {
            throw new ContainerdException(ContainerdFailure.SocketMissing, Address, $"containerd is not running at {Address}: there is no socket there. {fix}");
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Address), limit.Token).ConfigureAwait(false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ContainerdException(ContainerdFailure.PermissionDenied, Address, $"Permission denied connecting to containerd's socket {Address}: this user may not use it (containerd's socket is root's unless its config gives a group access). Publish as root (sudo), give this user access to the socket, or set ContainerContainerdAddress to a containerd this user may use.", ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            throw new ContainerdException(ContainerdFailure.NotListening, Address, $"containerd is not running at {Address}: the socket exists but nothing accepts connections on it ({ex.Message}). {fix}", ex);
        }
        catch (SocketException ex)
        {
            throw new ContainerdException(ContainerdFailure.NotListening, Address, $"containerd's socket {Address} cannot be connected to: {ex.Message}. {fix}", ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ContainerdException(ContainerdFailure.NotListening, Address, $"containerd at {Address} did not accept a connection within 10 s. {fix}");
        }
    }

    private ContainerdException ServerError(string what, RpcException ex)
    {
        if (ex.StatusCode == StatusCode.Unavailable && ex.InnerException is not null)
        {
            return new ContainerdException(ContainerdFailure.NotListening, Address, $"containerd at {Address} went away while {what}: {ex.Status.Detail}. Check that containerd is still running, then publish again.", ex);
        }

        var hint = ex.StatusCode is StatusCode.Internal or StatusCode.Unimplemented
            ? $" Is {Address} containerd's socket (containerd 1.6 or newer)? Set ContainerContainerdAddress to the socket containerd listens on."
            : "";
        return new ContainerdException(ContainerdFailure.ServerError, Address, $"containerd at {Address} (namespace {Namespace}) refused {what}: {ex.StatusCode}: {ex.Status.Detail}.{hint}", ex);
    }

    private static string NormalizeAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return DefaultAddress;
        }

        var trimmed = address.Trim();
        return trimmed.StartsWith("unix://", StringComparison.Ordinal) ? trimmed["unix://".Length..] : trimmed;
    }

    /// <summary>True when <paramref name="namespace"/> is a valid containerd namespace name (letters and digits joined by single '.', '_' or '-').</summary>
    public static bool IsValidNamespace(string? @namespace) => @namespace is not null && NamespacePattern().IsMatch(@namespace);

    // containerd's own rule (namespaces.Validate): labels of letters and digits joined by single '.', '_' or '-', at most 76 characters.
    [GeneratedRegex("^(?=.{1,76}$)[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")]
    private static partial Regex NamespacePattern();
}
