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
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
