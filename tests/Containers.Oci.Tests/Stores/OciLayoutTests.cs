using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

[TestClass]
public sealed class OciLayoutTests
{
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() => _work = new TemporaryDirectory("stores-tests-");

    [TestCleanup]
    public void DeleteWorkDirectory() => _work.Dispose();

    private CancellationToken Token => TestContext.CancellationToken;

    [TestMethod]
    public async Task Written_image_reads_back_with_the_same_manifest_config_and_layer_bytes()
    {
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));

        var written = await layout.WriteImageAsync(image, "1.0", Token);
        var read = await OciLayout.Open(layout.DirectoryPath).ReadImageAsync("1.0", cancellationToken: Token);

        Assert.AreEqual(image.ManifestDescriptor.Digest, written.Digest);
        Assert.AreEqual(image.ManifestDescriptor.Digest, read.ManifestDescriptor.Digest);
        CollectionAssert.AreEqual(image.ManifestBytes.ToArray(), read.ManifestBytes.ToArray());
        CollectionAssert.AreEqual(image.ConfigBytes.ToArray(), read.ConfigBytes.ToArray());
        Assert.AreEqual(2, read.Layers.Count);
        for (var i = 0; i < image.Layers.Count; i++)
        {
            Assert.AreEqual(image.Layers[i].Descriptor, read.Layers[i].Descriptor);
            Assert.AreEqual(image.Layers[i].DiffId, read.Layers[i].DiffId);
            CollectionAssert.AreEqual(
                await TestImages.ReadAllAsync(image.Layers[i].OpenUncompressedAsync(Token)),
                await TestImages.ReadAllAsync(read.Layers[i].OpenUncompressedAsync(Token)));
        }

        Assert.AreEqual("{\"imageLayoutVersion\":\"1.0.0\"}", File.ReadAllText(Path.Combine(layout.DirectoryPath, "oci-layout")));
        Assert.IsTrue(layout.HasBlob(image.Manifest.Config.Digest, image.Manifest.Config.Size));
        Assert.AreEqual(0, Directory.GetFiles(layout.DirectoryPath, ".tmp-*").Length);
    }

    [TestMethod]
    public async Task Two_tags_in_one_layout_are_listed_and_read_independently()
    {
        var first = TestImages.CreateImage(_work, marker: "first");
        var second = TestImages.CreateImage(_work, marker: "second");
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));

        await layout.WriteImageAsync(first, "first", Token);
        await layout.WriteImageAsync(second, "second", Token);

        CollectionAssert.AreEqual(new[] { "first", "second" }, (await layout.GetRefNamesAsync(Token)).ToArray());
        Assert.AreEqual(first.ManifestDescriptor.Digest, (await layout.ReadImageAsync("first", cancellationToken: Token)).ManifestDescriptor.Digest);
        Assert.AreEqual(second.ManifestDescriptor.Digest, (await layout.ReadImageAsync("second", cancellationToken: Token)).ManifestDescriptor.Digest);
    }

    [TestMethod]
    public async Task Writing_an_existing_tag_replaces_its_entry_and_keeps_the_others()
    {
        var old = TestImages.CreateImage(_work, marker: "old");
        var other = TestImages.CreateImage(_work, marker: "other");
        var replacement = TestImages.CreateImage(_work, marker: "new");
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(old, "latest", Token);
        await layout.WriteImageAsync(other, "other", Token);

        await layout.WriteImageAsync(replacement, "latest", Token);

        var entries = await layout.GetEntriesAsync(Token);
        Assert.AreEqual(2, entries.Count);
        Assert.AreEqual("latest", entries[0].RefName);
        Assert.AreEqual(replacement.ManifestDescriptor.Digest, entries[0].Descriptor.Digest);
        Assert.AreEqual(other.ManifestDescriptor.Digest, entries[1].Descriptor.Digest);
        var read = await layout.ReadImageAsync("latest", cancellationToken: Token);
        Assert.Contains("MARKER=new", read.Config.Config!.Env!);
    }

    [TestMethod]
    public async Task Index_with_two_platforms_is_stored_and_each_platform_selected()
    {
        var amd64 = TestImages.CreateImage(_work, Platform.LinuxAmd64, "amd64");
        var arm64 = TestImages.CreateImage(_work, Platform.LinuxArm64, "arm64");
        var index = new ComposedImageIndex([amd64, arm64]);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));

        var entry = await layout.WriteIndexAsync(index, "multi", Token);

        Assert.AreEqual(MediaTypes.OciIndex, entry.MediaType);
        var selectedArm = await layout.ReadImageAsync("multi", PlatformMatching.Parse("linux/arm64"), Token);
        var selectedAmd = await layout.ReadImageAsync("multi", Platform.LinuxAmd64, Token);
        Assert.AreEqual(arm64.ManifestDescriptor.Digest, selectedArm.ManifestDescriptor.Digest);
        Assert.AreEqual(amd64.ManifestDescriptor.Digest, selectedAmd.ManifestDescriptor.Digest);
        Assert.Contains("MARKER=arm64", selectedArm.Config.Config!.Env!);

        var readIndex = await layout.ReadIndexAsync("multi", Token);
        Assert.AreEqual(index.IndexDescriptor.Digest, readIndex.IndexDescriptor.Digest);
        Assert.AreEqual(2, readIndex.Images.Count);

        var unspecified = await Assert.ThrowsExactlyAsync<ImageStoreException>(() => layout.ReadImageAsync("multi", cancellationToken: Token));
        Assert.Contains("linux/arm64", unspecified.Message);
        var missing = await Assert.ThrowsAsync<OciException>(() => layout.ReadImageAsync("multi", PlatformMatching.Parse("linux/s390x"), Token));
        Assert.Contains("linux/amd64", missing.Message);
    }

    [TestMethod]
    public async Task Layer_whose_content_does_not_match_its_digest_is_refused_and_index_json_is_untouched()
    {
        var good = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(good, "good", Token);
        var indexBefore = File.ReadAllBytes(Path.Combine(layout.DirectoryPath, "index.json"));

        var real = TestImages.CreateLayer(Path.Combine(_work, "layers"), new TestFile("evil", "evil"));
        var lyingDescriptor = real.Descriptor with { Digest = Digest.Compute("something else"u8) };
        var lying = new StoredLayer(lyingDescriptor, real.DiffId, real.OpenCompressedAsync);
        var bad = Image.Empty(Platform.LinuxAmd64).AppendLayers(lying);

        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => layout.WriteImageAsync(bad, "bad", Token));

        var (claimed, hashed) = (error.Expected, error.Actual);
        Assert.AreEqual(lyingDescriptor.Digest, claimed);
        Assert.AreEqual(real.Descriptor.Digest, hashed);
        CollectionAssert.AreEqual(indexBefore, File.ReadAllBytes(Path.Combine(layout.DirectoryPath, "index.json")));
        Assert.IsFalse(layout.HasBlob(lyingDescriptor.Digest));
        Assert.AreEqual(0, Directory.GetFiles(layout.DirectoryPath, ".tmp-*").Length);
        CollectionAssert.AreEqual(new[] { "good" }, (await layout.GetRefNamesAsync(Token)).ToArray());
    }

    [TestMethod]
    public async Task A_bad_layer_among_layers_written_at_once_fails_the_write_with_its_own_error_and_leaves_no_manifest_or_temporary_file()
    {
        var layers = Enumerable.Range(0, 6)
            .Select(i => TestImages.CreateLayer(Path.Combine(_work, "layers" + i), new TestFile("file" + i, new string((char)('a' + i), 200_000 * (i + 1)))))
            .ToList();
        var real = layers[3];
        layers[3] = new StoredLayer(real.Descriptor with { Digest = Digest.Compute("something else"u8) }, real.DiffId, real.OpenCompressedAsync);
        var image = Image.Empty(Platform.LinuxAmd64).AppendLayers([.. layers]);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));

        await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => layout.WriteImageAsync(image, "bad", Token));

        Assert.IsFalse(layout.HasBlob(image.ManifestDescriptor.Digest), "no manifest without its layers");
        Assert.IsFalse(layout.HasBlob(image.Manifest.Config.Digest));
        Assert.AreEqual(0, Directory.GetFiles(layout.DirectoryPath, ".tmp-*").Length);
        Assert.AreEqual(0, (await layout.GetRefNamesAsync(Token)).Count);
    }

    [TestMethod]
    public async Task Blobs_already_present_are_not_rewritten()
    {
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "a", Token);
        var layerPath = layout.GetBlobPath(image.Layers[0].Descriptor.Digest);
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(layerPath, stamp);

        await layout.WriteImageAsync(image, "b", Token);

        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(layerPath));
        await using var content = new MemoryStream(Encoding.UTF8.GetBytes("x"));
        Assert.IsFalse(await layout.WriteBlobAsync(content, image.Layers[0].Descriptor, Token));
    }

    [TestMethod]
    public async Task Image_can_be_read_by_digest_and_a_ref_removed()
    {
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);

        var byDigest = await layout.ReadImageAsync(image.ManifestDescriptor.Digest.ToString(), cancellationToken: Token);
        Assert.AreEqual(image.ManifestDescriptor.Digest, byDigest.ManifestDescriptor.Digest);

        Assert.IsTrue(await layout.RemoveRefAsync("1.0", Token));
        Assert.IsFalse(await layout.RemoveRefAsync("1.0", Token));
        Assert.AreEqual(0, (await layout.GetEntriesAsync(Token)).Count);
        var error = await Assert.ThrowsExactlyAsync<ImageStoreException>(() => layout.ReadImageAsync("1.0", cancellationToken: Token));
        Assert.Contains("no image named '1.0'", error.Message);
    }

    [TestMethod]
    public void Opening_a_directory_without_oci_layout_names_the_directory_and_the_missing_file()
    {
        var plain = Path.Combine(_work, "plain");
        Directory.CreateDirectory(plain);
        File.WriteAllText(Path.Combine(plain, "readme.txt"), "not a layout");

        var open = Assert.ThrowsExactly<ImageStoreException>(() => OciLayout.Open(plain));
        var create = Assert.ThrowsExactly<ImageStoreException>(() => OciLayout.Create(plain));

        Assert.AreEqual($"{plain} is not an OCI image layout: oci-layout file missing.", open.Message);
        Assert.AreEqual(plain, open.StorePath);
        Assert.Contains("not empty", create.Message);
    }

    [TestMethod]
    public void Creating_a_layout_where_a_file_blocks_the_path_says_it_cannot_write()
    {
        var blocker = Path.Combine(_work, "file");
        File.WriteAllText(blocker, "x");

        var error = Assert.ThrowsExactly<ImageStoreException>(() => OciLayout.Create(Path.Combine(blocker, "layout")));

        Assert.Contains(Path.Combine(blocker, "layout"), error.Message);
        Assert.Contains("writable", error.Message);
    }

    [TestMethod]
    public async Task A_corrupted_manifest_blob_is_refused_on_read()
    {
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var manifestPath = layout.GetBlobPath(image.ManifestDescriptor.Digest);
        var tampered = File.ReadAllText(manifestPath).Replace("\"schemaVersion\":2", "\"schemaVersion\":2 ", StringComparison.Ordinal);
        File.WriteAllText(manifestPath, tampered);

        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => layout.ReadImageAsync("1.0", cancellationToken: Token));

        Assert.Contains(manifestPath, error.Message);
    }

    [TestMethod]
    public async Task Missing_layer_blob_is_reported_with_its_path()
    {
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var layerPath = layout.GetBlobPath(image.Layers[1].Descriptor.Digest);
        File.Delete(layerPath);

        var error = await Assert.ThrowsExactlyAsync<ImageStoreException>(() => layout.ReadImageAsync("1.0", cancellationToken: Token));

        Assert.Contains(layerPath, error.Message);
        Assert.Contains("missing", error.Message);
    }

    [TestMethod]
    public async Task WriteBlobAsync_stores_verified_content_and_refuses_the_rest_without_closing_the_callers_stream()
    {
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        var content = Encoding.UTF8.GetBytes("blob content");
        var descriptor = Descriptor.For("application/octet-stream", content);
        await using var good = new MemoryStream(content);
        await using var bad = new MemoryStream(Encoding.UTF8.GetBytes("blob c0ntent"));
        await using var shorter = new MemoryStream(content[..4]);

        Assert.IsTrue(await layout.WriteBlobAsync(good, descriptor, Token));
        Assert.IsTrue(good.CanRead, "the caller's stream stays open");
        CollectionAssert.AreEqual(content, await TestImages.ReadAllAsync(Task.FromResult(layout.OpenBlob(descriptor.Digest))));

        var other = descriptor with { Digest = Digest.Compute("blob c0ntent"u8) };
        var mismatch = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => layout.WriteBlobAsync(bad, descriptor with { Digest = Digest.Compute("different"u8) }, Token));
        var truncated = await Assert.ThrowsExactlyAsync<OciException>(() => layout.WriteBlobAsync(shorter, descriptor with { Digest = Digest.Compute("other"u8) }, Token));

        Assert.AreEqual(other.Digest, mismatch.Actual);
        Assert.Contains("ended after 4 bytes", truncated.Message);
        Assert.IsFalse(layout.HasBlob(Digest.Compute("different"u8)));
        Assert.AreEqual(0, Directory.GetFiles(layout.DirectoryPath, ".tmp-*").Length);
        var missing = Assert.ThrowsExactly<ImageStoreException>(() => layout.OpenBlob(Digest.Compute("absent"u8)));
        Assert.Contains(layout.GetBlobPath(Digest.Compute("absent"u8)), missing.Message);
    }

    [TestMethod]
    public async Task Concurrent_writers_to_one_layout_keep_every_tag()
    {
        var images = Enumerable.Range(0, 12).Select(i => TestImages.CreateImage(_work, marker: i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var path = Path.Combine(_work, "layout");
        OciLayout.Create(path);

        // Separate instances, as separate processes would have.
        await Task.WhenAll(images.Select((image, i) => Task.Run(() => OciLayout.Open(path).WriteImageAsync(image, $"tag{i}", Token), Token)));

        var layout = OciLayout.Open(path);
        var names = await layout.GetRefNamesAsync(Token);
        Assert.HasCount(12, names);
        for (var i = 0; i < images.Length; i++)
        {
            Assert.AreEqual(images[i].ManifestDescriptor.Digest, (await layout.ResolveAsync($"tag{i}", Token)).Digest);
        }
    }

    [TestMethod]
    public async Task Writers_that_create_a_new_layout_at_the_same_moment_all_succeed_and_keep_every_tag()
    {
        // Two pulls into a host's new image cache at once: each creates the layout it writes to.
        for (var round = 0; round < 20; round++)
        {
            var path = Path.Combine(_work, "fresh-" + round.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var images = Enumerable.Range(0, 4).Select(i => TestImages.CreateImage(_work, marker: $"{round}-{i}")).ToArray();
            using var go = new ManualResetEventSlim();
            var writers = images.Select((image, i) => Task.Run(
                async () =>
                {
                    go.Wait(Token);
                    await OciLayout.Create(path).WriteImageAsync(image, $"tag{i}", Token);
                },
                Token)).ToArray();
            go.Set();
            await Task.WhenAll(writers);

            Assert.HasCount(4, await OciLayout.Open(path).GetRefNamesAsync(Token), $"round {round}");
        }
    }
}
