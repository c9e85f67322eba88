using System.Security.Cryptography;
using Containers.Build.Publishing;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Tests.Registry.Fakes;

namespace Containers.Build.Tests.Publishing;

/// <summary>
/// What a publish leaves behind when the layer it streams to the registry while compressing it fails: the ordinary
/// push takes over from the layer's file; if that fails too, the publish fails with a one-line registry error, no tag
/// moves and the layer cache holds only whole layers (the task reports a RegistryException as CONTAINER8023); cancelled mid-layer, nothing is left half-written.
/// The registry is the in-process fake (faults on cue); the happy path runs against the real one in
/// <see cref="ContainerPublisherTests"/>.
/// </summary>
[TestClass]
public sealed class StreamedLayerFailureTests
{
    public TestContext TestContext { get; set; } = null!;

    private readonly List<string> _cleanup = [];

    [TestCleanup]
    public void Cleanup()
    {
        foreach (var dir in _cleanup.Where(Directory.Exists))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public async Task A_chunk_refused_midway_is_pushed_from_the_layer_file_and_the_image_is_whole()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var fault = new FaultRule { When = FaultRule.Matching("PATCH", "/blobs/uploads/"), Action = FaultRule.Status(500), Times = 1 };
        registry.Faults.Add(fault);
        var (request, cache) = await RequestAsync(registry, "fallback");
        var messages = new List<string>();

        var result = await Publisher(messages).PublishAsync(request, TestContext.CancellationToken);

        Assert.AreEqual(1, fault.Applied, "the streamed upload of the big layer met the refused chunk");
        Assert.IsTrue(messages.Any(m => m.StartsWith("Streaming layer ", StringComparison.Ordinal) && m.Contains("uploaded from its file", StringComparison.Ordinal)), string.Join('\n', messages));
        Assert.IsTrue(registry.HasTag("team/app", "1.0"));
        Assert.IsTrue(registry.HasManifest(result.Digest.ToString()));
        foreach (var layer in result.Images[0].Layers)
        {
            Assert.IsTrue(registry.HasBlob("team/app", layer.Digest.ToString()), $"layer '{layer.Name}' is in the registry");
        }

        Assert.IsGreaterThanOrEqualTo(1, registry.CountRequests("DELETE", "/blobs/uploads/"), "the broken session is cancelled");
        AssertOnlyWholeLayers(cache, expectKeys: true);
    }

    [TestMethod]
    public async Task A_registry_that_refuses_every_upload_fails_the_publish_without_a_tag_and_with_only_whole_layers_cached()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.Faults.Add(new FaultRule { When = FaultRule.Matching("PATCH", "/blobs/uploads/"), Action = FaultRule.Status(500), Times = int.MaxValue });
        registry.Faults.Add(new FaultRule { When = FaultRule.Matching("PUT", "/blobs/uploads/"), Action = FaultRule.Status(500), Times = int.MaxValue });
        var (request, cache) = await RequestAsync(registry, "refused");

        var error = await Assert.ThrowsAsync<RegistryException>(() => Publisher([]).PublishAsync(request, TestContext.CancellationToken));

        Assert.DoesNotContain('\n', error.Message, "one line");
        Assert.Contains(registry.Host, error.Message);
        Assert.IsFalse(registry.HasTag("team/app", "1.0"), "no tag moves");
        Assert.AreEqual(0, registry.CountRequests("PUT", "/manifests/"), "no manifest is pushed");
        AssertOnlyWholeLayers(cache, expectKeys: true);
    }

    [TestMethod]
    public async Task Cancelled_while_a_layer_streams_leaves_no_partial_layer_no_cache_key_and_no_upload_session()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.Faults.Add(new FaultRule { When = FaultRule.Matching("PATCH", "/blobs/uploads/"), Action = TakeTheChunkAndNeverAnswer, Times = int.MaxValue });
        var (request, cache) = await RequestAsync(registry, "cancelled");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);

        var publishing = Publisher([]).PublishAsync(request, cancel.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (registry.CountRequests("PATCH", "/blobs/uploads/") == 0 && !publishing.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.CancellationToken);
        }

        Assert.AreEqual(1, registry.CountRequests("PATCH", "/blobs/uploads/"), "the big layer's first chunk is on its way (and hangs)");
        await cancel.CancelAsync();

        await Assert.ThrowsAsync<OperationCanceledException>(() => publishing);
        Assert.IsFalse(registry.HasTag("team/app", "1.0"));
        Assert.AreEqual(0, registry.CountRequests("PUT", "/manifests/"));
        var big = Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories).Where(f => new FileInfo(f).Length > BlobUploadStream.ChunkSize);
        Assert.IsFalse(big.Any(), "the layer being written when the publish was cancelled is not in the cache: " + string.Join(", ", big));
        Assert.IsGreaterThanOrEqualTo(1, registry.CountRequests("DELETE", "/blobs/uploads/"), "the streamed session is cancelled");
        AssertOnlyWholeLayers(cache, expectKeys: false);
    }

    // A registry that is slow to acknowledge a chunk. The body is read first, so the server sees the client go away
    // when the publish is cancelled (FaultRule.Hang leaves a 4 MiB body unread and the connection stuck until shutdown).
    private static async Task TakeTheChunkAndNeverAnswer(Microsoft.AspNetCore.Http.HttpContext context)
    {
        try
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
        }
    }

    // Every blob in the cache hashes to its name, no temporary file is left, and every key names a blob that is there.
    private static void AssertOnlyWholeLayers(string cache, bool expectKeys)
    {
        var files = Directory.Exists(cache) ? Directory.GetFiles(cache, "*", SearchOption.AllDirectories) : [];
        var blobs = files.Where(f => Path.GetDirectoryName(f)!.EndsWith(Path.Combine("blobs", "sha256"), StringComparison.Ordinal)).ToList();
        var keys = files.Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "keys").ToList();
        CollectionAssert.AreEquivalent(files, blobs.Concat(keys).ToList(), "only blobs and keys, no temporary file: " + string.Join(", ", files));
        foreach (var blob in blobs)
        {
            Assert.AreEqual(Path.GetFileName(blob), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(blob))), "a cached blob is whole");
        }

        foreach (var key in keys)
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(key));
            var digest = json.RootElement.EnumerateObject().Single(p => p.Name.Equals("digest", StringComparison.OrdinalIgnoreCase)).Value.GetString()!;
            Assert.IsTrue(blobs.Any(b => digest.EndsWith(Path.GetFileName(b), StringComparison.Ordinal)), $"key {Path.GetFileName(key)} names a blob in the cache ({digest})");
        }

        if (expectKeys)
        {
            Assert.IsNotEmpty(keys, "the layers written whole are cached");
        }
    }

    private async Task<(ContainerPublishRequest Request, string Cache)> RequestAsync(FakeRegistry registry, string name)
    {
        var work = PublishFixture.NewTempDirectory("stream-" + name);
        _cleanup.Add(work);
        var layout = Containers.Oci.Stores.OciLayout.Create(Path.Combine(work, "layout"));
        await layout.WriteImageAsync(await PublishFixture.MakeBaseImageAsync(Containers.Oci.Platforms.Platform.LinuxAmd64, work), "runtime", TestContext.CancellationToken);
        var publish = PublishFixture.MakePublishDirectory(work);

        // Incompressible and bigger than two upload chunks, so its layer's stream sends PATCHes while it is compressed.
        var big = new byte[(2 * BlobUploadStream.ChunkSize) + 300_000];
        new Random(15).NextBytes(big);
        File.WriteAllBytes(Path.Combine(publish, "wwwroot", "big.bin"), big);
        var cache = Path.Combine(work, "cache");
        var request = PublishFixture.Request(publish, work, new ContainerDestination.RegistryRepository(registry.Host, "team/app") { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), layout.DirectoryPath, cache);
        return (request, cache);
    }

    private ContainerPublisher Publisher(List<string> messages) =>
        new(new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(5), MaxRetryDelay = TimeSpan.FromMilliseconds(20) }, new ListProgress(messages, TestContext));

    private sealed class ListProgress(List<string> messages, TestContext context) : IProgress<PublishProgress>
    {
        public void Report(PublishProgress value)
        {
            lock (messages)
            {
                messages.Add(value.Message);
            }

            context.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {value.Message}");
        }
    }
}
