using System.Formats.Tar;
using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Layers;

namespace Containers.Oci.Tests.Layers;

[TestClass]
public sealed class LayerReaderTests
{
    [TestMethod]
    [DataRow(MediaTypes.OciLayer, LayerCompression.None)]
    [DataRow(MediaTypes.OciLayerGzip, LayerCompression.Gzip)]
    [DataRow(MediaTypes.OciLayerZstd, LayerCompression.Zstd)]
    [DataRow(MediaTypes.OciLayerNonDistributable, LayerCompression.None)]
    [DataRow(MediaTypes.OciLayerNonDistributableGzip, LayerCompression.Gzip)]
    [DataRow(MediaTypes.OciLayerNonDistributableZstd, LayerCompression.Zstd)]
    [DataRow(MediaTypes.DockerLayerGzip, LayerCompression.Gzip)]
    [DataRow(MediaTypes.DockerForeignLayerGzip, LayerCompression.Gzip)]
    public async Task Every_layer_media_type_is_read_and_verified(string mediaType, LayerCompression compression)
    {
        using var files = new TemporaryDirectory();
        var source = files.WriteFile("hello.txt", "hello, layer\n");
        var plan = LayerPlan.Empty.AddFile(source, "/app/hello.txt").AddSymlink("/app/link", "hello.txt");
        var (result, bytes) = await LayerWriterTests.WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = compression });
        var layer = InMemoryLayer(result.Descriptor with { MediaType = mediaType }, result.DiffId, bytes);

        var entries = new List<(string Path, TarEntryType Type, string Content, string Link)>();
        await foreach (var entry in LayerReader.ReadEntriesAsync(layer))
        {
            var content = entry.Content is null ? "" : await new StreamReader(entry.Content).ReadToEndAsync();
            entries.Add((entry.Path, entry.Type, content, entry.LinkTarget));
        }

        CollectionAssert.AreEqual(
            new[]
            {
                ("app", TarEntryType.Directory, "", ""),
                ("app/hello.txt", TarEntryType.RegularFile, "hello, layer\n", ""),
                ("app/link", TarEntryType.SymbolicLink, "", "hello.txt"),
            },
            entries);
        await LayerReader.VerifyAsync(layer);
    }

    [TestMethod]
    public async Task A_tar_made_by_gnu_tar_is_read_with_names_normalized_and_whiteouts_recognized()
    {
        var tarTool = LayerTestFiles.RequireTool("tar", "tar");
        using var files = new TemporaryDirectory();
        files.WriteFile("root/etc/app.conf", "key=value\n");
        files.WriteFile("root/etc/.wh.old.conf", "");
        files.WriteFile("root/var/cache/.wh..wh..opq", "");
        var blob = files.Combine("layer.tar.gz");
        await LayerTestFiles.RunCheckedAsync(tarTool, "-C", files.Combine("root"), "--format=pax", "-czf", blob, ".");
        var bytes = await File.ReadAllBytesAsync(blob);
        await using var tar = LayerStreams.Decompress(new MemoryStream(bytes), LayerCompression.Gzip);
        var diffId = await Digest.ComputeAsync(tar);
        var layer = InMemoryLayer(new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Compute(bytes), Size = bytes.Length }, diffId, bytes);

        var entries = new Dictionary<string, LayerReaderEntry>();
        var contents = new Dictionary<string, string>();
        await using (var reader = await LayerReader.OpenAsync(layer))
        {
            while (await reader.ReadNextAsync() is { } entry)
            {
                entries[entry.Path] = entry;
                if (entry.Content is not null)
                {
                    contents[entry.Path] = await new StreamReader(entry.Content).ReadToEndAsync();
                }
            }
        }

        Assert.IsTrue(entries.ContainsKey(""), "the './' entry normalizes to the root");
        Assert.AreEqual("./etc/app.conf", entries["etc/app.conf"].Name);
        Assert.AreEqual("key=value\n", contents["etc/app.conf"]);
        Assert.IsTrue(entries["etc/.wh.old.conf"].IsWhiteout);
        Assert.IsFalse(entries["etc/.wh.old.conf"].IsOpaqueWhiteout);
        Assert.IsTrue(entries["var/cache/.wh..wh..opq"].IsOpaqueWhiteout);
        Assert.IsFalse(entries["etc/app.conf"].IsWhiteout);
        await LayerReader.VerifyAsync(layer);
    }

    [TestMethod]
    [DataRow(LayerCompression.Gzip)]
    [DataRow(LayerCompression.Zstd)]
    public async Task Verify_detects_a_corrupted_blob(LayerCompression compression)
    {
        var (result, bytes) = await WriteSampleAsync(compression);
        bytes[bytes.Length / 2] ^= 0x01;

        var error = await Assert.ThrowsAsync<OciException>(() => LayerReader.VerifyAsync(InMemoryLayer(result.Descriptor, result.DiffId, bytes)));

        Assert.Contains(result.Descriptor.Digest.ToString(), error.Message);
    }

    [TestMethod]
    public async Task Verify_detects_a_blob_that_does_not_match_its_digest_even_when_it_decompresses()
    {
        var (result, bytes) = await WriteSampleAsync(LayerCompression.Gzip);
        var (other, _) = await WriteSampleAsync(LayerCompression.Zstd);

        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() =>
            LayerReader.VerifyAsync(InMemoryLayer(result.Descriptor with { Digest = other.Descriptor.Digest }, result.DiffId, bytes)));

        var (claimed, hashed) = (error.Expected, error.Actual);
        Assert.AreEqual(other.Descriptor.Digest, claimed);
        Assert.AreEqual(result.Descriptor.Digest, hashed);
    }

    [TestMethod]
    public async Task Verify_detects_a_wrong_diff_id()
    {
        var (result, bytes) = await WriteSampleAsync(LayerCompression.Gzip);
        var wrongDiffId = Digest.Compute("another tar"u8);

        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => LayerReader.VerifyAsync(InMemoryLayer(result.Descriptor, wrongDiffId, bytes)));

        var (claimed, hashed) = (error.Expected, error.Actual);
        Assert.AreEqual(wrongDiffId, claimed);
        Assert.AreEqual(result.DiffId, hashed);
        Assert.Contains("diff id", error.Message);
    }

    [TestMethod]
    public async Task Verify_detects_a_wrong_size()
    {
        var (result, bytes) = await WriteSampleAsync(LayerCompression.Zstd);

        var error = await Assert.ThrowsExactlyAsync<OciException>(() => LayerReader.VerifyAsync(InMemoryLayer(result.Descriptor with { Size = result.Descriptor.Size + 1 }, result.DiffId, bytes)));

        Assert.Contains($"{bytes.Length} bytes but its descriptor says {bytes.Length + 1}", error.Message);
    }

    [TestMethod]
    public void A_non_layer_media_type_is_refused_naming_it()
    {
        var error = Assert.ThrowsExactly<OciException>(() => LayerReader.Open(new MemoryStream(), MediaTypes.OciConfig));

        Assert.Contains(MediaTypes.OciConfig, error.Message);
    }

    [TestMethod]
    public async Task Garbage_is_reported_as_an_unreadable_layer()
    {
        var garbage = Encoding.ASCII.GetBytes(new string('x', 2048));
        await using var reader = LayerReader.Open(new MemoryStream(garbage), MediaTypes.OciLayer);

        var error = await Assert.ThrowsExactlyAsync<OciException>(() => reader.ReadNextAsync());

        Assert.Contains("not a readable tar", error.Message);
    }

    private static async Task<(LayerWriteResult Result, byte[] Bytes)> WriteSampleAsync(LayerCompression compression)
    {
        using var files = new TemporaryDirectory();
        LayerTestFiles.WriteSampleApp(files, alternateHostModes: false);
        return await LayerWriterTests.WriteToMemoryAsync(LayerPlan.Empty.AddDirectoryTree(files.Path, "/app"), new LayerWriteOptions { Compression = compression });
    }

    private static StoredLayer InMemoryLayer(Descriptor descriptor, Digest diffId, byte[] bytes) =>
        new(descriptor, diffId, _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)));
}
