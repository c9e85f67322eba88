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
