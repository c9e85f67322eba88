using System.Text.Json;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Tests.Stores;
using Containers.Oci.Transports;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Transports;

/// <summary>
/// The package README's "Build an image and push it" (and Image's XML example), step for step, against the real
/// registry with a small base image in place of dotnet/aspnet; skopeo checks the result.
/// </summary>
[TestClass]
public sealed class PackageReadmeExampleTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task The_readme_builds_an_app_image_on_a_registry_base_and_pushes_it()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        using var work = new TemporaryDirectory("readme-example-");
        await using var testRegistry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        var publish = Directory.CreateDirectory(Path.Combine(work, "bin/Release/net10.0/publish")).FullName;
        await File.WriteAllTextAsync(Path.Combine(publish, "MyApp.dll"), "not really an assembly", TestContext.CancellationToken);
        var seed = TestImages.CreateImage(work);
        using (var seeding = new RegistryClient())
        {
            await seeding.PushImageAsync(seed, testRegistry.Host, "dotnet/aspnet", ["10.0"], cancellationToken: TestContext.CancellationToken);
        }

        // --- the README, with the test registry's address ---
        using var registry = new RegistryClient();
        IImage baseImage = await new RegistryImageSource(registry, ImageReference.Parse($"{testRegistry.Host}/dotnet/aspnet:10.0"))
            .ReadImageAsync(Platform.LinuxAmd64, TestContext.CancellationToken);
        StoredLayer appLayer = await LayerWriter.WriteToDirectoryAsync(
            LayerPlan.Empty.AddDirectoryTree(publish, "/app"), Path.Combine(work, "blobs"), cancellationToken: TestContext.CancellationToken);
        Image app = Image.From(baseImage)
            .AppendLayers(appLayer)
            .WithConfig(c => c with { Config = c.Config! with { Entrypoint = ["dotnet", "/app/MyApp.dll"], WorkingDir = "/app" } });
        await ImageLocation.Parse($"{testRegistry.Host}/myapp:1.0").CreateTarget(registry).WriteAsync(ImageContent.FromImage(app), TestContext.CancellationToken);
        // ---

        var inspected = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--tls-verify=false", $"docker://{testRegistry.Host}/myapp:1.0"], cancellationToken: TestContext.CancellationToken);
        using var json = JsonDocument.Parse(inspected.StandardOutput);
        Assert.AreEqual(app.ManifestDescriptor.Digest.ToString(), json.RootElement.GetProperty("Digest").GetString());
        Assert.AreEqual(seed.Layers.Count + 1, json.RootElement.GetProperty("Layers").GetArrayLength());
        var config = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--config", "--tls-verify=false", $"docker://{testRegistry.Host}/myapp:1.0"], cancellationToken: TestContext.CancellationToken);
        StringAssert.Contains(config.StandardOutput, "/app/MyApp.dll");
    }
}
