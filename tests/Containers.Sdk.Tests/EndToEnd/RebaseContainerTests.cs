using System.Text.Json;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// `dotnet msbuild -t:RebaseContainer`: an app published on the test runtime base moves onto a patched copy of
/// that base (made with umoci and pushed with skopeo), runs under runc with the patch visible, keeps its app
/// layers, and the registry's storage gains nothing but the new manifest and config.
/// </summary>
public sealed partial class PublishContainerTests
{
    [TestMethod]
    public async Task RebaseContainer_moves_the_app_onto_a_patched_base_uploading_only_manifest_and_config()
    {
        RuncRunner.RequireRunc();
        var umoci = TestTools.Require("umoci", "umoci");
        // A registry of its own: the other tests push to the shared one concurrently, and this test counts blobs.
        await using var registry = await RegistryFixture.StartAsync(TestContext.CancellationToken, onlyRuntime: true);
        var project = TestProject.Create(
            "RebaseHello",
            $"<ContainerRegistry>{registry.Host}</ContainerRegistry><ContainerBaseImage>{registry.Host}/dotnet/runtime:10.0</ContainerBaseImage><ContainerImageTags>1.0;latest</ContainerImageTags>",
            program: """System.Console.WriteLine($"patched={System.IO.File.Exists("/etc/containers-sdk-patched")} marker={System.Environment.GetEnvironmentVariable("BASE_PATCH_LEVEL") ?? "none"}");""");
        await PublishCheckedAsync(project);
        var published = Inspect("rebasehello:1.0");
        var baseLayers = Inspect("dotnet/runtime:10.0").GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToArray();
        var appLayers = published.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).Skip(baseLayers.Length).ToArray();
        Assert.IsNotEmpty(appLayers);

        // The patched base: the same base plus a layer and an environment variable, built by umoci.
        var work = Directory.CreateDirectory(Path.Combine(project.Directory, "patch")).FullName;
        var layout = await registry.CopyToLayoutAsync("dotnet/runtime:10.0", work, TestContext.CancellationToken);
        var layerRoot = Directory.CreateDirectory(Path.Combine(work, "layer-root", "etc")).Parent!.FullName;
        await File.WriteAllTextAsync(Path.Combine(layerRoot, "etc", "containers-sdk-patched"), "patched\n", TestContext.CancellationToken);
        var layerTar = Path.Combine(work, "patch.tar");
        await TestTools.RunCheckedAsync("tar", ["-C", layerRoot, "-cf", layerTar, "etc/containers-sdk-patched"], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(umoci, ["raw", "add-layer", "--image", $"{layout}:image", "--tag", "patched", layerTar], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(umoci, ["config", "--image", $"{layout}:patched", "--config.env", "BASE_PATCH_LEVEL=2"], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", $"oci:{layout}:patched", $"docker://{registry.Host}/dotnet/runtime:10.0-patched"], cancellationToken: TestContext.CancellationToken);
        var patchedLayers = Inspect("dotnet/runtime:10.0-patched").GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToArray();
        var blobsBefore = StoredBlobs(registry);

        var rebase = await project.DotnetAsync(
            ["msbuild", project.ProjectFile, "-t:RebaseContainer", "-nologo", "-v:n", $"-p:ContainerRebaseBaseImage={registry.Host}/dotnet/runtime:10.0-patched"],
            cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(0, rebase.ExitCode, rebase.StandardOutput + rebase.StandardError);
        Assert.Contains($"Rebased {registry.Host}/rebasehello:1.0, {registry.Host}/rebasehello:latest", rebase.StandardOutput);
        var rebased = Inspect("rebasehello:1.0");
        Assert.AreNotEqual(published.GetProperty("Digest").GetString(), rebased.GetProperty("Digest").GetString());
        Assert.AreEqual(rebased.GetProperty("Digest").GetString(), Inspect("rebasehello:latest").GetProperty("Digest").GetString(), "every tag moved");
        CollectionAssert.AreEqual(patchedLayers.Concat(appLayers).ToArray(), rebased.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToArray(), "the patched base's layers, then the same app layers");
        var newBlobs = StoredBlobs(registry).Except(blobsBefore).ToArray();
        var rawManifest = JsonDocument.Parse((await registry.InspectAsync("rebasehello:1.0", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
        CollectionAssert.AreEquivalent(
            new[] { rebased.GetProperty("Digest").GetString(), rawManifest.GetProperty("config").GetProperty("digest").GetString() },
            newBlobs,
            "the registry stored nothing but the new manifest and config");
        Assert.AreEqual($"{registry.Host}/dotnet/runtime:10.0-patched", rawManifest.GetProperty("annotations").GetProperty("org.opencontainers.image.base.name").GetString());

        var pulled = await registry.CopyToLayoutAsync("rebasehello:1.0", project.Directory, TestContext.CancellationToken);
        var bundle = await RuncRunner.UnpackAsync(pulled, "image", project.Directory, TestContext.CancellationToken);
        var run = await RuncRunner.RunToCompletionAsync(bundle, TestContext.CancellationToken);
        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        Assert.Contains("patched=True marker=2", run.StandardOutput);

        // Onto a base from another repository: refused with a coded one-line error, tags untouched.
        var refused = await project.DotnetAsync(
            ["msbuild", project.ProjectFile, "-t:RebaseContainer", "-nologo", $"-p:ContainerRebaseBaseImage={registry.Host}/dotnet/aspnet-other:10.0"],
            cancellationToken: TestContext.CancellationToken);
        Assert.AreNotEqual(0, refused.ExitCode);
        Assert.Contains("CONTAINER8050", refused.StandardOutput);
        Assert.Contains("was built on", refused.StandardOutput);
        Assert.DoesNotContain("   at ", refused.StandardOutput);
        Assert.AreEqual(rebased.GetProperty("Digest").GetString(), Inspect("rebasehello:1.0").GetProperty("Digest").GetString());

        JsonElement Inspect(string name) => JsonDocument.Parse(registry.InspectAsync(name, raw: false, TestContext.CancellationToken).GetAwaiter().GetResult().StandardOutput).RootElement;
    }

    // Every blob the registry holds on disk (distribution stores manifests as blobs too).
    private static HashSet<string> StoredBlobs(RegistryFixture registry)
    {
        var blobs = Path.Combine(registry.Registry.StorageDirectory, "docker", "registry", "v2", "blobs", "sha256");
        return Directory.Exists(blobs)
            ? Directory.GetDirectories(blobs).SelectMany(Directory.GetDirectories).Select(d => "sha256:" + Path.GetFileName(d)).ToHashSet(StringComparer.Ordinal)
            : [];
    }
}
