using System.IO.Compression;
using System.Text.Json;
using Containers.Build.Publishing;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Build.Tests.Publishing;

[TestClass]
public sealed class ContainerPublisherTests
{
    public TestContext TestContext { get; set; } = null!;

    private readonly List<string> _cleanup = [];

    [TestCleanup]
    public void Cleanup()
    {
        foreach (var dir in _cleanup)
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private string Temp(string prefix)
    {
        var dir = PublishFixture.NewTempDirectory(prefix);
        _cleanup.Add(dir);
        return dir;
    }

    private async Task<string> MakeBaseLayoutAsync()
    {
        var work = Temp("base");
        var layout = OciLayout.Create(Path.Combine(work, "layout"));
        var amd64 = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        var arm64 = await PublishFixture.MakeBaseImageAsync(Platform.LinuxArm64, work);
        await layout.WriteImageAsync(amd64, "runtime");
        await layout.WriteIndexAsync(new ComposedImageIndex([amd64, arm64]), "multiarch");
        return layout.DirectoryPath;
    }

    private ContainerPublisher Publisher(ICredentialProvider? credentials = null) =>
        new(new RegistryClientOptions { CredentialProvider = credentials }, new Progress<PublishProgress>(p => TestContext.WriteLine(p.Message)));

    [TestMethod]
    public async Task A_package_file_goes_into_its_layer_as_its_nupkg_deflate_data_with_the_same_diff_id()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("package-deflate");
        var publish = PublishFixture.MakePublishDirectory(work);

        // The deps file's Serilog/4.0.0 in a package folder, laid out as NuGet does, its assembly the published one.
        var packages = Path.Combine(work, "packages");
        var nupkg = Path.Combine(packages, "serilog", "4.0.0", "serilog.4.0.0.nupkg");
        Directory.CreateDirectory(Path.GetDirectoryName(nupkg)!);
        using (var zip = ZipFile.Open(nupkg, ZipArchiveMode.Create))
        {
            zip.CreateEntryFromFile(Path.Combine(publish, "Serilog.dll"), "lib/net8.0/Serilog.dll", CompressionLevel.Optimal);
        }

        var deflated = DeflateDataOf(nupkg);
        async Task<(Digest Digest, Digest DiffId, byte[] Blob)> PackagesLayerAsync(string output, IReadOnlyList<string> folders)
        {
            var request = PublishFixture.Request(publish, work, new ContainerDestination.OciLayoutDirectory(output, "app") { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout) with { PackageFolders = folders };
            var result = await Publisher().PublishAsync(request, TestContext.CancellationToken);
            var image = await OciLayout.Open(output).ReadImageAsync("1.0", null, TestContext.CancellationToken);
            var index = result.Images[0].Layers.Select(l => l.Name).ToList().IndexOf("packages");
            var digest = image.Layers[index].Descriptor.Digest;
            return (digest, image.Config.RootFs!.DiffIds[index], File.ReadAllBytes(Path.Combine(output, "blobs", "sha256", digest.Hex)));
        }

        var copied = await PackagesLayerAsync(Path.Combine(work, "copied"), [Path.Combine(work, "empty"), packages]);
        var compressed = await PackagesLayerAsync(Path.Combine(work, "compressed"), []);

        Assert.AreEqual(compressed.DiffId, copied.DiffId, "the same files");
        Assert.AreNotEqual(compressed.Digest, copied.Digest);
        Assert.IsTrue(copied.Blob.AsSpan().IndexOf(deflated) >= 0, "the package's deflate data is in the layer as it is");
        Assert.IsTrue(compressed.Blob.AsSpan().IndexOf(deflated) < 0);
    }

    private static byte[] DeflateDataOf(string nupkg)
    {
        // The only entry: its local header at 0 (30 bytes, the name, no extra field), its data up to the central directory.
        var bytes = File.ReadAllBytes(nupkg);
        var nameLength = BitConverter.ToUInt16(bytes, 26);
        var extraLength = BitConverter.ToUInt16(bytes, 28);
        var compressedLength = BitConverter.ToInt32(bytes, 18);
        return bytes.AsSpan(30 + nameLength + extraLength, compressedLength).ToArray();
    }

    [TestMethod]
    public async Task Layers_follow_change_rate_with_normalized_modes_on_the_base()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("layers");
        var publish = PublishFixture.MakePublishDirectory(work);
        var output = Path.Combine(work, "out");

        var result = await Publisher().PublishAsync(PublishFixture.Request(publish, work, new ContainerDestination.OciLayoutDirectory(output, "app") { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout), TestContext.CancellationToken);

        var image = await OciLayout.Open(output).ReadImageAsync("1.0", null, TestContext.CancellationToken);
        CollectionAssert.AreEqual(new[] { "base", "packages", "project-references", "wwwroot", "app" }, result.Images[0].Layers.Select(l => l.Name).ToArray());
        Assert.HasCount(5, image.Layers);
        Assert.AreEqual("1654", image.Config.Config!.User);
        Assert.AreEqual(DateTimeOffset.FromUnixTimeSeconds(1700000000), image.Config.Created);
        Assert.AreEqual(image.Manifest.Config.Digest, result.Images[0].ConfigDigest);

        var entries = new Dictionary<string, (UnixFileMode Mode, int Uid)>();
        await using (var app = await image.Layers[4].OpenUncompressedAsync(TestContext.CancellationToken))
        {
            var reader = new System.Formats.Tar.TarReader(app);
            while (await reader.GetNextEntryAsync(cancellationToken: TestContext.CancellationToken) is { } entry)
            {
                entries[entry.Name.TrimEnd('/')] = (entry.Mode, entry.Uid);
            }
        }

        Assert.AreEqual((UnixFileMode)0b111_101_101, entries["app/App"].Mode, "the apphost keeps +x");
        Assert.AreEqual((UnixFileMode)0b110_100_100, entries["app/App.dll"].Mode, "nothing else gets +x");
        Assert.AreEqual((UnixFileMode)0b111_101_101, entries["app"].Mode, "parents are explicit");
        Assert.IsTrue(entries.Values.All(e => e.Uid == 0), "owned by root");
        Assert.AreEqual("sha256:" + image.Manifest.Annotations!["org.opencontainers.image.base.digest"].Split(':')[1], image.Manifest.Annotations["org.opencontainers.image.base.digest"]);
    }

    [TestMethod]
    public async Task Same_inputs_in_different_directories_give_the_same_digest_and_the_cache_skips_rebuilds()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var first = Temp("repro-a");
        var second = Temp("repro-b");
        var cache = Path.Combine(Temp("cache"), "layers");
        var publishA = PublishFixture.MakePublishDirectory(first);
        var publishB = PublishFixture.MakePublishDirectory(second, "elsewhere/publish");
        File.SetLastWriteTimeUtc(Path.Combine(publishB, "App.dll"), DateTime.UtcNow.AddDays(-3));

        var a = await Publisher().PublishAsync(PublishFixture.Request(publishA, first, new ContainerDestination.OciLayoutDirectory(Path.Combine(first, "out"), "app") { Tags = ["t"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout), TestContext.CancellationToken);
        var b = await Publisher().PublishAsync(PublishFixture.Request(publishB, second, new ContainerDestination.OciLayoutDirectory(Path.Combine(second, "out"), "app") { Tags = ["t"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout, cache), TestContext.CancellationToken);
        var c = await Publisher().PublishAsync(PublishFixture.Request(publishB, second, new ContainerDestination.OciLayoutDirectory(Path.Combine(second, "out2"), "app") { Tags = ["t"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout, cache), TestContext.CancellationToken);

        Assert.AreEqual(a.Digest, b.Digest);
        Assert.AreEqual(b.Digest, c.Digest);
        Assert.IsTrue(b.Images[0].Layers.Where(l => l.Name != "base").All(l => !l.FromCache));
        Assert.IsTrue(c.Images[0].Layers.All(l => l.FromCache), "the second publish rebuilds nothing");
    }

    [TestMethod]
    public async Task Two_runtime_identifiers_make_an_index_with_one_manifest_per_platform()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("multi");
        var x64 = PublishFixture.MakePublishDirectory(work, "x64");
        var arm64 = PublishFixture.MakePublishDirectory(work, "arm64", seed: 2);
        var output = Path.Combine(work, "out");
        var request = PublishFixture.Request(x64, work, new ContainerDestination.OciLayoutDirectory(output, "app") { Tags = ["multi"] }, ImageReference.Parse("localhost/base:multiarch"), baseLayout) with
        {
            Targets = [new("linux-x64", x64), new("linux-arm64", arm64)],
        };

        var result = await Publisher().PublishAsync(request, TestContext.CancellationToken);

        Assert.AreEqual(MediaTypes.OciIndex, result.MediaType);
        var index = await OciLayout.Open(output).ReadIndexAsync("multi", TestContext.CancellationToken);
        CollectionAssert.AreEqual(new[] { "linux/amd64", "linux/arm64/v8" }, index.Index.Manifests.Select(m => m.Platform!.ToString()).ToArray());
        var armImage = await OciLayout.Open(output).ReadImageAsync("multi", Platform.LinuxArm64, TestContext.CancellationToken);
        Assert.AreEqual("linux-arm64", armImage.Config.Config!.Labels!["rid"]);
        Assert.AreEqual("arm64", armImage.Config.Architecture);
    }

    [TestMethod]
    public async Task Two_runtime_identifiers_built_at_once_write_a_layer_they_have_in_common_once()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("multi-shared");
        var cache = Path.Combine(Temp("cache"), "layers");
        var x64 = PublishFixture.MakePublishDirectory(work, "x64");
        var arm64 = PublishFixture.MakePublishDirectory(work, "arm64");
        File.WriteAllText(Path.Combine(arm64, "App.dll"), "app code built for arm64");
        var output = Path.Combine(work, "out");
        var request = PublishFixture.Request(x64, work, new ContainerDestination.OciLayoutDirectory(output, "app") { Tags = ["multi"] }, ImageReference.Parse("localhost/base:multiarch"), baseLayout, cache) with
        {
            Targets = [new("linux-x64", x64), new("linux-arm64", arm64)],
        };

        var result = await Publisher().PublishAsync(request, TestContext.CancellationToken);

        var x64Layers = result.Images[0].Layers.Where(l => l.Name != "base").ToDictionary(l => l.Name);
        var armLayers = result.Images[1].Layers.Where(l => l.Name != "base").ToDictionary(l => l.Name);
        CollectionAssert.AreEquivalent(x64Layers.Keys, armLayers.Keys);
        Assert.AreNotEqual(x64Layers["app"].Digest, armLayers["app"].Digest, "the app layers differ");
        foreach (var name in x64Layers.Keys.Where(n => n != "app"))
        {
            Assert.AreEqual(x64Layers[name].Digest, armLayers[name].Digest, name);
            Assert.AreEqual(1, new[] { x64Layers[name], armLayers[name] }.Count(l => !l.FromCache), $"the '{name}' layer is written once for both runtime identifiers");
        }

        Assert.IsTrue(!x64Layers["app"].FromCache && !armLayers["app"].FromCache, "each app layer is written");
        var index = await OciLayout.Open(output).ReadIndexAsync("multi", TestContext.CancellationToken);
        CollectionAssert.AreEqual(new[] { "linux/amd64", "linux/arm64/v8" }, index.Index.Manifests.Select(m => m.Platform!.ToString()).ToArray(), "the index keeps the runtime identifiers' order");
    }

    [TestMethod]
    [DataRow(RegistryAuthMode.Anonymous)]
    [DataRow(RegistryAuthMode.Token)]
    public async Task Registry_push_streams_each_new_layer_while_it_is_written_and_counts_it_as_uploaded(RegistryAuthMode mode)
    {
        await using var registry = await TestRegistry.StartAsync(mode, TestContext.CancellationToken);
        var credentials = new StaticCredentialProvider(mode == RegistryAuthMode.Anonymous ? null : registry.Credential);
        var work = Temp("stream");
        var baseImage = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        using (var client = new RegistryClient(new RegistryClientOptions { CredentialProvider = credentials }))
        {
            await client.PushImageAsync(baseImage, registry.Host, "dotnet/runtime", ["10.0"], cancellationToken: TestContext.CancellationToken);
        }

        var publish = PublishFixture.MakePublishDirectory(work);
        var request = PublishFixture.Request(publish, work, new ContainerDestination.RegistryRepository(registry.Host, "team/streamed") { Tags = ["1.0"] }, ImageReference.Parse(registry.Host + "/dotnet/runtime:10.0"), cache: Path.Combine(work, "cache"));
        var messages = new List<string>();
        var publisher = new ContainerPublisher(new RegistryClientOptions { CredentialProvider = credentials }, new SynchronousProgress(messages));

        var result = await publisher.PublishAsync(request, TestContext.CancellationToken);

        var pushing = messages.FindIndex(m => m.StartsWith("Pushing to ", StringComparison.Ordinal));
        Assert.IsGreaterThan(0, pushing, string.Join('\n', messages));
        var newLayers = result.Images[0].Layers.Where(l => l.Name != "base").ToList();
        foreach (var layer in newLayers)
        {
            Assert.IsFalse(layer.FromCache);
            var uploaded = messages.FindIndex(m => m.StartsWith("Uploaded " + layer.Digest.Hex[..12], StringComparison.Ordinal));
            Assert.IsTrue(uploaded >= 0 && uploaded < pushing, $"the '{layer.Name}' layer went up while the image was built, before the push:\n{string.Join('\n', messages)}");
        }

        Assert.IsGreaterThanOrEqualTo(newLayers.Sum(l => l.Size), result.BytesUploaded, "streamed layers count as uploaded");
        Assert.IsLessThanOrEqualTo(baseImage.Layers.Sum(l => l.Descriptor.Size), result.BytesReused, "only the base is reused");
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", .. Creds(mode, registry), $"docker://{registry.Host}/team/streamed:1.0"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(result.ManifestJson, inspect.StandardOutput.TrimEnd('\n'));
    }

    [TestMethod]
    public async Task A_layer_whose_stream_cannot_start_is_still_written_whole_for_the_ordinary_push()
    {
        var work = Temp("stream-fallback");
        var publish = PublishFixture.MakePublishDirectory(work);
        var messages = new List<string>();
        using var unreachable = new RegistryClient(new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10), ConnectTimeout = TimeSpan.FromSeconds(2) });
        var uploader = new Containers.Build.Publishing.Transfers.LayerUploader(unreachable, "127.0.0.1:1", "team/app", messages.Add);
        var blobs = Path.Combine(work, "blobs");

        var layer = await uploader.WriteToDirectoryAsync(Containers.Oci.Layers.LayerPlan.Empty.AddDirectoryTree(publish, "/app"), blobs, new Containers.Oci.Layers.LayerWriteOptions(), TestContext.CancellationToken);

        var file = Path.Combine(blobs, layer.Descriptor.Digest.Hex);
        Assert.AreEqual(layer.Descriptor.Digest, Digest.Compute(File.ReadAllBytes(file)));
        CollectionAssert.AreEqual(new[] { layer.Descriptor.Digest.Hex }, Directory.GetFiles(blobs).Select(Path.GetFileName).ToArray(), "no temporary file is left");
        Assert.HasCount(1, messages);
        Assert.Contains("127.0.0.1:1/team/app", messages[0]);
        Assert.Contains("uploaded from its file", messages[0]);
    }

    private sealed class SynchronousProgress(List<string> messages) : IProgress<PublishProgress>
    {
        public void Report(PublishProgress value)
        {
            lock (messages)
            {
                messages.Add(value.Message);
            }
        }
    }

    [TestMethod]
    [DataRow(RegistryAuthMode.Anonymous)]
    [DataRow(RegistryAuthMode.Token)]
    public async Task Registry_republish_uploads_nothing_unchanged_and_only_the_changed_layer(RegistryAuthMode mode)
    {
        await using var registry = await TestRegistry.StartAsync(mode, TestContext.CancellationToken);
        var credentials = new StaticCredentialProvider(mode == RegistryAuthMode.Anonymous ? null : registry.Credential);
        var work = Temp("push");
        var baseImage = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        using (var client = new RegistryClient(new RegistryClientOptions { CredentialProvider = credentials }))
        {
            await client.PushImageAsync(baseImage, registry.Host, "dotnet/runtime", ["10.0"], cancellationToken: TestContext.CancellationToken);
        }

        var publish = PublishFixture.MakePublishDirectory(work);
        var cache = Path.Combine(work, "cache");
        var request = PublishFixture.Request(publish, work, new ContainerDestination.RegistryRepository(registry.Host, "team/app") { Tags = ["1.0", "latest"] }, ImageReference.Parse(registry.Host + "/dotnet/runtime:10.0"), cache: cache);

        var cold = await Publisher(credentials).PublishAsync(request, TestContext.CancellationToken);
        var unchanged = await Publisher(credentials).PublishAsync(request, TestContext.CancellationToken);
        File.AppendAllText(Path.Combine(publish, "App.dll"), "one more line");
        var changed = await Publisher(credentials).PublishAsync(request, TestContext.CancellationToken);

        TestContext.WriteLine($"cold {cold.BytesUploaded} B up / {cold.BytesReused} B reused; unchanged {unchanged.BytesUploaded}; changed {changed.BytesUploaded}");
        Assert.IsGreaterThan(500_000L, cold.BytesUploaded);
        Assert.IsGreaterThan(0L, cold.BytesReused, "the base layer is mounted from dotnet/runtime, not uploaded");
        Assert.AreEqual(cold.Digest, unchanged.Digest);
        Assert.AreEqual(0L, unchanged.BytesUploaded);
        Assert.AreNotEqual(cold.Digest, changed.Digest);
        var appLayer = changed.Images[0].Layers.Single(l => l.Name == "app");
        Assert.IsLessThan(appLayer.Size + 16 * 1024, changed.BytesUploaded, "only the app layer and the config are uploaded");

        var skopeo = TestTools.Require("skopeo", "skopeo");
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", .. Creds(mode, registry), $"docker://{registry.Host}/team/app:1.0"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(changed.Digest, Digest.Compute(System.Text.Encoding.UTF8.GetBytes(inspect.StandardOutput.TrimEnd('\n'))));
        Assert.AreEqual(changed.ManifestJson, inspect.StandardOutput.TrimEnd('\n'));
    }

    private static string[] Creds(RegistryAuthMode mode, TestRegistry registry) =>
        mode == RegistryAuthMode.Anonymous ? [] : ["--creds", registry.Username + ":" + registry.Password];

    [TestMethod]
    public async Task Docker_archive_is_written_with_base_layers_and_loads_in_skopeo()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("archive");
        var publish = PublishFixture.MakePublishDirectory(work);
        var archive = Path.Combine(work, "images", "app.tar");

        var result = await Publisher().PublishAsync(PublishFixture.Request(publish, work, new ContainerDestination.Archive(archive, "team/app", ArchiveFormat.Docker) { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout, Path.Combine(work, "cache")), TestContext.CancellationToken);

        Assert.AreEqual(archive, result.ArchivePath);
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--config", $"docker-archive:{archive}"], cancellationToken: TestContext.CancellationToken);
        using var config = JsonDocument.Parse(inspect.StandardOutput);
        Assert.AreEqual(5, config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
    }

    [TestMethod]
    public async Task Cache_is_pruned_to_its_bound_keeping_the_layers_in_use()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("prune");
        var cacheDir = Path.Combine(work, "cache");
        for (var i = 0; i < 3; i++)
        {
            var publish = PublishFixture.MakePublishDirectory(work, "p" + i, seed: i);
            new Random(i).NextBytes(new byte[1]);
            File.WriteAllBytes(Path.Combine(publish, "Serilog.dll"), RandomBytes(256 * 1024, seed: 100 + i));
            var request = PublishFixture.Request(publish, work, new ContainerDestination.OciLayoutDirectory(Path.Combine(work, "out"), "app") { Tags = ["t" + i] }, ImageReference.Parse("localhost/base:runtime"), baseLayout, cacheDir) with { LayerCacheMaxBytes = 400 * 1024 };
            await Publisher().PublishAsync(request, TestContext.CancellationToken);
        }

        var cache = new LayerCache(cacheDir, 400 * 1024);
        Assert.IsLessThanOrEqualTo(400L * 1024 + 300 * 1024, cache.SizeInBytes, "only the last publish's layers (about 260 KiB) may exceed the bound");
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
