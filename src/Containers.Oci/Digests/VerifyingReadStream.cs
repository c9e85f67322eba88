using System.Security.Cryptography;

namespace Containers.Oci.Digests;

/// <summary>
/// A read-only stream over content of a known digest (and, usually, length): it hashes what passes through and
/// refuses content that is longer or shorter than its length (<see cref="OciException"/>) or does not hash to
/// its digest (<see cref="DigestMismatchException"/>). The check runs as soon as the stated length has been
/// read, so a reader that stops there (a tar writer copying an entry) still gets it, and otherwise at the end
/// of the stream. Used for downloads from registries and for blobs read from or written into image stores.
/// </summary>
internal sealed class VerifyingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly Digest _expected;
    private readonly long _length;
    private readonly string _what;
    private readonly IncrementalHash _hasher;
    private readonly bool _leaveOpen;
    private readonly IDisposable? _owner;
    private readonly Action<long>? _progress;
    private long _read;
    private bool _verified;

    /// <summary>Creates the stream.</summary>
    /// <param name="inner">The content.</param>
    /// <param name="expected">The digest the content must hash to.</param>
    /// <param name="length">The length the content must have; negative when not known (then only the digest is checked).</param>
    /// <param name="what">Names the content in errors ("The blob registry/repo@sha256:…").</param>
    /// <param name="leaveOpen">Whether disposing leaves <paramref name="inner"/> open.</param>
    /// <param name="owner">Disposed with this stream (the HTTP response a download's body belongs to).</param>
    /// <param name="progress">Told the number of bytes read so far after every read.</param>
    public VerifyingReadStream(Stream inner, Digest expected, long length, string what, bool leaveOpen = false, IDisposable? owner = null, Action<long>? progress = null)
    {
        _inner = inner;
        _expected = expected;
        _length = length;
        _what = what;
        _leaveOpen = leaveOpen;
        _owner = owner;
        _progress = progress;
        _hasher = expected.CreateHasher();
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length >= 0 ? _length : throw new NotSupportedException("The content's length is not known.");

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException("This stream can only be read forward.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var limited = buffer[..Limit(buffer.Length)];
        var read = _inner.Read(limited);
        return Account(limited[..read], endOfStream: read == 0 && limited.Length > 0);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var limited = buffer[..Limit(buffer.Length)];
        var read = await _inner.ReadAsync(limited, cancellationToken).ConfigureAwait(false);
        return Account(limited.Span[..read], endOfStream: read == 0 && limited.Length > 0);
    }

    // At most one byte past the stated length: enough to tell that the content is longer, without reading on.
    private int Limit(int requested) => _length >= 0 ? (int)Math.Min(requested, Math.Max(0, _length - _read + 1)) : requested;

    // A zero-byte read into an empty buffer (used to wait for data) is not the end of the stream.
    private int Account(ReadOnlySpan<byte> data, bool endOfStream)
    {
        if (data.Length > 0)
        {
            _read += data.Length;
            if (_length >= 0 && _read > _length)
            {
                throw new OciException($"{_what} is longer than the {_length} bytes its descriptor says; the content was refused.");
            }

            _hasher.AppendData(data);
            _progress?.Invoke(_read);
            if (_read == _length)
            {
                Verify();
            }
        }
        else if (endOfStream)
        {
            if (_read < _length)
            {
                throw new OciException($"{_what} ended after {_read} bytes but its descriptor says {_length} bytes; the content was refused.");
            }

            Verify();
        }

        return data.Length;
    }

    private void Verify()
    {
        if (_verified)
        {
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

            _owner?.Dispose();
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

        _owner?.Dispose();
        _hasher.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
