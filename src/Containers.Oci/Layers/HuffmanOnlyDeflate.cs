using System.Buffers.Binary;

namespace Containers.Oci.Layers;

/// <summary>
/// Encodes a block as one deflate block of literals under its own Huffman code (RFC 1951, 3.2.7, "compressed with
/// dynamic Huffman codes"), with no match search, then a sync flush: what zlib's <c>Z_HUFFMAN_ONLY</c> strategy does,
/// which .NET 8's <see cref="System.IO.Compression.DeflateStream"/> cannot be asked for. <see cref="BlockProbe"/>
/// chooses it for blocks in which matches would cover next to nothing.
/// </summary>
/// <remarks>
/// The block is: BFINAL 0, BTYPE 10; HLIT 0 (the 257 literal/length codes 0 to 256: bytes and end of block), HDIST 1
/// (two distance codes of one bit each, never used: zlib writes the same two, as some readers want a distance code);
/// the code lengths in the code-length alphabet (lengths 0 to 15 written as they are, without the run codes 16 to 18,
/// which would save about 100 bytes per 256 KiB); the bytes; end of block. A sync flush follows (an empty stored
/// block, <c>00 00 ff ff</c> after the bits are padded to a byte), so the next block starts on a byte boundary. The
/// code is a Huffman code of the block's byte counts, built with ties broken by symbol (and a symbol before a merged
/// node), and limited to 15 bits (7 for the code-length code) by halving the counts until it fits, so the bytes depend
/// on the input only.
/// </remarks>
internal static class HuffmanOnlyDeflate
{
    private const int EndOfBlock = 256;
    private const int LiteralCodes = 257;
    private const int MaxLiteralBits = 15;
    private const int MaxCodeLengthBits = 7;

    // The order RFC 1951 writes the code-length code's lengths in.
    private static readonly byte[] CodeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    /// <summary>
    /// Writes <paramref name="block"/> (not empty) to <paramref name="output"/> as described in the remarks;
    /// <paramref name="byteCounts"/> (256 entries) says how often each byte value occurs in it
    /// (<see cref="BlockProbe.Choose"/> has counted them).
    /// </summary>
    public static void Write(ReadOnlySpan<byte> block, ReadOnlySpan<long> byteCounts, Stream output)
    {
        ArgumentOutOfRangeException.ThrowIfZero(block.Length);

        // Everything lives on the stack: a block's encoding allocates nothing (the build's GC would otherwise let a
        // publish's working set grow by what thousands of blocks allocate before it collects).
        Span<long> counts = stackalloc long[LiteralCodes];
        byteCounts[..256].CopyTo(counts);
        counts[EndOfBlock] = 1;
        Span<byte> literalLengths = stackalloc byte[LiteralCodes];
        CodeLengths(counts, MaxLiteralBits, literalLengths);
        Span<uint> literalCodes = stackalloc uint[LiteralCodes];
        CanonicalCodes(literalLengths, literalCodes);

        // The lengths to send: 257 literal/length codes, then the two one-bit distance codes.
        Span<byte> sentLengths = stackalloc byte[LiteralCodes + 2];
        literalLengths.CopyTo(sentLengths);
        sentLengths[LiteralCodes] = 1;
        sentLengths[LiteralCodes + 1] = 1;
        Span<long> lengthCounts = stackalloc long[CodeLengthOrder.Length];
        lengthCounts.Clear();
        foreach (var length in sentLengths)
        {
            lengthCounts[length]++;
        }

        Span<byte> lengthLengths = stackalloc byte[CodeLengthOrder.Length];
        CodeLengths(lengthCounts, MaxCodeLengthBits, lengthLengths);
        Span<uint> lengthCodes = stackalloc uint[CodeLengthOrder.Length];
        CanonicalCodes(lengthLengths, lengthCodes);
        var lengthCodesSent = CodeLengthOrder.Length;
        while (lengthCodesSent > 4 && lengthLengths[CodeLengthOrder[lengthCodesSent - 1]] == 0)
        {
            lengthCodesSent--;
        }

        var bits = new BitWriter(output, stackalloc byte[BitWriter.BufferSize]);
        bits.Write(0, 1); // BFINAL
        bits.Write(2, 2); // BTYPE 10: dynamic Huffman codes
        bits.Write(LiteralCodes - 257, 5);
        bits.Write(2 - 1, 5);
        bits.Write((uint)(lengthCodesSent - 4), 4);
        for (var i = 0; i < lengthCodesSent; i++)
        {
            bits.Write(lengthLengths[CodeLengthOrder[i]], 3);
        }

        foreach (var length in sentLengths)
        {
            bits.Write(lengthCodes[length], lengthLengths[length]);
        }

        foreach (var value in block)
        {
            bits.Write(literalCodes[value], literalLengths[value]);
        }

        bits.Write(literalCodes[EndOfBlock], literalLengths[EndOfBlock]);

        // Sync flush: an empty, non-final stored block (3 bits), padding to a byte, LEN 0 and NLEN ffff.
        bits.Write(0, 3);
        bits.AlignToByte();
        bits.Write(0xffff_0000, 32);
        bits.Flush();
    }

    /// <summary>
    /// Writes Huffman code lengths for <paramref name="counts"/> (symbols counted 0 get none), at most
    /// <paramref name="maxBits"/> long, to <paramref name="lengths"/>.
    /// </summary>
    internal static void CodeLengths(ReadOnlySpan<long> counts, int maxBits, Span<byte> lengths)
    {
        Span<long> weights = stackalloc long[counts.Length];
        counts.CopyTo(weights);
        while (true)
        {
            HuffmanLengths(weights, lengths);
            var longest = 0;
            foreach (var length in lengths)
            {
                longest = Math.Max(longest, length);
            }

            if (longest <= maxBits)
            {
                return;
            }

            // Too deep: flatten the counts and build again (each used symbol keeps a count of at least 1).
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = weights[i] == 0 ? 0 : Math.Max(1, weights[i] / 2);
            }
        }
    }

    // Huffman's construction with two queues: the symbols sorted by (weight, symbol), and the merged nodes, which come
    // out in order of weight. Each step merges the two lightest fronts, a symbol before a merged node of equal weight,
    // so the tree (and the output) depends on the weights alone.
    private static void HuffmanLengths(ReadOnlySpan<long> weights, Span<byte> lengths)
    {
        lengths.Clear();
        Span<int> leaves = stackalloc int[weights.Length];
        var used = 0;
        for (var symbol = 0; symbol < weights.Length; symbol++)
        {
            if (weights[symbol] > 0)
            {
                leaves[used++] = symbol;
            }
        }

        leaves = leaves[..used];
        if (used == 1)
        {
            // One symbol still needs a one-bit code; a second one-bit code keeps the code complete, as readers want.
            lengths[leaves[0]] = 1;
            lengths[leaves[0] == 0 ? 1 : 0] = 1;
            return;
        }

        // Insertion sort by (weight, symbol): at most 257 symbols, already in symbol order.
        for (var i = 1; i < leaves.Length; i++)
        {
            var symbol = leaves[i];
            var j = i - 1;
            while (j >= 0 && weights[leaves[j]] > weights[symbol])
            {
                leaves[j + 1] = leaves[j];
                j--;
            }

            leaves[j + 1] = symbol;
        }

        // Nodes 0..used-1 are the sorted symbols, used.. the merged ones, in the order they are made.
        Span<long> nodeWeights = stackalloc long[(2 * used) - 1];
        Span<int> parents = stackalloc int[(2 * used) - 1];
        for (var i = 0; i < used; i++)
        {
            nodeWeights[i] = weights[leaves[i]];
        }

        int nextLeaf = 0, nextMerged = used, made = used;
        while (made < nodeWeights.Length)
        {
            var first = Lightest(nodeWeights, ref nextLeaf, used, ref nextMerged, made);
            var second = Lightest(nodeWeights, ref nextLeaf, used, ref nextMerged, made);
            nodeWeights[made] = nodeWeights[first] + nodeWeights[second];
            parents[first] = made;
            parents[second] = made;
            made++;
        }

        // The root is the last node made; depths follow from parents, which are always made later.
        Span<int> depths = stackalloc int[nodeWeights.Length];
        depths[^1] = 0;
        for (var node = nodeWeights.Length - 2; node >= 0; node--)
        {
            depths[node] = depths[parents[node]] + 1;
        }

        for (var i = 0; i < used; i++)
        {
            lengths[leaves[i]] = checked((byte)depths[i]);
        }
    }

    private static int Lightest(ReadOnlySpan<long> nodeWeights, ref int nextLeaf, int leafCount, ref int nextMerged, int made)
    {
        if (nextLeaf < leafCount && (nextMerged >= made || nodeWeights[nextLeaf] <= nodeWeights[nextMerged]))
        {
            return nextLeaf++;
        }

        return nextMerged++;
    }

    // Canonical codes (RFC 1951, 3.2.2), bit-reversed: deflate sends a Huffman code's first bit first, and the bit
    // writer sends a value's lowest bit first.
    private static void CanonicalCodes(ReadOnlySpan<byte> lengths, Span<uint> codes)
    {
        Span<int> lengthCounts = stackalloc int[16];
        lengthCounts.Clear();
        foreach (var length in lengths)
        {
            lengthCounts[length]++;
        }

        lengthCounts[0] = 0;
        Span<uint> nextCode = stackalloc uint[16];
        uint code = 0;
        for (var bits = 1; bits < 16; bits++)
        {
            code = (code + (uint)lengthCounts[bits - 1]) << 1;
            nextCode[bits] = code;
        }

        codes.Clear();
        for (var symbol = 0; symbol < lengths.Length; symbol++)
        {
            var length = lengths[symbol];
            if (length != 0)
            {
                codes[symbol] = Reverse(nextCode[length]++, length);
            }
        }
    }

    private static uint Reverse(uint code, int length)
    {
        uint reversed = 0;
        for (var i = 0; i < length; i++)
        {
            reversed = (reversed << 1) | ((code >> i) & 1);
        }

        return reversed;
    }

    /// <summary>Packs values into bytes lowest bit first, as deflate does, and writes them out a few KiB at a time.</summary>
    private ref struct BitWriter(Stream output, Span<byte> buffer)
    {
        public const int BufferSize = 4096;

        private readonly Stream _output = output;
        private readonly Span<byte> _buffer = buffer;
        private ulong _pending;
        private int _pendingBits;
        private int _written;

        public void Write(uint value, int count)
        {
            _pending |= (ulong)value << _pendingBits;
            _pendingBits += count;
            if (_pendingBits >= 32)
            {
                if (_written + sizeof(uint) > _buffer.Length)
                {
                    _output.Write(_buffer[.._written]);
                    _written = 0;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_written..], (uint)_pending);
                _written += sizeof(uint);
                _pending >>= 32;
                _pendingBits -= 32;
            }
        }

        public void AlignToByte() => Write(0, (8 - (_pendingBits % 8)) % 8);

        /// <summary>Writes out everything written so far; the bits must end on a byte boundary.</summary>
        public void Flush()
        {
            _output.Write(_buffer[.._written]);
            Span<byte> rest = stackalloc byte[sizeof(ulong)];
            var count = 0;
            for (; _pendingBits > 0; _pendingBits -= 8, _pending >>= 8)
            {
                rest[count++] = (byte)_pending;
            }

            _output.Write(rest[..count]);
            _written = 0;
        }
    }
}
