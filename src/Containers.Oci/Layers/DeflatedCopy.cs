using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Containers.Oci.Layers;

/// <summary>
/// A file that <see cref="BlockGzipStream"/> writes as a gzip member of deflate data copied from an archive
/// (<see cref="DeflatedFileSources"/>). Neither the file nor the data is held in memory: the check reads both, and the
/// writer copies the data from the archive, checking that it is the data the check read.
/// </summary>
internal sealed class DeflatedCopy : IDisposable
{
    /// <summary>The size of the buffers the check and the writer read with.</summary>
    public const int ChunkSize = 128 * 1024;

    public DeflatedCopy(string filePath, long length, uint crc32, ZipDeflatedEntry entry, DeflatedFileSources? sources = null)
    {
        Sources = sources;
        FilePath = filePath;
        Length = length;
        Crc32 = crc32;
        Entry = entry;
        BinaryPrimitives.WriteUInt32LittleEndian(Trailer, crc32);
        BinaryPrimitives.WriteUInt32LittleEndian(Trailer.AsSpan(4), unchecked((uint)length));
    }

    /// <summary>The sources the entry came from, told how the check went; null when no one counts.</summary>
    public DeflatedFileSources? Sources { get; }

    /// <summary>The file, whose bytes went into the tar (and its diff id) when the entry was written.</summary>
    public string FilePath { get; }

    /// <summary>The file's length.</summary>
    public long Length { get; }

    /// <summary>The CRC-32 of the file's bytes, as the tar writer read them.</summary>
    public uint Crc32 { get; }

    /// <summary>The archive entry whose deflate data is copied.</summary>
    public ZipDeflatedEntry Entry { get; }

    /// <summary>The gzip member's trailer: the CRC-32 and the length modulo 2^32.</summary>
    public byte[] Trailer { get; } = new byte[8];

    /// <summary>Whether the check found that the data inflates to the file's bytes (and the CRC-32 the tar writer saw).</summary>
    public bool Verified { get; private set; }

    private SafeFileHandle? _archive;
    private long _dataOffset;
    private ulong _dataChecksum;

    /// <summary>
    /// Reads the entry's data, framed as a gzip member, and the file, and sets <see cref="Verified"/> when the member
    /// inflates (zlib checking the trailer's CRC-32 and length) to exactly the file's bytes. The archive stays open for
    /// <see cref="WriteDataAsync"/>.
    /// </summary>
    public void Check(ReadOnlySpan<byte> header)
    {
        try
        {
            _archive = File.OpenHandle(Entry.ArchivePath, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (Entry.TryGetDataOffset(_archive) is not { } dataOffset)
            {
                return;
            }

            _dataOffset = dataOffset;
            var member = new MemberStream(header.ToArray(), _archive, dataOffset, Entry.CompressedLength, Trailer);
            using var inflated = new System.IO.Compression.GZipStream(member, System.IO.Compression.CompressionMode.Decompress);
            using var file = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            var expected = ArrayPool<byte>.Shared.Rent(ChunkSize);
            var actual = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                Verified = Compare(inflated, file, member, expected.AsSpan(0, ChunkSize), actual.AsSpan(0, ChunkSize));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(expected);
                ArrayPool<byte>.Shared.Return(actual);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Verified = false;
        }
    }

    // Whether the member inflates to the file's bytes, all of them, having read all of the member.
    private bool Compare(Stream inflated, Stream file, MemberStream member, Span<byte> expected, Span<byte> actual)
    {
        while (true)
        {
            var read = inflated.ReadAtLeast(actual, actual.Length, throwOnEndOfStream: false);
            if (file.ReadAtLeast(expected[..read], read, throwOnEndOfStream: false) != read || !actual[..read].SequenceEqual(expected[..read]))
            {
                return false;
            }

            if (read < actual.Length)
            {
                // The member is at its end (zlib has checked the trailer); so must the file be, and every byte of the
                // data must have been read.
                _dataChecksum = member.DataChecksum;
                return file.Read(expected[..1]) == 0 && member.AtEnd;
            }
        }
    }

    /// <summary>Copies the checked deflate data to <paramref name="output"/>; throws when the archive no longer holds the data the check read.</summary>
    public async ValueTask WriteDataAsync(Stream output, bool synchronous, CancellationToken cancellationToken)
    {
        var checksum = new XxHash64();
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            await CopyDataAsync(output, checksum, buffer, synchronous, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (checksum.GetCurrentHashAsUInt64() != _dataChecksum)
        {
            throw new OciException($"'{Entry.ArchivePath}' changed while a layer copied '{Path.GetFileName(FilePath)}' from it; publish again when nothing is writing to the package folder.");
        }
    }

    private async ValueTask CopyDataAsync(Stream output, XxHash64 checksum, byte[] buffer, bool synchronous, CancellationToken cancellationToken)
    {
        for (long copied = 0; copied < Entry.CompressedLength;)
        {
            var want = (int)Math.Min(buffer.Length, Entry.CompressedLength - copied);
            var read = synchronous
                ? RandomAccess.Read(_archive!, buffer.AsSpan(0, want), _dataOffset + copied)
                : await RandomAccess.ReadAsync(_archive!, buffer.AsMemory(0, want), _dataOffset + copied, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            checksum.Append(buffer.AsSpan(0, read));
            if (synchronous)
            {
                output.Write(buffer, 0, read);
            }
            else
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            copied += read;
        }
    }

    /// <summary>
    /// The file compressed here as a gzip member (for a copy whose check failed), into <paramref name="output"/>;
    /// throws when the file's bytes are no longer those the tar writer read.
    /// </summary>
    public void CompressInto(MemoryStream output, ReadOnlySpan<byte> header, System.IO.Compression.CompressionLevel level)
    {
        var crc = new Crc32();
        output.Write(header);
        using (var file = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan))
        using (var deflate = new System.IO.Compression.DeflateStream(output, level, leaveOpen: true))
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            long total = 0;
            try
            {
                for (int read; (read = file.Read(buffer, 0, ChunkSize)) > 0; total += read)
                {
                    crc.Append(buffer.AsSpan(0, read));
                    deflate.Write(buffer, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (total != Length || crc.GetCurrentHashAsUInt32() != Crc32)
            {
                throw new OciException($"'{FilePath}' changed while it was written to a layer; build the layer when the files are no longer being written.");
            }
        }

        output.Write(Trailer);
    }

    public void Dispose() => _archive?.Dispose();

    // A gzip member read from the header, the archive's deflate data and the trailer, in turn, with a checksum of the data.
    private sealed class MemberStream(byte[] header, SafeFileHandle archive, long dataOffset, long dataLength, byte[] trailer) : Stream
    {
        private readonly XxHash64 _checksum = new();
        private long _position;

        public bool AtEnd => _position == header.Length + dataLength + trailer.Length;

        public ulong DataChecksum => _checksum.GetCurrentHashAsUInt64();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < header.Length)
            {
                var n = Math.Min(buffer.Length, header.Length - (int)_position);
                header.AsSpan((int)_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            var inData = _position - header.Length;
            if (inData < dataLength)
            {
                var want = (int)Math.Min(buffer.Length, dataLength - inData);
                var n = RandomAccess.Read(archive, buffer[..want], dataOffset + inData);
                if (n == 0)
                {
                    throw new EndOfStreamException("The archive ended inside the entry's data.");
                }

                _checksum.Append(buffer[..n]);
                _position += n;
                return n;
            }

            var inTrailer = (int)(inData - dataLength);
            var rest = Math.Min(buffer.Length, trailer.Length - inTrailer);
            trailer.AsSpan(inTrailer, rest).CopyTo(buffer);
            _position += rest;
            return rest;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
