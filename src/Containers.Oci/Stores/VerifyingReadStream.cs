using System.Security.Cryptography;

namespace Containers.Oci;

/// <summary>
/// A read-only stream over content of a known digest and length: it hashes what passes through and,
/// at the end, refuses content whose length or digest differs. It reports its length (and the bytes
/// read so far as its position) so tar writers can write an entry header before streaming the data.
/// </summary>
internal sealed class VerifyingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly Digest _expected;
    private readonly long _length;
    private readonly string _what;
    private readonly IncrementalHash _hasher;
    private readonly bool _leaveOpen;
    private long _read;
    private bool _verified;

    public VerifyingReadStream(Stream inner, Digest expected, long length, string what, bool leaveOpen = false)
    {
        _leaveOpen = leaveOpen;
        _inner = inner;
        _expected = expected;
        _length = length;
        _what = what;
        _hasher = expected.CreateHasher();
    }

    public override bool CanRead => true;

    // Seekable in name only: tar writers read Length - Position to size the entry header.
    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException("This stream can only be read forward.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(LimitTo(buffer));
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(LimitTo(buffer), cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    private Span<byte> LimitTo(Span<byte> buffer) => buffer[..(int)Math.Min(buffer.Length, Math.Max(0, _length - _read + 1))];

    private Memory<byte> LimitTo(Memory<byte> buffer) => buffer[..(int)Math.Min(buffer.Length, Math.Max(0, _length - _read + 1))];

    private int Account(ReadOnlySpan<byte> data)
    {
        _read += data.Length;
        if (_read > _length)
        {
            throw new OciException($"{_what} is longer than the {_length} bytes its descriptor says; the content was refused.");
        }

        _hasher.AppendData(data);
        if (data.Length == 0 || _read == _length)
        {
            Verify(endOfStream: data.Length == 0);
        }

        return data.Length;
    }

    private void Verify(bool endOfStream)
    {
        if (_verified)
        {
            return;
        }

        if (_read < _length)
        {
            if (endOfStream)
            {
                throw new OciException($"{_what} ended after {_read} bytes but its descriptor says {_length} bytes; the content was refused.");
            }

            return;
        }

        _verified = true;
        var actual = Digest.FromHash(_expected.Algorithm, _hasher.GetHashAndReset());
        if (actual != _expected)
        {
            throw new DigestMismatchException(_what, _expected, actual);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("This stream can only be read forward.");

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }

            _hasher.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_leaveOpen)
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
        }

        _hasher.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
