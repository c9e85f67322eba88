using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;

namespace Containers.Oci.Tests.Layers;

/// <summary>
/// Gzip layers that copy the deflate data of files a zip archive (a NuGet package) holds already: the same tar, each
/// copied file a gzip member of its own, read by GNU tar, gzip and umoci; never a copy that does not inflate to the file.
/// </summary>
[TestClass]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DeflatedCopyTests
{
    private const string EntryDirectory = "runtimes/linux-x64/lib/net10.0/";
    private static readonly byte[] GzipHeader = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

    [TestMethod]
    public async Task Files_an_archive_has_deflated_are_copied_as_members_of_their_own_and_the_tar_is_unchanged()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var archive = WriteArchive(work.Combine("runtime.nupkg"), publish, "System.Text.dll", "native.so", "small.dll");

        var plain = await WriteAsync(publish, sources: null);
        var sources = new DeflatedFileSources([archive]);
        var copied = await WriteAsync(publish, sources);

        Assert.AreEqual(2, sources.CopiedFileCount);
        Assert.AreEqual(new FileInfo(Path.Combine(publish, "System.Text.dll")).Length + new FileInfo(Path.Combine(publish, "native.so")).Length, sources.CopiedBytes);
        Assert.IsEmpty(sources.RejectedFiles);
        Assert.AreEqual(plain.DiffId, copied.DiffId, "the tar is the same");
        Assert.AreNotEqual(plain.Digest, copied.Digest, "the blob is not");
        Assert.AreEqual(copied.DiffId, TarDigestOf(copied.Blob), "the blob inflates to the tar the diff id names");
        Assert.IsTrue(Contains(copied.Blob, DeflatedBytes(archive, "System.Text.dll")), "the package's deflate data is in the blob as it is");
        Assert.IsTrue(Contains(copied.Blob, DeflatedBytes(archive, "native.so")));
        Assert.IsFalse(Contains(copied.Blob, DeflatedBytes(archive, "small.dll")), "a file under 32 KiB is compressed with its neighbours");

        // One member for what comes before each copied file, one per copied file, one for the rest.
        Assert.AreEqual(5, CountMembers(copied.Blob));
    }

    [TestMethod]
    public async Task A_layer_with_copies_has_the_same_bytes_on_1_2_and_4_threads()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var sources = new DeflatedFileSources([WriteArchive(work.Combine("runtime.nupkg"), publish, "System.Text.dll", "native.so")]);

        var digests = new List<string>();
        foreach (var threads in new[] { 1, 2, 4 })
        {
            digests.Add((await WriteAsync(publish, sources, threads)).Digest);
        }

        Assert.AreEqual(1, digests.Distinct().Count(), string.Join(", ", digests));
    }

    [TestMethod]
    public async Task An_entry_whose_data_does_not_inflate_to_the_file_is_not_copied_even_with_its_size_and_crc()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var archive = WriteArchive(work.Combine("runtime.nupkg"), publish, "System.Text.dll");

        // The central directory keeps the file's size and CRC-32; the data in the middle is damaged.
        var data = DeflatedBytes(archive, "System.Text.dll");
        var bytes = File.ReadAllBytes(archive);
        bytes[IndexOf(bytes, data) + (data.Length / 2)] ^= 0x5a;
        File.WriteAllBytes(archive, bytes);
        var damaged = DeflatedBytes(archive, "System.Text.dll");

        var plain = await WriteAsync(publish, sources: null);
        var sources = new DeflatedFileSources([archive]);
        var written = await WriteAsync(publish, sources);

        CollectionAssert.AreEqual(new[] { Path.Combine(publish, "System.Text.dll") }, sources.RejectedFiles.ToArray(), "the publish says which file it compressed instead");
        Assert.AreEqual(0, sources.CopiedFileCount);
        Assert.AreEqual(plain.DiffId, written.DiffId);
        Assert.AreEqual(written.DiffId, TarDigestOf(written.Blob), "the blob is sound");
        Assert.IsFalse(Contains(written.Blob, damaged), "the damaged data is not in the blob");
    }

    [TestMethod]
    public async Task An_entry_with_the_name_and_size_but_other_bytes_leaves_the_blob_as_without_sources()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var other = work.Combine("other");
        Directory.CreateDirectory(other);
        var changed = File.ReadAllBytes(Path.Combine(publish, "System.Text.dll"));
        changed[100] ^= 1;
        File.WriteAllBytes(Path.Combine(other, "System.Text.dll"), changed);
        var archive = WriteArchive(work.Combine("other.nupkg"), other, "System.Text.dll");

        var plain = await WriteAsync(publish, sources: null);
        var written = await WriteAsync(publish, new DeflatedFileSources([archive]));

        Assert.AreEqual(plain.Digest, written.Digest);
    }

    [TestMethod]
    public async Task Archives_that_are_missing_or_not_zips_are_passed_over()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        File.WriteAllBytes(work.Combine("not-a-zip.nupkg"), new byte[100_000]);

        var plain = await WriteAsync(publish, sources: null);
        var written = await WriteAsync(publish, new DeflatedFileSources([work.Combine("not-a-zip.nupkg"), work.Combine("missing.nupkg")]));

        Assert.AreEqual(plain.Digest, written.Digest);
    }

    [TestMethod]
    public void A_file_that_changed_after_the_tar_writer_read_it_fails_the_layer_rather_than_mismatch_its_diff_id()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var archive = WriteArchive(work.Combine("runtime.nupkg"), publish, "System.Text.dll");
        var file = Path.Combine(publish, "System.Text.dll");
        var entry = ZipDeflatedEntry.ReadDirectory(archive).Single(e => e.FileName == "System.Text.dll");

        // The tar writer saw other bytes (another CRC-32) than the file now holds.
        using var copy = new DeflatedCopy(file, new FileInfo(file).Length, entry.Crc32 ^ 1, entry);
        copy.Check(GzipHeader);

        Assert.IsFalse(copy.Verified, "the member's trailer names the CRC-32 the tar writer saw, which zlib finds wrong");
        var error = Assert.ThrowsExactly<OciException>(() => copy.CompressInto(new MemoryStream(), GzipHeader, CompressionLevel.Optimal));
        StringAssert.Contains(error.Message, "changed while it was written");
    }

    [TestMethod]
    public async Task An_archive_that_changed_after_the_check_fails_the_layer_rather_than_write_unchecked_data()
    {
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var archive = WriteArchive(work.Combine("runtime.nupkg"), publish, "System.Text.dll");
        var file = Path.Combine(publish, "System.Text.dll");
        var entry = ZipDeflatedEntry.ReadDirectory(archive).Single(e => e.FileName == "System.Text.dll");
        var data = DeflatedBytes(archive, "System.Text.dll");
        using var copy = new DeflatedCopy(file, new FileInfo(file).Length, entry.Crc32, entry);
        copy.Check(GzipHeader);
        Assert.IsTrue(copy.Verified);

        // Changed in place, as the copy's open handle sees it.
        using (var stream = new FileStream(archive, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = IndexOf(File.ReadAllBytes(archive), data) + 10;
            stream.WriteByte(0);
        }

        var error = await Assert.ThrowsExactlyAsync<OciException>(() => copy.WriteDataAsync(new MemoryStream(), synchronous: false, CancellationToken.None).AsTask());
        StringAssert.Contains(error.Message, "changed while a layer copied");
    }

    [TestMethod]
    public async Task Gzip_gnu_tar_and_umoci_read_a_layer_with_copied_members()
    {
        var gzip = LayerTestFiles.RequireTool("gzip", "gzip");
        var tar = LayerTestFiles.RequireTool("tar", "tar");
        var umoci = LayerTestFiles.RequireTool("umoci", "umoci");
        using var work = new TemporaryDirectory();
        var publish = WriteInputs(work);
        var sources = new DeflatedFileSources([WriteArchive(work.Combine("runtime.nupkg"), publish, "System.Text.dll", "native.so")]);
        var layout = work.Combine("layout");
        var layer = await LayerWriter.WriteToDirectoryAsync(LayerPlan.Empty.AddDirectoryTree(publish, "/app"), Path.Combine(layout, "blobs", "sha256"), new LayerWriteOptions { DeflatedFileSources = sources });
        var blob = Path.Combine(layout, "blobs", "sha256", layer.Descriptor.Digest.Hex);

        await LayerTestFiles.RunCheckedAsync(gzip, "-t", blob);
        Directory.CreateDirectory(work.Combine("tar-out"));
        await LayerTestFiles.RunCheckedAsync(tar, "-xzf", blob, "-C", work.Combine("tar-out"));
        AssertSameFiles(publish, work.Combine("tar-out", "app"));

        LayerInteropTests.WriteLayout(layout, Image.Empty(Platform.LinuxAmd64).AppendLayers(layer), "test");
        string[] rootless = Environment.UserName == "root" ? [] : ["--rootless"];
        await LayerTestFiles.RunCheckedAsync(umoci, ["unpack", .. rootless, "--image", layout + ":test", work.Combine("bundle")]);
        AssertSameFiles(publish, work.Combine("bundle", "rootfs", "app"));
    }

    // A publish-like directory: a compressible assembly-sized file, incompressible native code, a small file.
    private static string WriteInputs(TemporaryDirectory work)
    {
        var publish = work.Combine("publish");
        Directory.CreateDirectory(publish);
        var random = new Random(11);
        var words = Enumerable.Range(0, 60_000).Select(i => $"System.Text.Member{random.Next(2_000)};").ToArray();
        File.WriteAllText(Path.Combine(publish, "System.Text.dll"), string.Concat(words));
        var native = new byte[600_000];
        random.NextBytes(native);
        File.WriteAllBytes(Path.Combine(publish, "native.so"), native);
        File.WriteAllText(Path.Combine(publish, "small.dll"), string.Concat(words.Take(1_000)));
        File.WriteAllText(Path.Combine(publish, "app.deps.json"), "{}");
        return publish;
    }

    private static string WriteArchive(string path, string directory, params string[] names)
    {
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            zip.CreateEntry("readme.txt").Open().Dispose();
            foreach (var name in names)
            {
                zip.CreateEntryFromFile(Path.Combine(directory, name), EntryDirectory + name, CompressionLevel.Optimal);
            }
        }

        return path;
    }

    private static async Task<(string Digest, string DiffId, byte[] Blob)> WriteAsync(string publish, DeflatedFileSources? sources, int threads = 2)
    {
        var blob = new MemoryStream();
        var result = await LayerWriter.WriteAsync(LayerPlan.Empty.AddDirectoryTree(publish, "/app"), blob, new LayerWriteOptions { DeflatedFileSources = sources, GzipThreads = threads });
        return (result.Descriptor.Digest.ToString(), result.DiffId.ToString(), blob.ToArray());
    }

    private static byte[] DeflatedBytes(string archive, string name)
    {
        var entry = ZipDeflatedEntry.ReadDirectory(archive).Single(e => e.FileName == name);
        using var handle = File.OpenHandle(archive);
        var data = new byte[entry.CompressedLength];
        RandomAccess.Read(handle, data, entry.TryGetDataOffset(handle)!.Value);
        return data;
    }

    private static string TarDigestOf(byte[] blob)
    {
        using var gzip = new GZipStream(new MemoryStream(blob), CompressionMode.Decompress);
        return "sha256:" + Convert.ToHexString(SHA256.HashData(gzip)).ToLowerInvariant();
    }

    // Every member starts with the writer's 10-byte header; in deflate data those bytes in a row are next to impossible.
    private static int CountMembers(byte[] blob)
    {
        byte[] header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        var count = 0;
        for (var rest = blob.AsSpan(); rest.IndexOf(header) is var at and >= 0; rest = rest[(at + 1)..])
        {
            count++;
        }

        return count;
    }

    private static bool Contains(byte[] haystack, byte[] needle) => IndexOf(haystack, needle) >= 0;

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    private static void AssertSameFiles(string expected, string actual)
    {
        foreach (var file in Directory.EnumerateFiles(expected))
        {
            CollectionAssert.AreEqual(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(actual, Path.GetFileName(file))), file);
        }
    }
}
