using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

[TestClass]
public sealed class DockerArchiveTests
{
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() => _work = new TemporaryDirectory("stores-tests-");

    [TestCleanup]
    public void DeleteWorkDirectory() => _work.Dispose();

    private CancellationToken Token => TestContext.CancellationToken;

    [TestMethod]
    public async Task Archive_has_the_docker_save_layout_with_uncompressed_layers_named_by_diff_id()
    {
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "image.tar");

        await DockerArchive.WriteToFileAsync(path, image, ["example.test/app:1.0"], cancellationToken: Token);

        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (var reader = new TarReader(File.OpenRead(path)))
        {
            while (await reader.GetNextEntryAsync(copyData: true, Token) is { } entry)
            {
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                entries[entry.Name] = data.ToArray();
            }
        }

        var configName = image.Manifest.Config.Digest.Hex + ".json";
        var layerNames = image.Config.RootFs.DiffIds.Select(d => d.Hex + "/layer.tar").ToArray();
        var expectedManifest = $"[{{\"Config\":\"{configName}\",\"RepoTags\":[\"example.test/app:1.0\"],\"Layers\":[\"{layerNames[0]}\",\"{layerNames[1]}\"]}}]";
        Assert.AreEqual(expectedManifest, Encoding.UTF8.GetString(entries["manifest.json"]));
        CollectionAssert.AreEqual(image.ConfigBytes.ToArray(), entries[configName]);
        for (var i = 0; i < 2; i++)
        {
            CollectionAssert.AreEqual(await TestImages.ReadAllAsync(image.Layers[i].OpenUncompressedAsync(Token)), entries[layerNames[i]]);
        }

        CollectionAssert.AreEqual(entries.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray(), entries.Keys.ToArray());
    }

    [TestMethod]
    [DataRow(LayerCompression.Gzip)]
    [DataRow(LayerCompression.Zstd)]
    [DataRow(LayerCompression.None)]
    public async Task Same_image_gives_the_same_bytes_and_reads_back_with_uncompressed_layers(LayerCompression compression)
    {
        var layer = TestImages.CreateLayer(Path.Combine(_work, "layers"), compression, new TestFile("data/file.txt", "content"), new TestFile("data/x.sh", "x", TestImages.Executable));
        var image = Image.Empty(Platform.LinuxArm64).AppendLayers(layer);
        var first = Path.Combine(_work, "first.tar");
        var second = Path.Combine(_work, "second.tar");

        await DockerArchive.WriteToFileAsync(first, image, ["app"], cancellationToken: Token);
        await using (var stream = File.Create(second))
        {
            await DockerArchive.WriteAsync(stream, image, ["app"], cancellationToken: Token);
        }

        CollectionAssert.AreEqual(File.ReadAllBytes(first), File.ReadAllBytes(second));
        var archive = await DockerArchive.OpenAsync(first, Token);
        CollectionAssert.AreEqual(new[] { "app:latest" }, archive.RepoTags.ToArray());
        var read = await archive.ReadImageAsync("app", Token);
        CollectionAssert.AreEqual(image.ConfigBytes.ToArray(), read.ConfigBytes.ToArray());
        Assert.AreEqual(MediaTypes.OciLayer, read.Layers[0].Descriptor.MediaType);
        Assert.AreEqual(layer.DiffId, read.Layers[0].Descriptor.Digest);
        Assert.AreEqual(layer.DiffId, read.Layers[0].DiffId);
        Assert.AreEqual("arm64", read.ManifestDescriptor.Platform!.Architecture);
        CollectionAssert.AreEqual(
            await TestImages.ReadAllAsync(layer.OpenUncompressedAsync(Token)),
            await TestImages.ReadAllAsync(read.Layers[0].OpenUncompressedAsync(Token)));
    }

    [TestMethod]
    public async Task Several_images_with_several_tags_share_layers_in_one_archive()
    {
        var first = TestImages.CreateImage(_work, marker: "one");
        var second = TestImages.CreateImage(_work, marker: "two");
        var path = Path.Combine(_work, "multi.tar");

        await DockerArchive.WriteToFileAsync(path, [new DockerArchiveImage(first, ["app:1", "app:one"]), new DockerArchiveImage(second, ["app:2"])], cancellationToken: Token);

        var archive = await DockerArchive.OpenAsync(path, Token);
        Assert.AreEqual(2, archive.Entries.Count);
        Assert.AreEqual(archive.Entries[0].Layers[0], archive.Entries[1].Layers[0], "the base layer is the same");
        Assert.Contains("MARKER=one", (await archive.ReadImageAsync("app:one", Token)).Config.Config!.Env!);
        Assert.Contains("MARKER=two", (await archive.ReadImageAsync("app:2", Token)).Config.Config!.Env!);
        var ambiguous = await Assert.ThrowsExactlyAsync<ImageStoreException>(() => archive.ReadImageAsync(cancellationToken: Token));
        Assert.Contains("app:1, app:one, app:2", ambiguous.Message);
        var tarListing = new List<string>();
        await using var reader = new TarReader(File.OpenRead(path));
        while (await reader.GetNextEntryAsync(cancellationToken: Token) is { } entry)
        {
            tarListing.Add(entry.Name);
        }

        Assert.AreEqual(tarListing.Count, tarListing.Distinct(StringComparer.Ordinal).Count());
    }

    [TestMethod]
    public async Task A_layer_whose_content_does_not_match_its_diff_id_fails_the_write_and_leaves_no_file()
    {
        var real = TestImages.CreateLayer(Path.Combine(_work, "layers"), new TestFile("a", "a"));
        var lying = new StoredLayer(real.Descriptor, Digest.Compute("another tar"u8), real.OpenCompressedAsync);
        var path = Path.Combine(_work, "bad.tar");

        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => DockerArchive.WriteToFileAsync(path, Image.Empty(Platform.LinuxAmd64).AppendLayers(lying), ["bad:1"], cancellationToken: Token));

        Assert.Contains("diff id", error.Message);
        Assert.IsFalse(File.Exists(path));
    }

    [TestMethod]
    public void A_digest_reference_is_not_accepted_as_a_repo_tag()
    {
        var image = Image.Empty(Platform.LinuxAmd64);

        var error = Assert.ThrowsExactly<ArgumentException>(() => DockerArchive.WriteAsync(Stream.Null, image, ["app@" + Digest.Compute("x"u8)]).GetAwaiter().GetResult());

        Assert.Contains("name:tag", error.Message);
    }

    [TestMethod]
    public async Task Podman_loads_our_docker_archive_with_its_config_and_every_tag()
    {
        await using var podman = new PodmanImages(Token);
        var first = TestImages.CreateImage(_work, marker: "one");
        var second = TestImages.CreateImage(_work, marker: "two");
        var path = Path.Combine(_work, "image.tar");
        string[] firstTags = [podman.Repository + ":1.0", podman.Repository + ":latest"];
        var secondTag = podman.Repository + ":2.0";
        await DockerArchive.WriteToFileAsync(path, [new DockerArchiveImage(first, firstTags), new DockerArchiveImage(second, [secondTag])], cancellationToken: Token);

        await podman.LoadAsync(path, [.. firstTags, secondTag]);

        var inspect = await podman.RunAsync("image", "inspect", firstTags[0]);
        using var json = JsonDocument.Parse(inspect.StandardOutput);
        var loaded = json.RootElement[0];
        Assert.AreEqual(first.Manifest.Config.Digest.Hex, loaded.GetProperty("Id").GetString());
        var config = loaded.GetProperty("Config");
        Assert.Contains("MARKER=one", config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.AreEqual("/app/run.sh", config.GetProperty("Entrypoint")[0].GetString());
        var tags = loaded.GetProperty("RepoTags").EnumerateArray().Select(e => e.GetString()!).ToArray();
        CollectionAssert.IsSubsetOf(firstTags, tags);
        var secondInspect = await podman.RunAsync("image", "inspect", "--format", "{{.Id}}", secondTag);
        Assert.AreEqual(second.Manifest.Config.Digest.Hex, secondInspect.StandardOutput.Trim());
    }

    [TestMethod]
    public async Task Skopeo_inspects_our_docker_archive()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "image.tar");
        await DockerArchive.WriteToFileAsync(path, image, ["example.test/app:1.0"], cancellationToken: Token);

        var result = await TestTools.RunCheckedAsync(skopeo, ["inspect", $"docker-archive:{path}"], cancellationToken: Token);

        using var json = JsonDocument.Parse(result.StandardOutput);
        CollectionAssert.AreEqual(
            image.Config.RootFs.DiffIds.Select(d => d.ToString()).ToArray(),
            json.RootElement.GetProperty("Layers").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.Contains("MARKER=1", json.RootElement.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [TestMethod]
    public async Task A_docker_archive_written_by_skopeo_is_read_by_us()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var path = Path.Combine(_work, "skopeo.tar");

        await TestTools.RunCheckedAsync(skopeo, ["copy", $"oci:{layout.DirectoryPath}:1.0", $"docker-archive:{path}:example.test/copied:2"], cancellationToken: Token);

        var archive = await DockerArchive.OpenAsync(path, Token);
        var read = await archive.ReadImageAsync("example.test/copied:2", Token);
        CollectionAssert.AreEqual(image.Config.RootFs.DiffIds.ToArray(), read.Config.RootFs.DiffIds.ToArray());
        for (var i = 0; i < image.Layers.Count; i++)
        {
            CollectionAssert.AreEqual(
                await TestImages.ReadAllAsync(image.Layers[i].OpenUncompressedAsync(Token)),
                await TestImages.ReadAllAsync(read.Layers[i].OpenUncompressedAsync(Token)));
        }
    }

    [TestMethod]
    public async Task A_tar_without_manifest_json_is_refused_with_its_path()
    {
        var path = Path.Combine(_work, "other.tar");
        await using (var writer = new TarWriter(File.Create(path)))
        {
            await writer.WriteEntryAsync(new UstarTarEntry(TarEntryType.RegularFile, "hello.txt") { DataStream = new MemoryStream("hi"u8.ToArray()) }, Token);
        }

        var error = await Assert.ThrowsExactlyAsync<ImageStoreException>(() => DockerArchive.OpenAsync(path, Token));

        Assert.Contains($"{path} is not a docker archive: manifest.json missing", error.Message);
    }
}
