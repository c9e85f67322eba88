using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Containers.Oci.Digests;
using Containers.Oci.Layers;

namespace Containers.Oci.Tests.Layers;

/// <summary>
/// Block-parallel gzip: one valid gzip stream whatever the input's length, read back by .NET's GZipStream, GNU gzip
/// and pigz; the same bytes for every thread count and whether written synchronously or not.
/// </summary>
[TestClass]
public sealed class BlockGzipStreamTests
{
    private const int Block = BlockGzipStream.BlockSize;

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(Block - 1)]
    [DataRow(Block)]
    [DataRow(Block + 1)]
    [DataRow((3 * Block) + 12_345)]
    public async Task Any_length_gives_one_gzip_stream_that_gzip_pigz_and_GZipStream_read_back(int length)
    {
        var input = MixedContent(length, seed: length);

        var oneThread = await CompressAsync(input, workers: 1, chunk: 10_007);
        var threeThreads = await CompressAsync(input, workers: 3, chunk: 65_536);
        var synchronous = Compress(input, workers: 2, chunk: 3_001);

        CollectionAssert.AreEqual(oneThread, threeThreads, "the thread count changes the bytes");
        CollectionAssert.AreEqual(oneThread, synchronous, "synchronous writes change the bytes");
        CollectionAssert.AreEqual(input, Decompress(oneThread));

        using var files = new TemporaryDirectory();
        var original = files.WriteFile("input.bin", input);
        var compressed = files.WriteFile("input.bin.gz", oneThread);
        await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("gzip", "gzip"), "-t", compressed);
        await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("pigz", "pigz"), "-t", compressed);
        await LayerTestFiles.RunCheckedAsync("/bin/sh", "-c", $"gzip -dc '{compressed}' | cmp - '{original}'");
    }

    [TestMethod]
    public async Task Header_is_fixed_and_trailer_is_an_empty_final_block_then_crc32_and_length()
    {
        var input = MixedContent((2 * Block) + 100, seed: 1);

        var bytes = await CompressAsync(input, workers: 2, chunk: 100_000);

        CollectionAssert.AreEqual(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff }, bytes[..10], "no name, no time, OS unknown");
        CollectionAssert.AreEqual(new byte[] { 0x03, 0x00 }, bytes[^10..^8], "the final block is an empty fixed-Huffman block");
        Assert.AreEqual(Crc32.HashToUInt32(input), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8)));
        Assert.AreEqual((uint)input.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)));
    }

    [TestMethod]
    public async Task Text_compresses_within_two_percent_of_single_stream_gzip()
    {
        var text = TextContent(4 * 1024 * 1024, seed: 11);
        using var single = new MemoryStream();
        using (var gzip = new GZipStream(single, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(text);
        }

        var blocks = await CompressAsync(text, workers: 2, chunk: 256 * 1024);

        var ratio = (double)blocks.Length / single.Length;
        Assert.IsLessThan(1.02, ratio, $"block-parallel {blocks.Length:N0} bytes against single-stream {single.Length:N0}");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    public async Task A_layer_of_several_blocks_has_the_same_digest_for_every_thread_count(int threads)
    {
        using var files = new TemporaryDirectory();
        files.WriteFile("random.bin", MixedContent(5 * Block, seed: 5));
        files.WriteFile("text/a.txt", TextContent(3 * Block, seed: 6));
        files.WriteFile("text/b.txt", TextContent(Block / 3, seed: 7));
        var plan = LayerPlan.Empty.AddDirectoryTree(files.Path, "/data");
        var reference = await LayerWriterTests.WriteToMemoryAsync(plan, new LayerWriteOptions { GzipThreads = 1 });

        var (result, bytes) = await LayerWriterTests.WriteToMemoryAsync(plan, new LayerWriteOptions { GzipThreads = threads });

        Assert.AreEqual(reference.Result.Descriptor, result.Descriptor);
        Assert.AreEqual(Digest.Compute(bytes), result.Descriptor.Digest);
        Assert.AreEqual(result.DiffId, Digest.Compute(Decompress(bytes)), "the blob decompresses to the tar the diff id names");
    }

    [TestMethod]
    public async Task Blocks_deflate_cannot_shrink_are_stored_and_every_reader_reads_them()
    {
        const int storedPerBlock = 5;
        var random = RandomBytes(4 * Block, seed: 21);

        var bytes = await CompressAsync(random, workers: 2, chunk: 50_000);

        // Each 256 KiB block is five stored blocks (4 x 65,535 bytes and 4 bytes), five bytes of header each.
        Assert.AreEqual(10 + (4 * (Block + (storedPerBlock * 5))) + 2 + 8, bytes.Length, "random blocks are stored, not deflated");
        CollectionAssert.AreEqual(new byte[] { 0x00, 0xff, 0xff, 0x00, 0x00 }, bytes[10..15], "a non-final stored block of 65,535 bytes");
        CollectionAssert.AreEqual(random, Decompress(bytes));
        CollectionAssert.AreEqual(bytes, await CompressAsync(random, workers: 1, chunk: Block), "the thread count changes the bytes");
        CollectionAssert.AreEqual(bytes, Compress(random, workers: 3, chunk: 4_097), "synchronous writes change the bytes");

        // Stored and deflated blocks side by side, and a last block too short to be tested (deflated).
        var mixed = TextContent(Block, seed: 22).Concat(random[..(2 * Block)]).Concat(TextContent(Block / 2, seed: 23)).Concat(random[..1000]).ToArray();
        var mixedBytes = await CompressAsync(mixed, workers: 2, chunk: 65_536);
        CollectionAssert.AreEqual(mixed, Decompress(mixedBytes));
        using var files = new TemporaryDirectory();
        foreach (var (name, input, compressed) in new[] { ("random", random, bytes), ("mixed", mixed, mixedBytes) })
        {
            var original = files.WriteFile(name, input);
            var gz = files.WriteFile(name + ".gz", compressed);
            await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("gzip", "gzip"), "-t", gz);
            await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("pigz", "pigz"), "-t", gz);
            await LayerTestFiles.RunCheckedAsync("/bin/sh", "-c", $"gzip -dc '{gz}' | cmp - '{original}'");
        }
    }

    [TestMethod]
    public void Only_blocks_without_matches_skip_the_match_search_and_only_flat_ones_are_stored()
    {
        Assert.AreEqual(BlockEncoding.Stored, Choose(RandomBytes(Block, seed: 31)), "random bytes");
        Assert.AreEqual(BlockEncoding.Stored, Choose(RandomBytes(16 * 1024, seed: 32)), "16 KiB of random bytes, the shortest block probed");
        Assert.AreEqual(BlockEncoding.Deflate, Choose(RandomBytes((16 * 1024) - 1, seed: 33)), "shorter blocks are deflated");
        Assert.AreEqual(BlockEncoding.Deflate, Choose(TextContent(Block, seed: 34)), "text");
        Assert.AreEqual(BlockEncoding.HuffmanOnly, Choose(Base64(Block, seed: 35)), "base64 of random bytes: 6 bits per byte, no matches");

        // 200 of 256 byte values, evenly: 7.64 bits per byte, which Huffman codes shrink by about 4%.
        var narrow = RandomBytes(Block, seed: 36);
        for (var i = 0; i < narrow.Length; i++)
        {
            narrow[i] = (byte)(narrow[i] % 200);
        }

        Assert.AreEqual(BlockEncoding.HuffmanOnly, Choose(narrow), "uneven byte frequencies, no matches");

        // Flat frequencies, but every 32 KiB repeats the first: matches 32 KiB back (deflate's window) shrink it eightfold.
        var tile = RandomBytes(32 * 1024, seed: 37);
        Assert.AreEqual(BlockEncoding.Deflate, Choose(Enumerable.Repeat(tile, Block / tile.Length).SelectMany(bytes => bytes).ToArray()), "repeats within the window");

        // Random bytes with one 4 KiB stretch repeated 1 KiB later (1.6% of the block), then with a 2 KiB one (0.8%).
        var repeat = RandomBytes(Block, seed: 38);
        repeat.AsSpan(100_000, 4096).CopyTo(repeat.AsSpan(105_120));
        Assert.AreEqual(BlockEncoding.Deflate, Choose(repeat), "a repeat covering 1.6%");
        var smallRepeat = RandomBytes(Block, seed: 38);
        smallRepeat.AsSpan(100_000, 2048).CopyTo(smallRepeat.AsSpan(103_072));
        Assert.AreEqual(BlockEncoding.Stored, Choose(smallRepeat), "a repeat covering 0.8%");

        // The first 16 KiB are random, the rest text: the whole block is probed and deflated.
        var late = TextContent(Block, seed: 39);
        RandomBytes(16 * 1024, seed: 40).CopyTo(late, 0);
        Assert.AreEqual(BlockEncoding.Deflate, Choose(late), "text after a random prefix");
    }

    [TestMethod]
    public async Task Blocks_without_matches_compress_as_well_as_deflate_does_and_read_back()
    {
        var base64 = Base64(3 * Block, seed: 41);
        using var single = new MemoryStream();
        using (var gzip = new GZipStream(single, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(base64);
        }

        var bytes = await CompressAsync(base64, workers: 2, chunk: 100_000);

        Assert.IsLessThan(1.002, (double)bytes.Length / single.Length, $"Huffman codes only: {bytes.Length:N0} bytes against single-stream deflate's {single.Length:N0}");
        CollectionAssert.AreEqual(base64, Decompress(bytes));
        CollectionAssert.AreEqual(bytes, Compress(base64, workers: 1, chunk: 7_777), "the thread count changes the bytes");
        using var files = new TemporaryDirectory();
        var gz = files.WriteFile("base64.gz", bytes);
        await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("gzip", "gzip"), "-t", gz);
        await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("pigz", "pigz"), "-t", gz);
    }

    [TestMethod]
    public void Huffman_only_blocks_with_skewed_byte_counts_get_codes_of_at_most_15_bits_that_inflate_back()
    {
        // Byte counts along the Fibonacci sequence make the deepest Huffman tree: 24 symbols would need 23 bits.
        var counts = new long[257];
        long previous = 1, current = 1;
        for (var value = 0; value < 24; value++)
        {
            counts[value] = current;
            (previous, current) = (current, previous + current);
        }

        counts[256] = 1;
        var lengths = new byte[257];
        HuffmanOnlyDeflate.CodeLengths(counts, 15, lengths);

        Assert.IsTrue(lengths.Max() <= 15, $"longest code {lengths.Max()} bits");
        Assert.AreEqual(1.0, lengths.Where(length => length > 0).Sum(length => Math.Pow(2, -length)), 1e-12, "the code is complete (Kraft sum 1)");
        Assert.IsTrue(counts.Select((count, symbol) => count == 0 || lengths[symbol] > 0).All(used => used), "every counted symbol has a code");

        // A block with those byte frequencies (a few of the rarest once) round-trips through deflate's reader.
        var block = new List<byte>();
        for (var value = 0; value < 24; value++)
        {
            block.AddRange(Enumerable.Repeat((byte)value, (int)Math.Min(counts[value], 40_000)));
        }

        var input = block.ToArray();
        new Random(42).Shuffle(input);
        using var output = new MemoryStream();
        HuffmanOnlyDeflate.Write(input, ByteCounts(input), output);
        output.Write([0x03, 0x00]); // a final empty block ends the deflate stream
        output.Position = 0;
        using var inflate = new DeflateStream(output, CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        inflate.CopyTo(inflated);
        CollectionAssert.AreEqual(input, inflated.ToArray());
    }

    [TestMethod]
    public async Task An_empty_layer_is_a_valid_gzip_stream()
    {
        var (result, bytes) = await LayerWriterTests.WriteToMemoryAsync(LayerPlan.Empty, new LayerWriteOptions());

        var tar = Decompress(bytes);
        Assert.AreEqual(result.DiffId, Digest.Compute(tar));
        Assert.AreEqual(result.UncompressedSize, tar.Length);
        using var files = new TemporaryDirectory();
        await LayerTestFiles.RunCheckedAsync(LayerTestFiles.RequireTool("gzip", "gzip"), "-t", files.WriteFile("empty.tar.gz", bytes));
    }

    private static async Task<byte[]> CompressAsync(byte[] input, int workers, int chunk)
    {
        using var output = new MemoryStream();
        await using (var gzip = new BlockGzipStream(output, CompressionLevel.Optimal, workers))
        {
            for (var offset = 0; offset < input.Length; offset += chunk)
            {
                await gzip.WriteAsync(input.AsMemory(offset, Math.Min(chunk, input.Length - offset)));
            }

            await gzip.FinishAsync(CancellationToken.None);
        }

        return output.ToArray();
    }

    private static byte[] Compress(byte[] input, int workers, int chunk)
    {
        using var output = new MemoryStream();
        using (var gzip = new BlockGzipStream(output, CompressionLevel.Optimal, workers))
        {
            for (var offset = 0; offset < input.Length; offset += chunk)
            {
                gzip.Write(input, offset, Math.Min(chunk, input.Length - offset));
            }

            gzip.FinishAsync(CancellationToken.None).GetAwaiter().GetResult();
        }

        return output.ToArray();
    }

    private static byte[] Decompress(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    // Alternating runs of text and random bytes, so blocks differ in how well they compress.
    private static byte[] MixedContent(int length, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[length];
        var text = TextContent(length, seed);
        for (var offset = 0; offset < length; offset += 40_000)
        {
            var span = bytes.AsSpan(offset, Math.Min(40_000, length - offset));
            if (offset / 40_000 % 2 == 0)
            {
                text.AsSpan(offset, span.Length).CopyTo(span);
            }
            else
            {
                random.NextBytes(span);
            }
        }

        return bytes;
    }

    private static BlockEncoding Choose(byte[] block) => BlockProbe.Choose(block, new long[256]);

    private static long[] ByteCounts(byte[] bytes)
    {
        var counts = new long[256];
        foreach (var value in bytes)
        {
            counts[value]++;
        }

        return counts;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Base64(int length, int seed) =>
        Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomBytes(length, seed)))[..length];

    private static byte[] TextContent(int length, int seed)
    {
        string[] words = ["container", "layer", "digest", "manifest", "\"name\":", "{", "}", "<item>", "</item>", "public", "static", "return", "42", "null"];
        var random = new Random(seed);
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            text.Append(words[random.Next(words.Length)]).Append(random.Next(10) == 0 ? '\n' : ' ');
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }
}
