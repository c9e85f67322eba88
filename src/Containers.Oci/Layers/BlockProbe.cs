using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Containers.Oci.Layers;

/// <summary>How <see cref="BlockGzipStream"/> encodes one block.</summary>
internal enum BlockEncoding
{
    /// <summary>Deflate at the stream's level: matches and Huffman codes.</summary>
    Deflate,

    /// <summary>Huffman codes only (zlib's <c>Z_HUFFMAN_ONLY</c>): no match search, which found next to nothing.</summary>
    HuffmanOnly,

    /// <summary>Stored deflate blocks: the bytes as they are, which neither matches nor codes would shrink.</summary>
    Stored,
}

/// <summary>
/// Looks at a block's bytes, and only at them, to choose its <see cref="BlockEncoding"/>: deflate spends as long on a
/// block its match search cannot shrink as on any other (zlib-ng at level 6: about 46 MB/s on random bytes and on
/// base64 text on this project's machine) to emit what Huffman codes alone (about 170 MB/s) or a copy would.
/// </summary>
/// <remarks>
/// <para>
/// The probe hashes the 5 bytes at every offset of the block and finds which of them occurred within the 32 KiB
/// before (deflate's window), counting the bytes those matches cover. When they cover at most 1% of the block
/// (<see cref="MaximumMatchedShare"/>), matches could save at most that much, and the block is not searched for them:
/// it is <see cref="BlockEncoding.Stored"/> when its byte frequencies are nearly flat too (an order-0 entropy of at
/// least <see cref="MinimumStoredEntropy"/> bits per byte, so codes could save at most 0.25%: compressed media,
/// archives, encrypted or random bytes), else <see cref="BlockEncoding.HuffmanOnly"/> (base64 or hex of such bytes,
/// numeric data). Anything else, which is almost every block of code, text or assemblies, is deflated as before.
/// </para>
/// <para>
/// Most blocks are settled by their first 16 KiB: when matches cover more than 1% of those, the block is deflated
/// without probing the rest, which costs about 1% of deflating it. The choice depends on the block's bytes alone,
/// never on the machine or the thread that makes it, so a layer's digest still depends on its content only.
/// </para>
/// </remarks>
internal static class BlockProbe
{
    /// <summary>Matches of 5 bytes or more cover at most 1 / this of a block that is not deflated: 1%.</summary>
    public const int MaximumMatchedShare = 100;

    /// <summary>The order-0 entropy (bits per byte) from which a block without matches is stored.</summary>
    public const double MinimumStoredEntropy = 7.98;

    /// <summary>The shortest match counted (deflate's shortest is 3, but 3 and 4 byte matches barely pay for themselves).</summary>
    public const int MatchLength = 5;

    private const int PrefixLength = 16 * 1024;
    private const int Window = 32 * 1024;
    private const int PrefixHashBits = 14;
    private const int BlockHashBits = 16;

    // A slot holds an offset (high 32 bits) and 32 more bits of its hash; empty slots hold an offset far before any block.
    private const ulong Empty = 0xC000_0000UL << 32;

    // The lookup table, 512 KiB per compressing thread, cleared for every block (a block's choice never depends on another).
    [ThreadStatic]
    private static ulong[]? s_table;

    /// <summary>
    /// Chooses how to encode <paramref name="block"/> (see the remarks). For <see cref="BlockEncoding.Stored"/> and
    /// <see cref="BlockEncoding.HuffmanOnly"/>, <paramref name="byteCounts"/> (256 entries) holds how often each byte
    /// value occurs in the block, which <see cref="HuffmanOnlyDeflate.Write"/> builds its code from.
    /// </summary>
    public static BlockEncoding Choose(ReadOnlySpan<byte> block, Span<long> byteCounts)
    {
        if (block.Length < PrefixLength)
        {
            return BlockEncoding.Deflate;
        }

        var table = s_table ??= new ulong[1 << BlockHashBits];
        var prefix = block[..PrefixLength];
        if (MatchedBytes(prefix, table.AsSpan(0, 1 << PrefixHashBits), PrefixHashBits, prefix.Length / MaximumMatchedShare) > prefix.Length / MaximumMatchedShare)
        {
            return BlockEncoding.Deflate;
        }

        if (MatchedBytes(block, table, BlockHashBits, block.Length / MaximumMatchedShare) > block.Length / MaximumMatchedShare)
        {
            return BlockEncoding.Deflate;
        }

        CountBytes(block, byteCounts);
        return Entropy(byteCounts, block.Length) >= MinimumStoredEntropy ? BlockEncoding.Stored : BlockEncoding.HuffmanOnly;
    }

    /// <summary>
    /// Writes <paramref name="block"/> to <paramref name="output"/> as non-final stored deflate blocks (each: a byte
    /// holding BFINAL 0 and BTYPE 00, LEN and its complement, then up to 65,535 bytes). The output starts and ends on a
    /// byte boundary, as a sync-flushed compressed block does.
    /// </summary>
    public static void WriteStored(ReadOnlySpan<byte> block, Stream output)
    {
        Span<byte> header = stackalloc byte[5];
        do
        {
            var length = Math.Min(block.Length, ushort.MaxValue);
            header[0] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(header[1..], (ushort)length);
            BinaryPrimitives.WriteUInt16LittleEndian(header[3..], (ushort)~length);
            output.Write(header);
            output.Write(block[..length]);
            block = block[length..];
        }
        while (!block.IsEmpty);
    }

    // Every offset's 5 bytes are looked up in a table of the latest offset with the same hash, then put in it. A slot
    // keeps 32 more bits of the hash (the first 4 bytes exactly; the slot bits also depend on the fifth), so a lookup
    // never reads the block again: a read at a random offset would be most of the cost. An evicted slot only misses a
    // match, which at worst leaves a block that matches would have shrunk by a little more than 1% undeflated. A match
    // covers the 5 bytes from its offset; bytes covered twice count once. Stops counting past the limit. One branch per
    // offset, rarely taken on the blocks that get this far.
    private static int MatchedBytes(ReadOnlySpan<byte> bytes, Span<ulong> table, int hashBits, int limit)
    {
        table.Fill(Empty);
        ref var start = ref MemoryMarshal.GetReference(bytes);
        var covered = 0;
        var coveredUntil = 0;
        for (var offset = 0; offset + sizeof(ulong) <= bytes.Length; offset++)
        {
            // The low 5 bytes of the 8 at the offset (little-endian), multiplied so the high bits mix all of them.
            var hash = (Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset)) << 24) * 0x9E3779B97F4A7C15UL;
            var slot = (int)(hash >> (64 - hashBits));
            var check = (uint)(hash >> 24);
            var entry = table[slot];
            table[slot] = ((ulong)(uint)offset << 32) | check;
            if (((uint)(offset - (int)(entry >> 32) - 1) < Window) & ((uint)entry == check))
            {
                covered += MatchLength - Math.Clamp(coveredUntil - offset, 0, MatchLength);
                coveredUntil = offset + MatchLength;
                if (covered > limit)
                {
                    return covered;
                }
            }
        }

        return covered;
    }

    /// <summary>Counts each byte value of <paramref name="bytes"/> into <paramref name="counts"/> (256 entries).</summary>
    private static void CountBytes(ReadOnlySpan<byte> bytes, Span<long> counts)
    {
        // Four tables, so that runs of one byte value do not serialize on one counter.
        Span<int> partial = stackalloc int[4 * 256];
        partial.Clear();
        var i = 0;
        for (; i + 4 <= bytes.Length; i += 4)
        {
            partial[bytes[i]]++;
            partial[256 + bytes[i + 1]]++;
            partial[512 + bytes[i + 2]]++;
            partial[768 + bytes[i + 3]]++;
        }

        for (; i < bytes.Length; i++)
        {
            partial[bytes[i]]++;
        }

        for (var value = 0; value < 256; value++)
        {
            counts[value] = partial[value] + partial[256 + value] + partial[512 + value] + partial[768 + value];
        }
    }

    private static double Entropy(ReadOnlySpan<long> counts, int total)
    {
        var entropy = 0.0;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                var p = (double)count / total;
                entropy -= p * Math.Log2(p);
            }
        }

        return entropy;
    }
}
