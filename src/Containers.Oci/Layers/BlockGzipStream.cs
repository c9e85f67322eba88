using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Containers.Oci.Layers;

/// <summary>
/// A write-only gzip compressor that deflates fixed-size blocks of its input on several threads and joins them
/// into one gzip member, in the way pigz does: the output depends on the input, the level and
/// <see cref="BlockSize"/> only, never on how many threads compressed it.
/// </summary>
/// <remarks>
/// The stream is a gzip header (no name, mtime 0, XFL 0, OS 255 "unknown"), then each block's raw deflate data
/// ended by a sync flush (an empty stored block, so every block ends on a byte boundary and the next can follow
/// it), then a final empty fixed-Huffman block (bytes <c>03 00</c>), the CRC-32 of the input and its length
/// modulo 2^32. A block whose bytes hold next to no matches (<see cref="BlockProbe"/>) is not searched for them: it
/// gets Huffman codes only, or, when its byte frequencies are flat too, is written as stored blocks, which also end on a
/// byte boundary.
/// Each block starts with a fresh compressor, so matches never reach into the previous block; that
/// costs a little ratio (docs/layers.md gives the figure) and buys independence.
/// A file whose deflate data already exists (in a NuGet package: <see cref="DeflatedFileSources"/>) is written by
/// <see cref="WriteCopyAsync"/> as a gzip member of its own: the member open before it is ended (final block, its
/// CRC-32 and length), the copied data follows in a member with its own header and trailer, and the next bytes start a
/// new member. A gzip stream of several members is one stream to every reader (RFC 1952, section 2.2). At most
/// <see cref="MaxBlocksInFlight"/> blocks are held at once, so memory does not grow with the input; when that
/// many are compressing, a write waits for the oldest and writes it out.
/// </remarks>
internal sealed class BlockGzipStream : Stream
{
    /// <summary>The uncompressed size of every block but the last. A constant: changing it changes every digest.</summary>
    public const int BlockSize = 256 * 1024;

    private static readonly byte[] Header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    private static readonly byte[] FinalBlock = [0x03, 0x00];

    private readonly Stream _output;
    private readonly CompressionLevel _level;
    private readonly SemaphoreSlim _workers;
    private readonly Queue<Block> _inFlight = new();
    private readonly Stack<Block> _free = new();

    // Of the member being written: the CRC-32 and length of its input so far.
    private readonly Crc32 _crc = new();
    private long _memberLength;
    private Block? _filling;
    // All input so far, copied files included; none means the stream is still to be one empty member.
    private long _inputLength;
    private bool _memberOpen;
    private bool _finished;
    private bool _disposed;

    /// <summary>Creates a compressor that writes to <paramref name="output"/> (left open) with up to <paramref name="workers"/> threads.</summary>
    public BlockGzipStream(Stream output, CompressionLevel level, int workers)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _output = output;
        _level = level;
        _workers = new SemaphoreSlim(workers, workers);
        MaxBlocksInFlight = workers + 2;
    }

    /// <summary>How many blocks may be read but not yet written at once: the workers' plus two, so a worker never waits for the writer.</summary>
    public int MaxBlocksInFlight { get; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_disposed && !_finished;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _inputLength; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var taken = Fill(buffer);
            buffer = buffer[taken..];
            if (_filling!.Length == BlockSize)
            {
                SubmitAsync(synchronous: true, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var taken = Fill(buffer.Span);
            buffer = buffer[taken..];
            if (_filling!.Length == BlockSize)
            {
                await SubmitAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Compresses what is left, writes every block in order and the gzip trailer. The output stream is not flushed.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            return;
        }

        if (_filling is { Length: > 0 })
        {
            await SubmitAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
        }

        while (_inFlight.Count > 0)
        {
            await WriteOldestAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
        }

        // The open member is ended; with no input at all, the stream is one empty member. After a copied file there
        // may be no open member, and nothing is left to write.
        if (_memberOpen || _inputLength == 0)
        {
            await _output.WriteAsync(EndMember(withHeader: !_memberOpen), cancellationToken).ConfigureAwait(false);
        }

        _finished = true;
    }

    /// <summary>
    /// Writes <paramref name="copy"/>'s file as a gzip member of its own made of the copy's deflate data, after what
    /// was written before it; the stream disposes of the copy. The data is checked on a worker thread: unless it
    /// inflates to exactly the file's bytes, the member is the file compressed here.
    /// </summary>
    public async ValueTask WriteCopyAsync(DeflatedCopy copy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(copy);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            copy.Dispose();
            throw new InvalidOperationException("The gzip stream is finished.");
        }

        try
        {
            if (_filling is { Length: > 0 })
            {
                await SubmitAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
            }

            while (_inFlight.Count >= MaxBlocksInFlight)
            {
                await WriteOldestAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            copy.Dispose();
            throw;
        }

        var block = _free.Count > 0 ? _free.Pop() : new Block();
        block.Prefix = _memberOpen ? EndMember(withHeader: false) : null;
        block.Copy = copy;
        _memberOpen = false;
        _crc.Reset();
        _memberLength = 0;
        _inputLength += copy.Length;
        block.Compressing = Task.Run(() => CompressAsync(block, cancellationToken), cancellationToken);
        _inFlight.Enqueue(block);
    }

    public override void Flush()
    {
        // Blocks are written whole, in order, as they complete; a partial block cannot be flushed without changing the output.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;

            // Not finished means abandoned (a failure): let the workers end, write nothing more.
            foreach (var block in _inFlight)
            {
                try
                {
                    block.Compressing?.Wait();
                }
                catch (AggregateException)
                {
                    // The failure that abandoned the stream is already on its way.
                }

                block.Copy?.Dispose();
            }

            _inFlight.Clear();
            _workers.Dispose();
            _crc.Reset();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        Dispose(disposing: true);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private int Fill(ReadOnlySpan<byte> source)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            throw new InvalidOperationException("The gzip stream is finished.");
        }

        if (_filling is null)
        {
            _filling = _free.Count > 0 ? _free.Pop() : new Block();

            // The first block of a member carries its header.
            _filling.Prefix = _memberOpen ? null : Header;
            _memberOpen = true;
        }

        var taken = Math.Min(source.Length, BlockSize - _filling.Length);
        source[..taken].CopyTo(_filling.Input.AsSpan(_filling.Length));
        _filling.Length += taken;
        return taken;
    }

    private async ValueTask SubmitAsync(bool synchronous, CancellationToken cancellationToken)
    {
        var block = _filling!;
        _filling = null;
        _crc.Append(block.Input.AsSpan(0, block.Length));
        _memberLength += block.Length;
        _inputLength += block.Length;
        block.Compressing = Task.Run(() => CompressAsync(block, cancellationToken), cancellationToken);
        _inFlight.Enqueue(block);
        while (_inFlight.Count >= MaxBlocksInFlight || (_inFlight.TryPeek(out var oldest) && oldest.Compressing!.IsCompleted))
        {
            await WriteOldestAsync(synchronous, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CompressAsync(Block block, CancellationToken cancellationToken)
    {
        await _workers.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (block.Copy is { } copy)
            {
                EncodeCopy(copy, block.Output);
            }
            else
            {
                Encode(block);
            }
        }
        finally
        {
            _workers.Release();
        }
    }

    // The block's bytes as deflate data that ends on a byte boundary, in its Output; how, the probe decides.
    private void Encode(Block block)
    {
        block.Output.SetLength(0);
        var input = block.Input.AsSpan(0, block.Length);
        Span<long> byteCounts = stackalloc long[256];
        switch (BlockProbe.Choose(input, byteCounts))
        {
            case BlockEncoding.Stored:
                BlockProbe.WriteStored(input, block.Output);
                break;
            case BlockEncoding.HuffmanOnly:
                HuffmanOnlyDeflate.Write(input, byteCounts, block.Output);
                break;
            default:
                var deflate = new DeflateStream(block.Output, _level, leaveOpen: true);
                try
                {
                    deflate.Write(input);

                    // A sync flush: the data so far, then an empty stored block (00 00 ff ff), byte-aligned.
                    deflate.Flush();
                    block.CompressedLength = checked((int)block.Output.Length);
                }
                finally
                {
                    // Disposing appends a final block after CompressedLength; those bytes are not used.
                    deflate.Dispose();
                }

                return;
        }

        block.CompressedLength = checked((int)block.Output.Length);
    }

    // The copy as a whole gzip member: header, the copied deflate data and a trailer with the file's CRC-32 and
    // length, once the member inflates to the file's bytes (written from the archive then); else the file deflated
    // here, into output.
    private void EncodeCopy(DeflatedCopy copy, MemoryStream output)
    {
        output.SetLength(0);
        copy.Check(Header);
        copy.Sources?.Record(copy.FilePath, copy.Length, copy.Verified);
        if (!copy.Verified)
        {
            copy.CompressInto(output, Header, _level);
        }
    }

    // The final empty block, the member's CRC-32 and length; with withHeader, an empty member's header before them.
    private byte[] EndMember(bool withHeader)
    {
        var start = withHeader ? Header.Length : 0;
        var bytes = new byte[start + FinalBlock.Length + 8];
        if (withHeader)
        {
            Header.CopyTo(bytes, 0);
        }

        FinalBlock.CopyTo(bytes, start);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(start + FinalBlock.Length), _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(start + FinalBlock.Length + 4), unchecked((uint)_memberLength));
        return bytes;
    }

    private async ValueTask WriteOldestAsync(bool synchronous, CancellationToken cancellationToken)
    {
        var block = _inFlight.Peek();
        if (synchronous)
        {
            block.Compressing!.GetAwaiter().GetResult();
        }
        else
        {
            await block.Compressing!.ConfigureAwait(false);
        }

        _inFlight.Dequeue();
        if (block.Prefix is { } prefix)
        {
            await WriteAsync(prefix, synchronous, cancellationToken).ConfigureAwait(false);
        }

        if (block.Copy is { } copy)
        {
            try
            {
                if (copy.Verified)
                {
                    await WriteAsync(Header, synchronous, cancellationToken).ConfigureAwait(false);
                    await copy.WriteDataAsync(_output, synchronous, cancellationToken).ConfigureAwait(false);
                    await WriteAsync(copy.Trailer, synchronous, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await WriteAsync(block.Output.GetBuffer().AsMemory(0, (int)block.Output.Length), synchronous, cancellationToken).ConfigureAwait(false);

                    // A whole file compressed here may have grown the block's buffer far beyond a block; let it go.
                    block.Output.SetLength(0);
                    block.Output.Capacity = Block.OutputCapacity;
                }
            }
            finally
            {
                copy.Dispose();
            }
        }
        else
        {
            await WriteAsync(block.Output.GetBuffer().AsMemory(0, block.CompressedLength), synchronous, cancellationToken).ConfigureAwait(false);
        }

        block.Length = 0;
        block.Compressing = null;
        block.Prefix = null;
        block.Copy = null;
        _free.Push(block);
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, bool synchronous, CancellationToken cancellationToken)
    {
        if (synchronous)
        {
            _output.Write(bytes.Span);
        }
        else
        {
            await _output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Block
    {
        // Deflate of incompressible data grows it by a few bytes per 16 KiB; the sync flush and the unused final block add a few more.
        public const int OutputCapacity = BlockSize + (BlockSize / 64) + 64;

        public byte[] Input { get; } = new byte[BlockSize];

        public MemoryStream Output { get; } = new(OutputCapacity);

        // Written before the block's own bytes: a member's header, or the end of the member before a copied file.
        public byte[]? Prefix { get; set; }

        // A file written as a member of its own from deflate data copied from a package.
        public DeflatedCopy? Copy { get; set; }

        public int Length { get; set; }

        public int CompressedLength { get; set; }

        public Task? Compressing { get; set; }
    }
}
