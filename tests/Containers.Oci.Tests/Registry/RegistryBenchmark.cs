using System.Diagnostics;
using System.Globalization;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Registry;

/// <summary>
/// Push and pull throughput against a local real registry. Not part of the normal run: it is compiled
/// only with -p:ContainersSdkBenchmarks=true, which eng/bench/registry.sh passes; it prints its figures.
/// </summary>
[TestClass]
public sealed class RegistryBenchmark
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("Benchmark")]
    public async Task Push_and_pull_throughput_of_a_200_MB_image()
    {
        var layerCount = 4;
        var layerBytes = 50L * 1024 * 1024;
        using var images = new TestImages();
        var image = await images.CreateImageAsync(layerCount, layerBytes);
        var total = image.Layers.Sum(l => l.Descriptor.Size);
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);

        await MeasurePushAndPullAsync(registry, image, total, "monolithic (one PUT per layer)", "bench/mono", o => o);
        await MeasurePushAndPullAsync(registry, image, total, "chunked (16 MiB PATCHes)", "bench/chunked", o => o with { ChunkedUploadThreshold = 0, ChunkSize = 16 * 1024 * 1024 });
    }

    private async Task MeasurePushAndPullAsync(TestRegistry registry, IImage image, long total, string label, string repository, Func<RegistryClientOptions, RegistryClientOptions> configure)
    {
        using var client = new RegistryClient(configure(new RegistryClientOptions { CredentialProvider = new StaticCredentialProvider(registry.Credential) }));
        var push = Stopwatch.StartNew();
        await client.PushImageAsync(image, registry.Host, repository, ["1"], cancellationToken: TestContext.CancellationToken);
        push.Stop();

        var pull = Stopwatch.StartNew();
        var pulled = await client.GetImageAsync(registry.Host, repository, "1", null, TestContext.CancellationToken);
        await Task.WhenAll(pulled.Layers.Select(layer => TestImages.ReadBlobDigestAsync(layer, TestContext.CancellationToken)));
        pull.Stop();

        var megabytes = total / 1_000_000.0;
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BENCH {label}: {image.Layers.Count} layers, {megabytes:F1} MB; push {push.Elapsed.TotalSeconds:F2} s = {megabytes / push.Elapsed.TotalSeconds:F1} MB/s; pull (verified) {pull.Elapsed.TotalSeconds:F2} s = {megabytes / pull.Elapsed.TotalSeconds:F1} MB/s"));
        Assert.AreEqual(image.ManifestDescriptor.Digest, pulled.ManifestDescriptor.Digest);
    }
}
