using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace Containers.Oci.Registry;

/// <summary>
/// Request content that opens the blob only when it is sent and streams it, reporting progress; a new
/// instance per attempt, so a retried request reads the blob again from the start.
/// </summary>
internal sealed class BlobUploadContent : HttpContent
{
    private readonly Func<CancellationToken, Task<Stream>>? _open;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _length;
    private readonly Action<long>? _progress;

    // The buffer that carries a streamed blob to the connection; pooled, as a publish sends hundreds of requests.
    private const int CopyBufferSize = 128 * 1024;

    public BlobUploadContent(Func<CancellationToken, Task<Stream>> open, long length, Action<long>? progress)
        : this(open, default, length, progress)
    {
    }

    private BlobUploadContent(Func<CancellationToken, Task<Stream>>? open, ReadOnlyMemory<byte> bytes, long length, Action<long>? progress)
    {
        _open = open;
        _bytes = bytes;
        _length = length;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Headers.ContentLength = length;
    }

    /// <summary>Called once the whole body was written: the response timeout starts then, not while a large body is still being sent.</summary>
    public Action? Sent { get; set; }

    /// <summary>Content for bytes already in memory (a chunk of a chunked upload), written to the connection as they are.</summary>
    public static BlobUploadContent FromMemory(ReadOnlyMemory<byte> bytes) => new(open: null, bytes, bytes.Length, progress: null);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (_open is null)
        {
            await stream.WriteAsync(_bytes, cancellationToken).ConfigureAwait(false);
            Sent?.Invoke();
            return;
        }

        var source = await _open(cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            await using (source.ConfigureAwait(false))
            {
                long sent = 0;
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (sent + read > _length)
                    {
                        throw new OciException($"The blob being uploaded is longer than the {_length} bytes its descriptor states; the layer's content changed since it was described.");
                    }

                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    sent += read;
                    _progress?.Invoke(sent);
                }

                if (sent != _length)
                {
                    throw new OciException($"The blob being uploaded has {sent} bytes but its descriptor states {_length}; the layer's content changed since it was described.");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Sent?.Invoke();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
