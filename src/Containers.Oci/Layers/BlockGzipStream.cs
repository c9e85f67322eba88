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
/// costs a little ratio (docs/layers.md gives the figure) and buys independence. At most
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
    private readonly Crc32 _crc = new();
    private Block? _filling;
    private long _length;
    private bool _headerWritten;
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
    public override long Position { get => _length; set => throw new NotSupportedException(); }

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

        await EnsureHeaderAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
        var trailer = new byte[FinalBlock.Length + 8];
        FinalBlock.CopyTo(trailer, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(FinalBlock.Length), _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(FinalBlock.Length + 4), unchecked((uint)_length));
        await _output.WriteAsync(trailer, cancellationToken).ConfigureAwait(false);
        _finished = true;
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

        _filling ??= _free.Count > 0 ? _free.Pop() : new Block();
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
        _length += block.Length;
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
            Encode(block);
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
        await EnsureHeaderAsync(synchronous, cancellationToken).ConfigureAwait(false);
        var compressed = block.Output.GetBuffer().AsMemory(0, block.CompressedLength);
        if (synchronous)
        {
            _output.Write(compressed.Span);
        }
        else
        {
            await _output.WriteAsync(compressed, cancellationToken).ConfigureAwait(false);
        }

        block.Length = 0;
        block.Compressing = null;
        _free.Push(block);
    }

    private async ValueTask EnsureHeaderAsync(bool synchronous, CancellationToken cancellationToken)
    {
        if (_headerWritten)
        {
            return;
        }

        _headerWritten = true;
        if (synchronous)
        {
            _output.Write(Header);
        }
        else
        {
            await _output.WriteAsync(Header, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Block
    {
        public byte[] Input { get; } = new byte[BlockSize];

        // Deflate of incompressible data grows it by a few bytes per 16 KiB; the sync flush and the unused final block add a few more.
        public MemoryStream Output { get; } = new(BlockSize + (BlockSize / 64) + 64);

        public int Length { get; set; }

        public int CompressedLength { get; set; }

        public Task? Compressing { get; set; }
    }
}
