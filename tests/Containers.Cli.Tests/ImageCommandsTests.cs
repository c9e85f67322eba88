using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Containers.Oci.Referrers;
using Containers.Oci.Registry;

namespace Containers.Cli.Tests;

/// <summary>
/// images, inspect, pull, copy, tag and sbom end to end with the installed tool, against the real distribution registry
/// of <see cref="WebApiImage"/> (samples/WebApi as published, with its SBOM referrer) and the test base images; skopeo is
/// the independent check of what was written.
/// </summary>
[TestClass]
public sealed class ImageCommandsTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Copy_from_a_registry_to_a_layout_to_an_oci_archive_to_a_registry_keeps_the_manifest_digest()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var registry = RegistryOf(image.Registry);
        var work = CliTool.NewWorkDirectory("copy");
        var original = await SkopeoRawDigestAsync($"docker://{image.Registry}");

        var toLayout = await CliTool.RunCheckedAsync(["copy", image.Registry, $"oci:{work}/layout:copied"], TestContext.CancellationToken);
        Assert.AreEqual(original, toLayout.StandardOutput.Trim(), "copy prints the digest written");
        Assert.AreEqual(original, await SkopeoRawDigestAsync($"oci:{work}/layout:copied"));
        StringAssert.Contains(toLayout.StandardError, "Pulled  sha256:", "one plain progress line per layer when stderr is not a terminal");

        await CliTool.RunCheckedAsync(["copy", $"oci:{work}/layout:copied", $"oci-archive:{work}/image.tar:copied"], TestContext.CancellationToken);
        Assert.AreEqual(original, await SkopeoRawDigestAsync($"oci-archive:{work}/image.tar:copied"));

        var toRegistry = await CliTool.RunCheckedAsync(["copy", $"oci-archive:{work}/image.tar:copied", $"{registry}/copies/web-api:round-trip"], TestContext.CancellationToken);
        Assert.AreEqual(original, toRegistry.StandardOutput.Trim());
        Assert.AreEqual(original, await SkopeoRawDigestAsync($"docker://{registry}/copies/web-api:round-trip"), "registry -> layout -> oci-archive -> registry keeps the manifest digest");
        StringAssert.Contains(toRegistry.StandardError, "Pushed  sha256:");

        // A docker archive re-makes no manifest either (its config and layers are what docker load reads): podman-loadable names.
        await CliTool.RunCheckedAsync(["copy", $"{registry}/copies/web-api:round-trip", $"docker-archive:{work}/image.docker.tar:samples/web-api:copied"], TestContext.CancellationToken);
        // Its layers are stored uncompressed: skopeo names them by the diff ids of the source's config.
        var inspected = await SkopeoInspectAsync($"docker-archive:{work}/image.docker.tar");
        var config = JsonDocument.Parse((await TestTools.RunCheckedAsync("skopeo", ["inspect", "--config", "--tls-verify=false", $"docker://{image.Registry}"], cancellationToken: TestContext.CancellationToken)).StandardOutput).RootElement;
        Assert.AreEqual(
            config.GetProperty("rootfs").GetProperty("diff_ids").GetRawText().ReplaceLineEndings("").Replace(" ", "", StringComparison.Ordinal),
            inspected.GetProperty("Layers").GetRawText().ReplaceLineEndings("").Replace(" ", "", StringComparison.Ordinal),
            "the docker archive holds the same layers");
    }

    [TestMethod]
    public async Task Copy_into_containerd_imports_the_image_under_its_kubernetes_name_and_a_second_copy_sends_nothing()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        await using var containerd = await TestContainerd.StartAsync(TestContext.CancellationToken);
        var environment = new Dictionary<string, string>(CliTool.Environment) { ["CONTAINERD_ADDRESS"] = containerd.Address };
        var original = await SkopeoRawDigestAsync($"docker://{image.Registry}");

        var first = await TestTools.RunAsync(CliTool.Command, ["copy", image.Layout, "containerd:samples/web-api:copied"], CliTool.PackageFeed.Root, environment, TestContext.CancellationToken);
        Assert.AreEqual(0, first.ExitCode, first.ToString());
        Assert.AreEqual(original, first.StandardOutput.Trim(), "copy prints the digest written");

        // ctr, independently: the image is there under the name a pod's "image: samples/web-api:copied" resolves to.
        var listed = await containerd.CtrAsync("k8s.io", ["images", "ls"], TestContext.CancellationToken);
        var row = listed.Split('\n').Single(line => line.StartsWith("docker.io/samples/web-api:copied ", StringComparison.Ordinal));
        StringAssert.Contains(row, original);
        var content = await containerd.ContentDigestsAsync("k8s.io", TestContext.CancellationToken);

        var second = await TestTools.RunAsync(CliTool.Command, ["copy", image.Registry, "containerd:k8s.io/docker.io/samples/web-api:again"], CliTool.PackageFeed.Root, environment, TestContext.CancellationToken);
        Assert.AreEqual(0, second.ExitCode, second.ToString());
        CollectionAssert.AreEquivalent(content.ToArray(), (await containerd.ContentDigestsAsync("k8s.io", TestContext.CancellationToken)).ToArray(), "the second copy added no blob");
        StringAssert.Contains(await containerd.CtrAsync("k8s.io", ["images", "ls", "-q"], TestContext.CancellationToken), "docker.io/samples/web-api:again");

        var unreachable = await TestTools.RunAsync(CliTool.Command, ["copy", image.Layout, "containerd:app"], CliTool.PackageFeed.Root, new Dictionary<string, string>(CliTool.Environment) { ["CONTAINERD_ADDRESS"] = Path.Combine(containerd.Directory, "missing.sock") }, TestContext.CancellationToken);
        Assert.AreNotEqual(0, unreachable.ExitCode);
        StringAssert.Contains(unreachable.StandardError, "missing.sock");
        Assert.IsFalse(unreachable.StandardError.Contains("   at ", StringComparison.Ordinal), "no stack trace: " + unreachable.StandardError);
    }

    [TestMethod]
    public async Task Copy_all_copies_an_index_and_its_sbom_referrer_between_registry_and_layout()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var registry = RegistryOf(image.Registry);
        var work = CliTool.NewWorkDirectory("copy-all");
        await TestTools.RunCheckedAsync("skopeo", ["copy", "--quiet", "--all", "--dest-tls-verify=false", $"oci:{TestBaseImages.LayoutDirectory}:multiarch-10.0", $"docker://{registry}/multi/base:1"], cancellationToken: TestContext.CancellationToken);
        var indexDigest = await SkopeoRawDigestAsync($"docker://{registry}/multi/base:1");

        // An SBOM attached to the index with Containers.Oci's referrer API (the registry has no referrers API: the tag fallback).
        var sbomBytes = Encoding.UTF8.GetBytes("""{"spdxVersion":"SPDX-2.3","name":"multi/base"}""");
        using (var client = new RegistryClient())
        {
            var raw = await client.GetManifestAsync(registry, "multi/base", "1", TestContext.CancellationToken);
            await client.PushReferrerAsync(registry, "multi/base", ReferrerArtifact.Create("application/spdx+json", sbomBytes, "application/spdx+json", raw.Descriptor), TestContext.CancellationToken);
        }

        var toLayout = await CliTool.RunCheckedAsync(["copy", "--all", $"{registry}/multi/base:1", $"oci:{work}/layout:multi"], TestContext.CancellationToken);
        Assert.AreEqual(indexDigest, toLayout.StandardOutput.Trim());
        Assert.AreEqual(indexDigest, await SkopeoRawDigestAsync($"oci:{work}/layout:multi"), "--all copies the index itself");
        foreach (var platform in new[] { "linux/amd64", "linux/arm64" })
        {
            var (os, arch) = (platform.Split('/')[0], platform.Split('/')[1]);
            await TestTools.RunCheckedAsync("skopeo", ["inspect", "--override-os", os, "--override-arch", arch, $"oci:{work}/layout:multi"], cancellationToken: TestContext.CancellationToken);
        }

        var layoutSbom = await CliTool.RunCheckedAsync(["sbom", $"oci:{work}/layout:multi"], TestContext.CancellationToken);
        Assert.AreEqual(Encoding.UTF8.GetString(sbomBytes), layoutSbom.StandardOutput, "the index's SBOM referrer came along into the layout");

        await CliTool.RunCheckedAsync(["copy", "--all", $"oci:{work}/layout:multi", $"{registry}/multi/copied:1"], TestContext.CancellationToken);
        Assert.AreEqual(indexDigest, await SkopeoRawDigestAsync($"docker://{registry}/multi/copied:1"));
        var registrySbom = await CliTool.RunCheckedAsync(["sbom", $"{registry}/multi/copied:1"], TestContext.CancellationToken);
        Assert.AreEqual(Encoding.UTF8.GetString(sbomBytes), registrySbom.StandardOutput, "and from the layout into the other repository");

        // Without --all: the host's platform's image out of the index, as skopeo copy does.
        var single = await CliTool.RunCheckedAsync(["copy", $"{registry}/multi/base:1", $"oci:{work}/layout:single", "--platform", "linux/arm64"], TestContext.CancellationToken);
        var arm64 = JsonDocument.Parse(await SkopeoRawAsync($"docker://{registry}/multi/base:1")).RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.GetProperty("platform").GetProperty("architecture").GetString() == "arm64").GetProperty("digest").GetString();
        Assert.AreEqual(arm64, single.StandardOutput.Trim());
        Assert.AreEqual(arm64, await SkopeoRawDigestAsync($"oci:{work}/layout:single"));
    }

    [TestMethod]
    public async Task Inspect_format_json_agrees_with_skopeo_inspect_field_by_field()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        string[] fields = ["Name", "Digest", "RepoTags", "Created", "DockerVersion", "Labels", "Architecture", "Os", "Layers", "Env"];
        foreach (var (ours, skopeos) in new[]
        {
            (image.Registry, $"docker://{image.Registry}"),
            (image.Layout, image.Layout),
            ($"oci:{TestBaseImages.LayoutDirectory}:multiarch-10.0", $"oci:{TestBaseImages.LayoutDirectory}:multiarch-10.0"),
        })
        {
            var inspected = JsonDocument.Parse((await CliTool.RunCheckedAsync(["inspect", "--format", "json", ours], TestContext.CancellationToken)).StandardOutput).RootElement;
            var expected = await SkopeoInspectAsync(skopeos);
            foreach (var field in fields)
            {
                var has = expected.TryGetProperty(field, out var value);
                Assert.AreEqual(has, inspected.TryGetProperty(field, out var actual), $"{ours}: {field} present in skopeo's output and ours alike");
                if (has && field == "Created")
                {
                    Assert.AreEqual(DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(actual.GetString()!, System.Globalization.CultureInfo.InvariantCulture), $"{ours}: Created");
                }
                else if (has && field == "RepoTags")
                {
                    CollectionAssert.AreEquivalent(value.EnumerateArray().Select(t => t.GetString()).ToList(), actual.EnumerateArray().Select(t => t.GetString()).ToList(), $"{ours}: RepoTags");
                }
                else if (has)
                {
                    Assert.AreEqual(value.GetRawText().ReplaceLineEndings("").Replace(" ", "", StringComparison.Ordinal), actual.GetRawText().ReplaceLineEndings("").Replace(" ", "", StringComparison.Ordinal), $"{ours}: {field}");
                }
            }
        }

        // Beyond skopeo: the SBOM publishing attached is listed as a referrer, the raw manifest is skopeo's --raw.
        var published = JsonDocument.Parse((await CliTool.RunCheckedAsync(["inspect", "--format", "json", image.Registry], TestContext.CancellationToken)).StandardOutput).RootElement;
        Assert.IsTrue(published.GetProperty("Referrers").EnumerateArray().Any(r => r.GetProperty("ArtifactType").GetString() == "application/spdx+json"), published.ToString());
        var raw = await CliTool.RunCheckedAsync(["inspect", "--raw", image.Registry], TestContext.CancellationToken);
        Assert.AreEqual(await SkopeoRawAsync($"docker://{image.Registry}"), raw.StandardOutput);
        var text = await CliTool.RunCheckedAsync(["inspect", $"oci:{TestBaseImages.LayoutDirectory}:multiarch-10.0"], TestContext.CancellationToken);
        StringAssert.Contains(text.StandardOutput, "linux/arm64/v8", "the text form lists an index's platforms");
    }

    [TestMethod]
    public async Task Pull_fills_the_host_image_cache_and_images_lists_it_with_its_size()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var pulled = await CliTool.RunCheckedAsync(["pull", image.Registry], TestContext.CancellationToken);
        var digest = await SkopeoRawDigestAsync($"docker://{image.Registry}");
        Assert.AreEqual(digest, pulled.StandardOutput.Trim());

        var listed = JsonDocument.Parse((await CliTool.RunCheckedAsync(["images", "--format", "json"], TestContext.CancellationToken)).StandardOutput).RootElement;
        var entry = listed.GetProperty("Images").EnumerateArray().SingleOrDefault(i => i.GetProperty("Digest").GetString() == digest);
        Assert.AreNotEqual(JsonValueKind.Undefined, entry.ValueKind, listed.ToString());
        CollectionAssert.Contains(entry.GetProperty("Names").EnumerateArray().Select(n => n.GetString()).ToList(), image.Registry);
        var layers = (await SkopeoInspectAsync($"docker://{image.Registry}")).GetProperty("Layers").GetArrayLength();
        Assert.IsGreaterThan(0, layers);
        Assert.IsGreaterThan(1_000_000L, entry.GetProperty("Size").GetInt64(), "the size counts the layers (the aspnet base is tens of MB)");

        // Pulling again costs one HEAD: the cache says so.
        var again = await CliTool.RunCheckedAsync(["pull", image.Registry], TestContext.CancellationToken);
        StringAssert.Contains(again.StandardError, "is in the host's image cache");
        var table = await CliTool.RunCheckedAsync(["images"], TestContext.CancellationToken);
        StringAssert.Contains(table.StandardOutput, image.Registry);
    }

    [TestMethod]
    public async Task Tag_names_an_image_again_in_its_repository_another_repository_and_its_layout()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var registry = RegistryOf(image.Registry);
        var digest = await SkopeoRawDigestAsync($"docker://{image.Registry}");

        Assert.AreEqual(digest, (await CliTool.RunCheckedAsync(["tag", image.Registry, "retagged"], TestContext.CancellationToken)).StandardOutput.Trim());
        Assert.AreEqual(digest, await SkopeoRawDigestAsync($"docker://{registry}/samples/web-api:retagged"));

        var other = await CliTool.RunCheckedAsync(["tag", image.Registry, $"{registry}/tagged/web-api:1"], TestContext.CancellationToken);
        Assert.AreEqual(digest, await SkopeoRawDigestAsync($"docker://{registry}/tagged/web-api:1"));
        Assert.DoesNotContain("Pushed  sha256:", other.StandardError, "blobs are mounted from the source repository, not uploaded");

        var work = CliTool.NewWorkDirectory("tag");
        await CliTool.RunCheckedAsync(["copy", image.Registry, $"oci:{work}/layout:first"], TestContext.CancellationToken);
        await CliTool.RunCheckedAsync(["tag", $"oci:{work}/layout:first", "second"], TestContext.CancellationToken);
        Assert.AreEqual(digest, await SkopeoRawDigestAsync($"oci:{work}/layout:second"));
        Assert.AreEqual(digest, await SkopeoRawDigestAsync($"oci:{work}/layout:first"), "the first name stays");

        var across = await CliTool.RunAsync(["tag", image.Registry, $"oci:{work}/elsewhere:x"], TestContext.CancellationToken);
        AssertCodedError(across, 2, "CONTAINER6020", "dotnet container copy");
    }

    [TestMethod]
    public async Task Sbom_prints_the_sbom_publishing_attached()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var sbom = await CliTool.RunCheckedAsync(["sbom", image.Registry], TestContext.CancellationToken);
        var document = JsonDocument.Parse(sbom.StandardOutput).RootElement;
        Assert.AreEqual("SPDX-2.3", document.GetProperty("spdxVersion").GetString());
        StringAssert.Contains(sbom.StandardOutput, "samples/web-api", "it describes the published image");

        var cyclonedx = await CliTool.RunAsync(["sbom", "--format", "cyclonedx", image.Registry], TestContext.CancellationToken);
        AssertCodedError(cyclonedx, 125, "CONTAINER6024", "application/vnd.cyclonedx+json");
    }

    [TestMethod]
    public async Task Prune_dry_run_lists_what_prune_then_frees()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);

        // A private host cache: pruning the machine's would take images from other test runs.
        var cache = CliTool.NewWorkDirectory("prune-cache");
        var environment = CliTool.Environment;
        environment[Host.Lifecycle.ContainerHost.CacheDirectoryVariable] = cache;
        Task<ToolResult> Run(params string[] arguments) => TestTools.RunAsync(CliTool.Command, arguments, cache, environment, TestContext.CancellationToken);

        Assert.AreEqual(0, (await Run("pull", image.Registry)).ExitCode);
        var blobs = Directory.GetFiles(Path.Combine(cache, "images", "blobs", "sha256"));
        Assert.IsGreaterThan(2, blobs.Length);

        // Blobs younger than 10 minutes are kept (a pull in flight writes them before it names them): these are older.
        foreach (var blob in blobs)
        {
            File.SetLastWriteTimeUtc(blob, DateTime.UtcNow.AddMinutes(-11));
        }

        var dryRun = await Run("prune", "--all", "--dry-run");
        Assert.AreEqual(0, dryRun.ExitCode, dryRun.ToString());
        StringAssert.Contains(dryRun.StandardOutput, $"Would remove image {image.Registry}");
        StringAssert.Contains(dryRun.StandardOutput, "Would free ");
        Assert.HasCount(blobs.Length, Directory.GetFiles(Path.Combine(cache, "images", "blobs", "sha256")), "a dry run removes nothing");

        var rootfsOnly = await Run("prune");
        Assert.AreEqual(0, rootfsOnly.ExitCode, rootfsOnly.ToString());
        StringAssert.Contains(rootfsOnly.StandardOutput, "0 image(s)", "without --all pulled images stay");

        var pruned = await Run("prune", "--all");
        Assert.AreEqual(0, pruned.ExitCode, pruned.ToString());
        StringAssert.Contains(pruned.StandardOutput, $"Removed image {image.Registry}");
        StringAssert.Matches(pruned.StandardOutput, new System.Text.RegularExpressions.Regex(@"Freed [1-9][0-9.]* MiB"));
        Assert.IsEmpty(Directory.GetFiles(Path.Combine(cache, "images", "blobs", "sha256")), "every blob of the image is gone");
        var listed = JsonDocument.Parse((await Run("images", "--format", "json")).StandardOutput).RootElement;
        Assert.AreEqual(0, listed.GetProperty("Images").GetArrayLength(), listed.ToString());
    }

    [TestMethod]
    public async Task Rebase_moves_the_published_image_onto_a_patched_base_keeping_its_app_layers()
    {
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var registry = RegistryOf(image.Registry);
        var work = CliTool.NewWorkDirectory("rebase");

        // The patched base: the published image's base plus a layer, under a new tag of the same repository.
        var patch = Path.Combine(work, "patched");
        await File.WriteAllTextAsync(patch, "CVE fixed", TestContext.CancellationToken);
        var patchLayer = await Oci.Layers.LayerWriter.WriteToDirectoryAsync(Oci.Layers.LayerPlan.Empty.AddFile(patch, "/etc/patched"), work, cancellationToken: TestContext.CancellationToken);
        using (var client = new RegistryClient())
        {
            var oldBase = await client.GetImageAsync(registry, "dotnet/aspnet", "10.0", null, TestContext.CancellationToken);
            await client.PushImageAsync(Oci.Images.Image.From(oldBase).AppendLayers(patchLayer), registry, "dotnet/aspnet", ["10.0-patched"], cancellationToken: TestContext.CancellationToken);
        }

        var before = await SkopeoInspectAsync($"docker://{image.Registry}");
        var rebased = await CliTool.RunCheckedAsync(["rebase", image.Registry, "--base", $"{registry}/dotnet/aspnet:10.0-patched", "--tag", "rebased"], TestContext.CancellationToken);
        var after = await SkopeoInspectAsync($"docker://{registry}/samples/web-api:rebased");
        Assert.AreEqual(after.GetProperty("Digest").GetString(), rebased.StandardOutput.Trim());
        var layersBefore = before.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()).ToList();
        var layersAfter = after.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()).ToList();
        Assert.HasCount(layersBefore.Count + 1, layersAfter, "one more base layer");
        CollectionAssert.Contains(layersAfter, patchLayer.Descriptor.Digest.ToString());
        var baseLayers = (await SkopeoInspectAsync($"docker://{registry}/dotnet/aspnet:10.0")).GetProperty("Layers").GetArrayLength();
        CollectionAssert.AreEqual(layersBefore.Skip(baseLayers).ToList(), layersAfter.Skip(baseLayers + 1).ToList(), "the app layers are kept byte for byte");

        var refused = await CliTool.RunAsync(["rebase", image.Registry, "--base", $"{registry}/multi/base:1"], TestContext.CancellationToken);
        AssertCodedError(refused, 125, "CONTAINER6025", "dotnet/aspnet");
    }

    [TestMethod]
    public async Task Bad_image_inputs_give_coded_one_line_errors()
    {
        var work = CliTool.NewWorkDirectory("bad");
        AssertCodedError(await CliTool.RunAsync(["inspect", "NOT A NAME"], TestContext.CancellationToken), 2, "CONTAINER6004", "oci:DIRECTORY[:TAG]");
        AssertCodedError(await CliTool.RunAsync(["inspect", work], TestContext.CancellationToken), 2, "CONTAINER6004", $"oci:{work}");
        AssertCodedError(await CliTool.RunAsync(["copy", $"oci:{work}/missing:1", $"oci:{work}/out:1"], TestContext.CancellationToken), 2, "CONTAINER6004", "does not exist");
        AssertCodedError(await CliTool.RunAsync(["copy", $"oci:{TestBaseImages.LayoutDirectory}:aspnet-10.0", $"docker-archive:{work}/a.tar"], TestContext.CancellationToken), 2, "CONTAINER6020", "NAME:TAG");
        AssertCodedError(await CliTool.RunAsync(["copy", "--platform", "linux", $"oci:{TestBaseImages.LayoutDirectory}:multiarch-10.0", $"oci:{work}/out:1"], TestContext.CancellationToken), 2, "CONTAINER6021", "--platform 'linux'");
        AssertCodedError(await CliTool.RunAsync(["copy", "--platform", "linux/s390x", $"oci:{TestBaseImages.LayoutDirectory}:multiarch-10.0", $"oci:{work}/out:1"], TestContext.CancellationToken), 125, "CONTAINER6021", "s390x");

        // A registry that wants credentials, with none configured: the sources looked at are named.
        await using var secured = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        var home = Directory.CreateDirectory(Path.Combine(work, "home")).FullName;
        var environment = CliTool.Environment;
        environment["HOME"] = home;
        environment["DOCKER_CONFIG"] = Path.Combine(home, ".docker");
        environment["XDG_RUNTIME_DIR"] = home;
        environment["REGISTRY_AUTH_FILE"] = Path.Combine(home, "auth.json");
        var denied = await TestTools.RunAsync(CliTool.Command, ["inspect", $"{secured.Host}/private/app:1"], work, environment, TestContext.CancellationToken);
        AssertCodedError(denied, 125, "CONTAINER6022", Path.Combine(home, ".docker", "config.json"));
        StringAssert.Contains(denied.StandardError, "docker login " + secured.Host);
    }

    private static void AssertCodedError(ToolResult result, int exitCode, string code, string mention)
    {
        Assert.AreEqual(exitCode, result.ExitCode, result.ToString());
        // Progress lines of what was read before the failure may come first; the error is one line, the last.
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines.Where(l => l.StartsWith("dotnet container: error", StringComparison.Ordinal)), result.StandardError);
        Assert.IsFalse(lines.Any(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal)), $"no stack trace: {result.StandardError}");
        StringAssert.StartsWith(lines[^1], $"dotnet container: error {code}: ");
        StringAssert.Contains(lines[^1], mention);
    }

    private static string RegistryOf(string reference) => reference[..reference.IndexOf('/', StringComparison.Ordinal)];

    private async Task<string> SkopeoRawAsync(string image) =>
        (await TestTools.RunCheckedAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", image], cancellationToken: TestContext.CancellationToken)).StandardOutput;

    private async Task<string> SkopeoRawDigestAsync(string image) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(await SkopeoRawAsync(image))));

    private async Task<JsonElement> SkopeoInspectAsync(string image) =>
        JsonDocument.Parse((await TestTools.RunCheckedAsync("skopeo", ["inspect", "--tls-verify=false", image], cancellationToken: TestContext.CancellationToken)).StandardOutput).RootElement;
}
