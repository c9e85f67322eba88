using System.Security.Cryptography;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.Registry;
using Containers.Oci.Tests.Stores;
using Containers.Oci.Transports;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Transports;

/// <summary>Copies between the media through sources and targets, against the real registry, checked with skopeo.</summary>
[TestClass]
public sealed class TransportCopyTests
{
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    private CancellationToken Token => TestContext.CancellationToken;

    [TestInitialize]
    public void CreateWorkDirectory() => _work = new TemporaryDirectory("transport-tests-");

    [TestCleanup]
    public void DeleteWorkDirectory() => _work.Dispose();

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public async Task Registry_to_layout_to_archive_to_registry_keeps_the_manifest_digest(bool multiPlatform)
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, Token);
        using var client = new RegistryClient();
        var content = multiPlatform
            ? ImageContent.FromIndex(new ComposedImageIndex([TestImages.CreateImage(_work, Platform.LinuxAmd64, "amd64"), TestImages.CreateImage(_work, Platform.LinuxArm64, "arm64")]))
            : ImageContent.FromImage(TestImages.CreateImage(_work));
        var expected = content.Descriptor.Digest;
        await ImageLocation.Parse($"{registry.Host}/team/app:1.0").CreateTarget(client).WriteAsync(content, Token);

        string[] hops = [$"oci:{_work}/layout:1.0", $"oci-archive:{_work}/app.tar:1.0", $"oci-archive:{_work}/app.tar.gz:1.0", $"{registry.Host}/copied/app:2.0"];
        var from = $"{registry.Host}/team/app:1.0";
        foreach (var to in hops)
        {
            var read = await ImageLocation.Parse(from).CreateSource(client).ReadAsync(Token);
            Assert.AreEqual(multiPlatform, read.Index is not null, $"{from} read as {(read.Index is null ? "an image" : "an index")}");
            var written = await ImageLocation.Parse(to).CreateTarget(client).WriteAsync(read, Token);
            Assert.AreEqual(expected, written.Digest, $"{from} -> {to}");
            from = to;
        }

        // skopeo, independently: the last copy in the registry and the layout have the first's digest and layers.
        foreach (var check in new[] { $"docker://{registry.Host}/copied/app:2.0", $"oci:{_work}/layout:1.0" })
        {
            var raw = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", check], cancellationToken: Token);
            Assert.AreEqual(expected.Hex, Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput))), check);
        }

        await TestTools.RunCheckedAsync(skopeo, ["copy", "--all", "--src-tls-verify=false", $"docker://{registry.Host}/copied/app:2.0", $"oci:{_work}/by-skopeo:x"], cancellationToken: Token);
    }

    [TestMethod]
    public async Task A_docker_archive_keeps_the_config_and_layers_and_refuses_an_index()
    {
        var image = TestImages.CreateImage(_work);
        var path = Path.Combine(_work, "app.tar");

        await ImageLocation.Parse($"docker-archive:{path}:team/app:1.0").CreateTarget().WriteAsync(ImageContent.FromImage(image), Token);
        var read = await ImageLocation.Parse($"docker-archive:{path}:team/app:1.0").CreateSource().ReadImageAsync(Platform.LinuxAmd64, Token);

        Assert.AreEqual(image.Manifest.Config.Digest, read.Manifest.Config.Digest);
        CollectionAssert.AreEqual(image.Layers.Select(l => l.DiffId).ToArray(), read.Layers.Select(l => l.DiffId).ToArray());
        var index = ImageContent.FromIndex(new ComposedImageIndex([image]));
        var refused = await Assert.ThrowsExactlyAsync<OciException>(() => new DockerArchiveImageTarget(path, ["team/app:1.0"]).WriteAsync(index, Token));
        StringAssert.Contains(refused.Message, "oci-archive:" + path);
    }

    [TestMethod]
    public async Task A_layout_source_picks_a_platform_from_an_index_and_names_the_choices_when_it_has_no_single_image()
    {
        var amd = TestImages.CreateImage(_work, Platform.LinuxAmd64, "amd64");
        var arm = TestImages.CreateImage(_work, Platform.LinuxArm64, "arm64");
        var layout = Path.Combine(_work, "layout");
        await new OciLayoutImageTarget(layout, ["multi"]).WriteAsync(ImageContent.FromIndex(new ComposedImageIndex([amd, arm])), Token);

        var picked = await new OciLayoutImageSource(layout).ReadImageAsync(Platform.LinuxArm64, Token);
        Assert.AreEqual(arm.ManifestDescriptor.Digest, picked.ManifestDescriptor.Digest);

        await new OciLayoutImageTarget(layout, ["single"]).WriteAsync(ImageContent.FromImage(amd), Token);
        var ambiguous = await Assert.ThrowsExactlyAsync<OciException>(() => new OciLayoutImageSource(layout).ReadAsync(Token));
        StringAssert.Contains(ambiguous.Message, $"oci:{layout}:TAG");
        StringAssert.Contains(ambiguous.Message, "multi, single");
    }
}
