using System.Net;
using System.Net.Http.Headers;

namespace Containers.Oci.Registry;

/// <summary>
/// Request content that opens the blob only when it is sent and streams it, reporting progress; a new
/// instance per attempt, so a retried request reads the blob again from the start.
/// </summary>
internal sealed class BlobUploadContent : HttpContent
{
    private readonly Func<CancellationToken, Task<Stream>> _open;
    private readonly long _length;
    private readonly Action<long>? _progress;

    public BlobUploadContent(Func<CancellationToken, Task<Stream>> open, long length, Action<long>? progress)
    {
        _open = open;
        _length = length;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Headers.ContentLength = length;
    }

    /// <summary>Called once the whole body was written: the response timeout starts then, not while a large body is still being sent.</summary>
    public Action? Sent { get; set; }

    /// <summary>Content for bytes already in memory (a chunk of a chunked upload).</summary>
    public static BlobUploadContent FromMemory(ReadOnlyMemory<byte> bytes) =>
        new(_ => Task.FromResult<Stream>(new ReadOnlyMemoryStream(bytes)), bytes.Length, progress: null);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await _open(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            var buffer = new byte[128 * 1024];
            long sent = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
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

        Sent?.Invoke();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}

/// <summary>A read-only stream over memory, without copying it.</summary>
internal sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> bytes) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => bytes.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, bytes.Length - _position);
        bytes.Span.Slice(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
