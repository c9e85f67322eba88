using System.Text.Json;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

/// <summary>Our layouts checked by independent tools (skopeo, umoci), and theirs read by us.</summary>
[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OciLayoutInteropTests
{
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() => _work = new TemporaryDirectory("stores-tests-");

    [TestCleanup]
    public void DeleteWorkDirectory() => _work.Dispose();

    private CancellationToken Token => TestContext.CancellationToken;

    [TestMethod]
    public async Task Skopeo_inspects_our_layout_and_sees_the_same_digest_and_config()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);

        var result = await TestTools.RunCheckedAsync(skopeo, ["inspect", $"oci:{layout.DirectoryPath}:1.0"], cancellationToken: Token);

        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.AreEqual(image.ManifestDescriptor.Digest.ToString(), json.RootElement.GetProperty("Digest").GetString());
        Assert.AreEqual("amd64", json.RootElement.GetProperty("Architecture").GetString());
        Assert.AreEqual(2, json.RootElement.GetProperty("Layers").GetArrayLength());
        Assert.Contains("MARKER=1", json.RootElement.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [TestMethod]
    public async Task Umoci_unpacks_our_layout_into_the_input_files_with_their_modes()
    {
        var umoci = TestTools.Require("umoci", "umoci");
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var bundle = Path.Combine(_work, "bundle");

        await TestTools.RunCheckedAsync(umoci, ["unpack", "--image", $"{layout.DirectoryPath}:1.0", bundle], cancellationToken: Token);

        var rootfs = Path.Combine(bundle, "rootfs");
        Assert.AreEqual("ID=test\n", File.ReadAllText(Path.Combine(rootfs, "etc/os-release")));
        Assert.AreEqual("app 1", File.ReadAllText(Path.Combine(rootfs, "app/app.dll")));
        Assert.AreEqual("#!/bin/sh\nexec dotnet app.dll\n", File.ReadAllText(Path.Combine(rootfs, "app/run.sh")));
        Assert.AreEqual(TestImages.Executable, File.GetUnixFileMode(Path.Combine(rootfs, "app/run.sh")));
        Assert.AreEqual(TestImages.Executable, File.GetUnixFileMode(Path.Combine(rootfs, "usr/bin/tool")));
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(Path.Combine(rootfs, "app/app.dll")));
        var runtimeConfig = File.ReadAllText(Path.Combine(bundle, "config.json"));
        Assert.Contains("/app/run.sh", runtimeConfig);
    }

    [TestMethod]
    public async Task Skopeo_copies_our_layout_and_we_read_the_copy()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var copy = Path.Combine(_work, "copy");

        await TestTools.RunCheckedAsync(skopeo, ["copy", $"oci:{layout.DirectoryPath}:1.0", $"oci:{copy}:x"], cancellationToken: Token);

        var read = await OciLayout.Open(copy).ReadImageAsync("x", cancellationToken: Token);
        Assert.AreEqual(image.ManifestDescriptor.Digest, read.ManifestDescriptor.Digest);
        CollectionAssert.AreEqual(
            await TestImages.ReadAllAsync(image.Layers[1].OpenUncompressedAsync(Token)),
            await TestImages.ReadAllAsync(read.Layers[1].OpenUncompressedAsync(Token)));
    }

    [TestMethod]
    public async Task A_layout_skopeo_converted_to_docker_media_types_is_read_by_us()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = TestImages.CreateImage(_work);
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        await layout.WriteImageAsync(image, "1.0", Token);
        var converted = Path.Combine(_work, "converted");

        await TestTools.RunCheckedAsync(skopeo, ["copy", "--format", "v2s2", $"oci:{layout.DirectoryPath}:1.0", $"oci:{converted}:docker"], cancellationToken: Token);

        var read = await OciLayout.Open(converted).ReadImageAsync("docker", cancellationToken: Token);
        Assert.AreEqual(MediaTypes.DockerManifest, read.Manifest.MediaType);
        Assert.AreEqual(MediaTypes.DockerLayerGzip, read.Layers[0].Descriptor.MediaType);
        CollectionAssert.AreEqual(image.Config.RootFs.DiffIds.ToArray(), read.Config.RootFs.DiffIds.ToArray());
        Assert.AreEqual(read.Layers[0].DiffId, await Digest.ComputeAsync(await read.Layers[0].OpenUncompressedAsync(Token), Token));
    }

    [TestMethod]
    public async Task Skopeo_inspects_each_platform_of_our_index()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var amd64 = TestImages.CreateImage(_work, Platform.LinuxAmd64, "amd64");
        var arm64 = TestImages.CreateImage(_work, Platform.LinuxArm64, "arm64");
        var layout = OciLayout.Create(Path.Combine(_work, "layout"));
        var index = new ComposedImageIndex([amd64, arm64]);
        await layout.WriteIndexAsync(index, "multi", Token);

        var raw = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", $"oci:{layout.DirectoryPath}:multi"], cancellationToken: Token);
        var arm = await TestTools.RunCheckedAsync(skopeo, ["--override-arch", "arm64", "inspect", $"oci:{layout.DirectoryPath}:multi"], cancellationToken: Token);

        Assert.AreEqual(index.IndexDescriptor.Digest, Digest.Compute(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput)));
        using var json = JsonDocument.Parse(arm.StandardOutput);
        // skopeo reports the digest of what the name points to (the index) and the selected image's config.
        Assert.AreEqual(index.IndexDescriptor.Digest.ToString(), json.RootElement.GetProperty("Digest").GetString());
        Assert.AreEqual("arm64", json.RootElement.GetProperty("Architecture").GetString());
        Assert.Contains("MARKER=arm64", json.RootElement.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }
}
