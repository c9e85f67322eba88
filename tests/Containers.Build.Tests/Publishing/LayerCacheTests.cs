using Containers.Build.Publishing;
using Containers.Oci.Layers;

namespace Containers.Build.Tests.Publishing;

[TestClass]
public sealed class LayerCacheTests
{
    private static readonly LayerWriteOptions Options = new() { Timestamp = DateTimeOffset.UnixEpoch };

    public TestContext TestContext { get; set; } = null!;

    private static string NewDirectory() => Directory.CreateTempSubdirectory("layer-cache-test-").FullName;

    [TestMethod]
    public async Task Unchanged_files_are_found_by_fingerprint_and_a_changed_file_builds_a_new_layer()
    {
        var work = NewDirectory();
        try
        {
            var file = Path.Combine(work, "app.dll");
            await File.WriteAllTextAsync(file, "version 1", TestContext.CancellationToken);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-5));
            var cache = new LayerCache(Path.Combine(work, "cache"), long.MaxValue);
            var plan = LayerPlan.Empty.AddFile(file, "/app/app.dll");

            var (first, firstCached) = await cache.GetOrBuildAsync(plan, Options, TestContext.CancellationToken);
            Assert.IsFalse(firstCached);
            Assert.HasCount(1, Directory.GetFiles(Path.Combine(work, "cache", "fingerprints")), "a settled file's fingerprint is recorded");

            var (second, secondCached) = await cache.GetOrBuildAsync(plan, Options, TestContext.CancellationToken);
            Assert.IsTrue(secondCached);
            Assert.AreEqual(first.Descriptor.Digest, second.Descriptor.Digest);

            // New content (and so a new modification time): a new layer, never the fingerprint's old one.
            await File.WriteAllTextAsync(file, "version 2", TestContext.CancellationToken);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-4));
            var (third, thirdCached) = await cache.GetOrBuildAsync(plan, Options, TestContext.CancellationToken);
            Assert.IsFalse(thirdCached);
            Assert.AreNotEqual(first.Descriptor.Digest, third.Descriptor.Digest);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestMethod]
    public async Task The_same_layer_asked_for_four_times_at_once_is_written_once()
    {
        var work = NewDirectory();
        try
        {
            // Four copies of the same content in four directories: four plans with one content key.
            var content = new byte[3 * 1024 * 1024];
            new Random(4).NextBytes(content);
            var plans = Enumerable.Range(0, 4).Select(i =>
            {
                var file = Path.Combine(work, "publish" + i, "app.dll");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, content);
                return LayerPlan.Empty.AddFile(file, "/app/app.dll");
            }).ToArray();
            var cache = new LayerCache(Path.Combine(work, "cache"), long.MaxValue);

            var results = await Task.WhenAll(plans.Select(plan => Task.Run(() => cache.GetOrBuildAsync(plan, Options, TestContext.CancellationToken))));

            Assert.AreEqual(1, results.Count(r => !r.FromCache), "one writes, the others take its blob");
            Assert.AreEqual(1, results.Select(r => r.Layer.Descriptor).Distinct().Count());
            Assert.HasCount(1, Directory.GetFiles(Path.Combine(work, "cache", "blobs", "sha256")), "one blob, no temporary file left");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestMethod]
    public async Task A_file_modified_within_the_racy_window_is_hashed_every_time()
    {
        var work = NewDirectory();
        try
        {
            var file = Path.Combine(work, "app.dll");
            await File.WriteAllTextAsync(file, "same size A", TestContext.CancellationToken);
            var cache = new LayerCache(Path.Combine(work, "cache"), long.MaxValue);
            var plan = LayerPlan.Empty.AddFile(file, "/app/app.dll");

            var (first, _) = await cache.GetOrBuildAsync(plan, Options, TestContext.CancellationToken);
            Assert.IsFalse(Directory.Exists(Path.Combine(work, "cache", "fingerprints")) && Directory.GetFiles(Path.Combine(work, "cache", "fingerprints")).Length > 0, "no fingerprint for a file written just now");

            // Same size, same second: only the content tells them apart, and the content is what is hashed.
            var modified = File.GetLastWriteTimeUtc(file);
            await File.WriteAllTextAsync(file, "same size B", TestContext.CancellationToken);
            File.SetLastWriteTimeUtc(file, modified);
            var (second, secondCached) = await cache.GetOrBuildAsync(plan, Options, TestContext.CancellationToken);
            Assert.IsFalse(secondCached);
            Assert.AreNotEqual(first.Descriptor.Digest, second.Descriptor.Digest);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
