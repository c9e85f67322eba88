using Containers.Oci.Digests;
using Containers.Oci.Registry.Credentials;

namespace Containers.Oci.Registry;

/// <summary>How a <see cref="RegistryClient"/> connects, authenticates, retries and reports progress.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Where credentials come from; anonymous when null.</summary>
    public ICredentialProvider? CredentialProvider { get; init; }

    /// <summary>
    /// Registries (host or host:port, as in image references) that are spoken to over plain HTTP.
    /// Loopback registries (localhost, 127.0.0.0/8, ::1) always are.
    /// </summary>
    public IReadOnlyCollection<string> InsecureRegistries { get; init; } = [];

    /// <summary>How many blobs are transferred at the same time per registry.</summary>
    public int MaxConcurrentTransfersPerRegistry { get; init; } = 4;

    /// <summary>Retries after a transient failure (429, 500, 502, 503, 504, connection reset, timeout).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry delay; each further retry doubles it, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between two attempts, including a server's Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Blobs larger than this are uploaded in chunks (PATCH with Content-Range); smaller ones in one PUT.</summary>
    public long ChunkedUploadThreshold { get; init; } = 64L * 1024 * 1024;

    /// <summary>The size of each chunk of a chunked upload; one chunk is buffered in memory per transfer.</summary>
    public int ChunkSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>How long establishing a TCP (and TLS) connection may take before the registry counts as unreachable.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the registry may take to start answering a request (headers), bodies excluded.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Creates the HTTP handler (tests inject one). It must not follow redirects itself: the client
    /// follows them so that credentials never leave the registry's host. Null uses a <see cref="SocketsHttpHandler"/>.
    /// </summary>
    public Func<HttpMessageHandler>? HttpMessageHandlerFactory { get; init; }

    /// <summary>
    /// Keep connections open for the next client of this process (a long-lived process such as the build server): the
    /// clients then share one connection pool, whose TCP and TLS connections outlive each client. Credentials stay
    /// per client (they are headers, never connection state). Ignored with <see cref="HttpMessageHandlerFactory"/>.
    /// </summary>
    public bool ShareConnections { get; init; }

    /// <summary>Receives bytes transferred per blob.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>The User-Agent header sent with every request; the library's name and version unless a product names itself.</summary>
    public string UserAgent { get; init; } = DefaultUserAgent;

    private static string DefaultUserAgent =>
        "Containers.Oci/" + (typeof(RegistryClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0");

    /// <summary>The clock by which bearer tokens are renewed shortly before they expire (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>What happened to a blob during a push or pull.</summary>
public enum TransferOperation
{
    /// <summary>Bytes were uploaded.</summary>
    Pushed,
    /// <summary>Bytes were downloaded.</summary>
    Pulled,
    /// <summary>The registry linked the blob from another repository; nothing was uploaded.</summary>
    Mounted,
    /// <summary>The registry already had the blob; nothing was uploaded.</summary>
    SkippedExisting,
}

/// <summary>Progress of one blob transfer. <see cref="BytesTransferred"/> equals <see cref="TotalBytes"/> when done.</summary>
/// <param name="Registry">The registry host.</param>
/// <param name="Repository">The repository.</param>
/// <param name="Digest">The blob.</param>
/// <param name="Operation">What is happening to it.</param>
/// <param name="BytesTransferred">Bytes sent or received so far (the blob size for mounted and skipped blobs).</param>
/// <param name="TotalBytes">The blob size.</param>
public sealed record TransferProgress(string Registry, string Repository, Digest Digest, TransferOperation Operation, long BytesTransferred, long TotalBytes)
{
    /// <summary>True when the transfer is finished.</summary>
    public bool IsComplete => BytesTransferred >= TotalBytes;
}
