using System.Formats.Tar;
using System.Text.Json;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

[TestClass]
public sealed class OciArchiveTests
{
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() => _work = new TemporaryDirectory("stores-tests-");

    [TestCleanup]
    public void DeleteWorkDirectory() => _work.Dispose();

    private CancellationToken Token => TestContext.CancellationToken;

    [TestMethod]
    public async Task Two_writes_of_the_same_image_are_byte_identical_and_entries_are_sorted_and_owned_by_root()
    {
        var image = TestImages.CreateImage(_work);
        var first = Path.Combine(_work, "first.tar");
        var second = Path.Combine(_work, "second.tar");

        await OciArchive.WriteToFileAsync(first, image, ["app:1.0"], cancellationToken: Token);
        await using (var nonSeekable = new NonSeekableWriteStream(File.Create(second)))
        {
            await OciArchive.WriteAsync(nonSeekable, image, ["app:1.0"], cancellationToken: Token);
        }

        CollectionAssert.AreEqual(File.ReadAllBytes(first), File.ReadAllBytes(second));
        var names = new List<string>();
        await using var reader = new TarReader(File.OpenRead(first));
        while (await reader.GetNextEntryAsync(cancellationToken: Token) is PosixTarEntry entry)
        {
            names.Add(entry.Name);
            Assert.AreEqual(0, entry.Uid);
            Assert.AreEqual(0, entry.Gid);
            Assert.AreEqual(DateTimeOffset.UnixEpoch, entry.ModificationTime);
        }

        CollectionAssert.AreEqual(names.OrderBy(n => n, StringComparer.Ordinal).ToArray(), names.ToArray());
        Assert.AreEqual("blobs/", names[0]);
        Assert.AreEqual("blobs/sha256/", names[1]);
        Assert.AreEqual(4, names.Count(n => n.StartsWith("blobs/sha256/", StringComparison.Ordinal)) - 1, "two layers, the config and the manifest");
        CollectionAssert.AreEqual(new[] { "index.json", "oci-layout" }, names.TakeLast(2).ToArray());
    }

    [TestMethod]
    public async Task Archive_reads_back_by_ref_name()
    {
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "image.tar");
        await OciArchive.WriteToFileAsync(path, image, ["app:1.0", "app:latest"], cancellationToken: Token);

        var archive = await OciArchive.OpenAsync(path, Token);
        var read = await archive.ReadImageAsync("app:latest", cancellationToken: Token);

        CollectionAssert.AreEqual(new[] { "app:1.0", "app:latest" }, (await archive.GetRefNamesAsync(Token)).ToArray());
        Assert.AreEqual(image.ManifestDescriptor.Digest, read.ManifestDescriptor.Digest);
        CollectionAssert.AreEqual(image.ConfigBytes.ToArray(), read.ConfigBytes.ToArray());
        for (var i = 0; i < image.Layers.Count; i++)
        {
            CollectionAssert.AreEqual(
                await TestImages.ReadAllAsync(image.Layers[i].OpenUncompressedAsync(Token)),
                await TestImages.ReadAllAsync(read.Layers[i].OpenUncompressedAsync(Token)));
        }
    }

    [TestMethod]
    public async Task Index_archive_reads_back_per_platform()
    {
        var amd64 = TestImages.CreateImage(_work, Platform.LinuxAmd64, "amd64");
        var arm64 = TestImages.CreateImage(_work, Platform.LinuxArm64, "arm64");
        var path = Path.Combine(_work, "multi.tar");
        await OciArchive.WriteToFileAsync(path, new ComposedImageIndex([amd64, arm64]), ["multi"], cancellationToken: Token);

        var archive = await OciArchive.OpenAsync(path, Token);

        Assert.AreEqual(arm64.ManifestDescriptor.Digest, (await archive.ReadImageAsync("multi", Platform.LinuxArm64, Token)).ManifestDescriptor.Digest);
        Assert.AreEqual(2, (await archive.ReadIndexAsync("multi", Token)).Images.Count);
    }

    [TestMethod]
    public async Task A_layer_that_does_not_match_its_digest_fails_the_write_and_leaves_no_file()
    {
        var real = TestImages.CreateLayer(Path.Combine(_work, "layers"), new TestFile("a", "a"));
        var lying = new StoredLayer(real.Descriptor with { Digest = Digest.Compute("other"u8) }, real.DiffId, real.OpenCompressedAsync);
        var path = Path.Combine(_work, "bad.tar");

        await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => OciArchive.WriteToFileAsync(path, Image.Empty(Platform.LinuxAmd64).AppendLayers(lying), ["bad"], cancellationToken: Token));

        Assert.IsFalse(File.Exists(path));
        Assert.AreEqual(0, Directory.GetFiles(_work, "*.tmp").Length);
    }

    [TestMethod]
    public async Task A_layer_corrupted_inside_the_archive_is_refused_when_read()
    {
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "image.tar");
        await OciArchive.WriteToFileAsync(path, image, ["1.0"], cancellationToken: Token);
        var bytes = File.ReadAllBytes(path);
        var layer = await TestImages.ReadAllAsync(image.Layers[1].OpenCompressedAsync(Token));
        var at = bytes.AsSpan().IndexOf(layer);
        Assert.IsGreaterThan(0, at);
        bytes[at + layer.Length / 2] ^= 0xff;
        File.WriteAllBytes(path, bytes);

        var read = await (await OciArchive.OpenAsync(path, Token)).ReadImageAsync("1.0", cancellationToken: Token);

        CollectionAssert.AreEqual(
            await TestImages.ReadAllAsync(image.Layers[0].OpenCompressedAsync(Token)),
            await TestImages.ReadAllAsync(read.Layers[0].OpenCompressedAsync(Token)));
        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => TestImages.ReadAllAsync(read.Layers[1].OpenCompressedAsync(Token)));
        Assert.Contains(path, error.Message);
    }

    [TestMethod]
    public async Task A_tar_without_oci_layout_is_refused_with_its_path()
    {
        var path = Path.Combine(_work, "other.tar");
        await using (var writer = new TarWriter(File.Create(path)))
        {
            await writer.WriteEntryAsync(new UstarTarEntry(TarEntryType.RegularFile, "hello.txt") { DataStream = new MemoryStream("hi"u8.ToArray()) }, Token);
        }

        var error = await Assert.ThrowsExactlyAsync<ImageStoreException>(() => OciArchive.OpenAsync(path, Token));

        Assert.Contains($"{path} is not an OCI image layout: oci-layout file missing", error.Message);
    }

    [TestMethod]
    public async Task Skopeo_inspects_our_oci_archive()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "image.tar");
        await OciArchive.WriteToFileAsync(path, image, ["1.0"], cancellationToken: Token);

        var result = await TestTools.RunCheckedAsync(skopeo, ["inspect", $"oci-archive:{path}:1.0"], cancellationToken: Token);

        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.AreEqual(image.ManifestDescriptor.Digest.ToString(), json.RootElement.GetProperty("Digest").GetString());
    }

    [TestMethod]
    public async Task Podman_loads_our_oci_archive()
    {
        await using var podman = new PodmanImages(Token);
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "image.tar");
        var name = podman.Repository + ":1.0";
        await OciArchive.WriteToFileAsync(path, image, [name], cancellationToken: Token);

        var load = await podman.LoadAsync(path, name);
        var inspect = await podman.RunAsync("image", "inspect", name);

        Assert.Contains(name, load.StandardOutput + load.StandardError);
        using var json = JsonDocument.Parse(inspect.StandardOutput);
        var loaded = json.RootElement[0];
        Assert.AreEqual(image.Manifest.Config.Digest.Hex, loaded.GetProperty("Id").GetString());
        Assert.Contains("MARKER=1", loaded.GetProperty("Config").GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [TestMethod]
    public async Task An_archive_written_by_skopeo_is_read_by_us()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var path = Path.Combine(_work, "skopeo.tar");

        await TestTools.RunCheckedAsync(skopeo, ["copy", $"oci:{layout.DirectoryPath}:1.0", $"oci-archive:{path}:copied"], cancellationToken: Token);

        var read = await (await OciArchive.OpenAsync(path, Token)).ReadImageAsync("copied", cancellationToken: Token);
        Assert.AreEqual(image.ManifestDescriptor.Digest, read.ManifestDescriptor.Digest);
        CollectionAssert.AreEqual(
            await TestImages.ReadAllAsync(image.Layers[0].OpenCompressedAsync(Token)),
            await TestImages.ReadAllAsync(read.Layers[0].OpenCompressedAsync(Token)));
    }

    /// <summary>A destination like a pipe: writes only, no seeking, no length.</summary>
    private sealed class NonSeekableWriteStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
