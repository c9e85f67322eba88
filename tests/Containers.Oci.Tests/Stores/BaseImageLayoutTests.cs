using System.Text.Json;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

/// <summary>Reads the test base images (an OCI layout built by eng/base-images.sh, not by this library).</summary>
[TestClass]
public sealed class BaseImageLayoutTests
{
    public TestContext TestContext { get; set; } = null!;

    private CancellationToken Token => TestContext.CancellationToken;

    [TestMethod]
    public async Task Every_base_image_reads_with_verified_manifest_and_config()
    {
        var layout = OciLayout.Open(TestBaseImages.LayoutDirectory);

        var refs = await layout.GetRefNamesAsync(Token);

        CollectionAssert.IsSubsetOf(new[] { "runtime-deps-10.0", "runtime-10.0", "aspnet-10.0", "multiarch-10.0" }, refs.ToArray());
        foreach (var name in new[] { "runtime-deps-10.0", "runtime-10.0", "aspnet-10.0" })
        {
            var image = await layout.ReadImageAsync(name, cancellationToken: Token);
            Assert.AreEqual("linux", image.Config.OS, name);
            Assert.AreEqual(image.Manifest.Layers.Count, image.Layers.Count, name);
            Assert.IsTrue(image.Layers.All(l => File.Exists(layout.GetBlobPath(l.Descriptor.Digest))), name);
        }

        var deps = await layout.ReadImageAsync("runtime-deps-10.0", cancellationToken: Token);
        var top = deps.Layers[^1];
        Assert.AreEqual(top.DiffId, await Digest.ComputeAsync(await top.OpenUncompressedAsync(Token), Token));
    }

    [TestMethod]
    public async Task Multiarch_index_selects_each_platform()
    {
        var layout = OciLayout.Open(TestBaseImages.LayoutDirectory);

        var index = await layout.ReadIndexAsync("multiarch-10.0", Token);
        var arm64 = await layout.ReadImageAsync("multiarch-10.0", PlatformMatching.Parse("linux/arm64"), Token);
        var amd64 = await layout.ReadImageAsync("multiarch-10.0", Platform.LinuxAmd64, Token);

        Assert.AreEqual(2, index.Images.Count);
        Assert.AreEqual("arm64", arm64.Config.Architecture);
        Assert.AreEqual("amd64", amd64.Config.Architecture);
        Assert.AreNotEqual(arm64.ManifestDescriptor.Digest, amd64.ManifestDescriptor.Digest);
    }

    [TestMethod]
    public async Task An_app_image_on_a_base_image_is_written_to_a_new_layout_that_skopeo_reads()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        using var work = new TemporaryDirectory("stores-tests-");
        var baseImage = await OciLayout.Open(TestBaseImages.LayoutDirectory).ReadImageAsync("runtime-deps-10.0", cancellationToken: Token);
        var appLayer = TestImages.CreateLayer(Path.Combine(work, "layers"), new TestFile("app/app", "#!/bin/sh\n", TestImages.Executable));
        var app = Image.From(baseImage).AppendLayers(appLayer).WithConfig(c => c with { Config = (c.Config ?? new ContainerConfig()) with { Entrypoint = ["/app/app"] } });
        var layout = OciLayout.Create(Path.Combine(work, "layout"));

        await layout.WriteImageAsync(app, "app", Token);

        var result = await TestTools.RunCheckedAsync(skopeo, ["inspect", $"oci:{layout.DirectoryPath}:app"], cancellationToken: Token);
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.AreEqual(app.ManifestDescriptor.Digest.ToString(), json.RootElement.GetProperty("Digest").GetString());
        Assert.AreEqual(baseImage.Layers.Count + 1, json.RootElement.GetProperty("Layers").GetArrayLength());
    }
}
