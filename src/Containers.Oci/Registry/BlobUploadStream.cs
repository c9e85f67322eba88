using System.Buffers;
using System.Globalization;
using Containers.Oci.Descriptors;

namespace Containers.Oci.Registry;

/// <summary>
/// A blob upload whose digest is known only at its end: bytes written to it go to the registry in chunks (PATCH)
/// while the writer is still producing later ones, and <see cref="CompleteAsync"/> closes it with the digest
/// (PUT <c>?digest=</c>). Made by <see cref="RegistryClient.StartBlobUploadAsync"/>.
/// </summary>
/// <remarks>
/// Two chunk buffers of <see cref="ChunkSize"/>: one being sent, one being filled; a write that fills the second
/// waits for the first to be sent, so memory stays bounded whatever the blob's size and a slow registry slows the
/// writer rather than piling bytes up. The buffers come from the shared array pool when first needed (a blob
/// smaller than a chunk takes one) and go back to it when the upload ends, so the uploads of a publish reuse them.
/// A chunk is not retried (an upload session cannot be resumed portably): after a failure the upload is dead and the
/// caller uploads the blob again from its copy. Disposed without <see cref="CompleteAsync"/>, the session is cancelled
/// (DELETE) and the registry keeps nothing.
/// </remarks>
public sealed class BlobUploadStream : Stream
{
    /// <summary>The size of each PATCH.</summary>
    public const int ChunkSize = 4 * 1024 * 1024;

    private readonly RegistryClient _client;
    private readonly string _registry;
    private readonly RegistryScope _scope;
    private Uri _location;
    private byte[]? _filling;
    private byte[]? _spare;
    private int _filled;
    private long _sent;
    private Task? _sending;
    private bool _completed;
    private bool _disposed;

    internal BlobUploadStream(RegistryClient client, string registry, RegistryScope scope, Uri location)
    {
        _client = client;
        _registry = registry;
        _scope = scope;
        _location = location;
    }

    /// <summary>The registry host.</summary>
    public string Registry => _registry;

    /// <summary>The repository the blob goes to.</summary>
    public string Repository => _scope.Repository;

    /// <summary>Bytes written so far (sent, being sent, or waiting for the next chunk).</summary>
    public long BytesWritten => _sent + _filled;

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => !_disposed && !_completed;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("The upload is complete.");
        }

        while (!buffer.IsEmpty)
        {
            _filling ??= ArrayPool<byte>.Shared.Rent(ChunkSize);
            var taken = Math.Min(buffer.Length, ChunkSize - _filled);
            buffer.Span[..taken].CopyTo(_filling.AsSpan(_filled));
            _filled += taken;
            buffer = buffer[taken..];
            if (_filled == ChunkSize)
            {
                await SendFilledChunkAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Sends what is left and closes the upload under <paramref name="descriptor"/>'s digest; the registry checks
    /// the digest against the bytes it received.
    /// </summary>
    /// <exception cref="OciException">Fewer or more bytes were written than the descriptor's size.</exception>
    /// <exception cref="RegistryException">The registry refused a chunk or the digest.</exception>
    public async Task CompleteAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_sending is not null)
        {
            await _sending.ConfigureAwait(false);
        }

        if (BytesWritten != descriptor.Size)
        {
            throw new OciException($"The streamed upload of {descriptor.Digest} has {BytesWritten} bytes but its descriptor states {descriptor.Size}; write the whole blob before completing the upload.");
        }

        await _client.CompleteStreamedUploadAsync(_registry, _scope, _location, _filling.AsMemory(0, _filled), _sent, descriptor, cancellationToken).ConfigureAwait(false);
        _sent += _filled;
        _filled = 0;
        _completed = true;
        ReturnBuffers();
    }

    /// <inheritdoc />
    public override void Flush()
    {
        // Chunks are sent when full; the rest goes with CompleteAsync.
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_completed)
        {
            try
            {
                if (_sending is not null)
                {
                    await _sending.ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is OciException or HttpRequestException or OperationCanceledException or IOException)
            {
                // The failure that abandons the upload is the caller's to report.
            }

            await _client.CancelStreamedUploadAsync(_registry, _scope, _location).ConfigureAwait(false);
        }

        // No request reads them any more: the last one was awaited above, or by CompleteAsync.
        ReturnBuffers();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async Task SendFilledChunkAsync(CancellationToken cancellationToken)
    {
        if (_sending is not null)
        {
            await _sending.ConfigureAwait(false);
        }

        _spare ??= ArrayPool<byte>.Shared.Rent(ChunkSize);
        (_filling, _spare) = (_spare, _filling);
        var chunk = _spare.AsMemory(0, _filled);
        var offset = _sent;
        _sent += _filled;
        _filled = 0;
        _sending = SendAsync(chunk, offset, cancellationToken);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> chunk, long offset, CancellationToken cancellationToken) =>
        _location = await _client.PatchStreamedUploadAsync(_registry, _scope, _location, chunk, offset, cancellationToken).ConfigureAwait(false);

    private void ReturnBuffers()
    {
        if (_filling is not null)
        {
            ArrayPool<byte>.Shared.Return(_filling);
            _filling = null;
        }

        if (_spare is not null)
        {
            ArrayPool<byte>.Shared.Return(_spare);
            _spare = null;
        }
    }

    internal static string ContentRange(long offset, int length) =>
        string.Create(CultureInfo.InvariantCulture, $"{offset}-{offset + length - 1}");
}
