using System.Security.Cryptography;

namespace Containers.Oci.Registry;

/// <summary>
/// Reads a downloaded blob, hashing it on the way; at the end of the stream it throws
/// <see cref="DigestMismatchException"/> unless the bytes hash to the expected digest (and size).
/// Disposing it disposes the HTTP response.
/// </summary>
internal sealed class VerifyingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly IDisposable _owner;
    private readonly IncrementalHash _hasher;
    private readonly Digest _expected;
    private readonly long _expectedSize;
    private readonly string _what;
    private readonly Action<long>? _progress;
    private long _read;
    private bool _verified;

    public VerifyingReadStream(Stream inner, IDisposable owner, Digest expected, long expectedSize, string what, Action<long>? progress)
    {
        _inner = inner;
        _owner = owner;
        _expected = expected;
        _expectedSize = expectedSize;
        _what = what;
        _progress = progress;
        _hasher = expected.CreateHasher();
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _expectedSize >= 0 ? _expectedSize : throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        return Account(buffer[..read], endOfStream: read == 0 && buffer.Length > 0);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..read], endOfStream: read == 0 && buffer.Length > 0);
    }

    // A zero-byte read into an empty buffer (used to wait for data) is not the end of the stream.
    private int Account(ReadOnlySpan<byte> data, bool endOfStream)
    {
        if (data.Length > 0)
        {
            _hasher.AppendData(data);
            _read += data.Length;
            if (_expectedSize >= 0 && _read > _expectedSize)
            {
                throw Mismatch();
            }

            _progress?.Invoke(_read);
            return data.Length;
        }

        if (endOfStream && !_verified)
        {
            _verified = true;
            var actual = Digest.FromHash(_expected.Algorithm, _hasher.GetHashAndReset());
            if (actual != _expected || (_expectedSize >= 0 && _read != _expectedSize))
            {
                throw new DigestMismatchException($"{_what} ({_read} bytes received, {_expectedSize} expected)", _expected, actual);
            }
        }

        return 0;
    }

    private DigestMismatchException Mismatch() =>
        new($"{_what} (more than the {_expectedSize} bytes its descriptor states were received)", _expected, Digest.FromHash(_expected.Algorithm, _hasher.GetCurrentHash()));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _owner.Dispose();
            _hasher.Dispose();
        }

        base.Dispose(disposing);
    }
}
