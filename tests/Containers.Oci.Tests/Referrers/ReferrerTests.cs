using System.Text;
using System.Text.Json;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Platforms;
using Containers.Oci.Referrers;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Referrers;

/// <summary>
/// OCI 1.1 referrers against the real distribution registry 2.8 (which has no referrers API, so the
/// <c>sha256-&lt;hex&gt;</c> tag fallback is what gets exercised) and in an OCI layout.
/// </summary>
[TestClass]
public sealed class ReferrerTests
{
    private Containers.Oci.Tests.Registry.TestImages _images = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Initialize() => _images = new Containers.Oci.Tests.Registry.TestImages();

    [TestCleanup]
    public void Cleanup() => _images.Dispose();

    [TestMethod]
    public void The_artifact_manifest_has_the_empty_config_one_content_layer_and_the_subject()
    {
        var subject = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = Digest.Compute("subject"u8), Size = 7, Platform = Platform.LinuxAmd64 };

        var artifact = ReferrerArtifact.Create("application/spdx+json", "{\"spdxVersion\":\"SPDX-2.3\"}"u8.ToArray(), "application/spdx+json", subject, new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });

        using var json = JsonDocument.Parse(artifact.ManifestBytes);
        var root = json.RootElement;
        Assert.AreEqual(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual("application/spdx+json", root.GetProperty("artifactType").GetString());
        Assert.AreEqual(MediaTypes.OciEmpty, root.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.AreEqual(Digest.Compute("{}"u8).ToString(), root.GetProperty("config").GetProperty("digest").GetString());
        Assert.AreEqual(1, root.GetProperty("layers").GetArrayLength());
        Assert.AreEqual(artifact.ContentDescriptor.Digest.ToString(), root.GetProperty("layers")[0].GetProperty("digest").GetString());
        Assert.AreEqual(subject.Digest.ToString(), root.GetProperty("subject").GetProperty("digest").GetString());
        Assert.IsFalse(root.GetProperty("subject").TryGetProperty("platform", out _), "the subject descriptor keeps media type, digest and size only");
        CollectionAssert.AreEqual(new[] { "a", "b" }, root.GetProperty("annotations").EnumerateObject().Select(p => p.Name).ToArray());
        Assert.AreEqual("sha256-" + subject.Digest.Hex, ReferrerArtifact.FallbackTag(subject.Digest));
        Assert.AreEqual(artifact.ManifestDescriptor.Digest, Digest.Compute(artifact.ManifestBytes.Span));
    }

    [TestMethod]
    public void A_layer_descriptor_cannot_be_a_subject()
    {
        var layer = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Compute("x"u8), Size = 1 };

        var error = Assert.ThrowsExactly<OciException>(() => ReferrerArtifact.Create("application/spdx+json", "{}"u8.ToArray(), "application/spdx+json", layer));

        StringAssert.Contains(error.Message, "manifest or an index");
    }

    [TestMethod]
    public async Task Two_referrers_pushed_to_a_registry_without_the_referrers_API_are_both_listed_through_the_fallback_tag()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        using var client = new RegistryClient(new RegistryClientOptions { CredentialProvider = new StaticCredentialProvider(registry.Credential) });
        var image = await _images.CreateImageAsync(2, 50_000);
        await client.PushImageAsync(image, registry.Host, "apps/sbom", ["1.0"], cancellationToken: TestContext.CancellationToken);
        var creds = $"{registry.Username}:{registry.Password}";
        var before = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/apps/sbom:1.0"], cancellationToken: TestContext.CancellationToken);
        var beforeRaw = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/apps/sbom:1.0"], cancellationToken: TestContext.CancellationToken);
        var spdx = ReferrerArtifact.Create("application/spdx+json", Encoding.UTF8.GetBytes("{\"spdxVersion\":\"SPDX-2.3\"}"), "application/spdx+json", image.ManifestDescriptor);
        var cyclone = ReferrerArtifact.Create("application/vnd.cyclonedx+json", Encoding.UTF8.GetBytes("{\"bomFormat\":\"CycloneDX\"}"), "application/vnd.cyclonedx+json", image.ManifestDescriptor);

        var first = await client.PushReferrerAsync(registry.Host, "apps/sbom", spdx, TestContext.CancellationToken);
        var second = await client.PushReferrerAsync(registry.Host, "apps/sbom", cyclone, TestContext.CancellationToken);
        var again = await client.PushReferrerAsync(registry.Host, "apps/sbom", spdx, TestContext.CancellationToken);

        Assert.AreEqual(ReferrerRecording.FallbackTag, first.Recording, "distribution 2.8 has no referrers API");
        Assert.AreEqual(ReferrerRecording.FallbackTag, second.Recording);
        Assert.AreEqual(first.ManifestDigest, again.ManifestDigest);
        var all = await client.GetReferrersAsync(registry.Host, "apps/sbom", image.ManifestDescriptor.Digest, cancellationToken: TestContext.CancellationToken);
        CollectionAssert.AreEquivalent(new[] { spdx.ManifestDescriptor.Digest, cyclone.ManifestDescriptor.Digest }, all.Select(d => d.Digest).ToArray(), "both referrers listed, the re-pushed one once");
        CollectionAssert.AreEquivalent(new[] { "application/spdx+json", "application/vnd.cyclonedx+json" }, all.Select(d => d.ArtifactType).ToArray());
        var onlySpdx = await client.GetReferrersAsync(registry.Host, "apps/sbom", image.ManifestDescriptor.Digest, "application/spdx+json", TestContext.CancellationToken);
        Assert.AreEqual(spdx.ManifestDescriptor.Digest, onlySpdx.Single().Digest);

        // The fallback index is an ordinary OCI index under the sha256-<hex> tag, readable by other tools.
        var fallback = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/apps/sbom:{ReferrerArtifact.FallbackTag(image.ManifestDescriptor.Digest)}"], cancellationToken: TestContext.CancellationToken);
        using var fallbackIndex = JsonDocument.Parse(fallback.StandardOutput);
        Assert.AreEqual(MediaTypes.OciIndex, fallbackIndex.RootElement.GetProperty("mediaType").GetString());
        Assert.AreEqual(2, fallbackIndex.RootElement.GetProperty("manifests").GetArrayLength());

        // The subject is untouched: same manifest bytes, same inspect output.
        var afterRaw = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/apps/sbom:1.0"], cancellationToken: TestContext.CancellationToken);
        var after = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/apps/sbom:1.0"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(beforeRaw.StandardOutput, afterRaw.StandardOutput);
        Assert.AreEqual(WithoutTagList(before.StandardOutput), WithoutTagList(after.StandardOutput));

        // The artifact itself can be fetched back by digest, content intact.
        var referrerManifest = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/apps/sbom@{cyclone.ManifestDescriptor.Digest}"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(Encoding.UTF8.GetString(cyclone.ManifestBytes.Span), referrerManifest.StandardOutput.TrimEnd('\n'));
    }

    [TestMethod]
    public async Task An_image_without_referrers_lists_none()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        using var client = new RegistryClient();
        var image = await _images.CreateImageAsync(1, 10_000);
        await client.PushImageAsync(image, registry.Host, "apps/plain", ["1"], cancellationToken: TestContext.CancellationToken);

        var referrers = await client.GetReferrersAsync(registry.Host, "apps/plain", image.ManifestDescriptor.Digest, cancellationToken: TestContext.CancellationToken);

        Assert.IsEmpty(referrers);
    }

    [TestMethod]
    public async Task A_fallback_tag_that_holds_an_image_is_refused_rather_than_overwritten()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        using var client = new RegistryClient();
        var image = await _images.CreateImageAsync(1, 10_000);
        await client.PushImageAsync(image, registry.Host, "apps/clash", ["1", ReferrerArtifact.FallbackTag(image.ManifestDescriptor.Digest)], cancellationToken: TestContext.CancellationToken);
        var artifact = ReferrerArtifact.Create("application/spdx+json", "{}"u8.ToArray(), "application/spdx+json", image.ManifestDescriptor);

        var error = await Assert.ThrowsExactlyAsync<RegistryException>(() => client.PushReferrerAsync(registry.Host, "apps/clash", artifact, TestContext.CancellationToken));

        StringAssert.Contains(error.Message, "not the referrers index");
        var still = await client.GetImageAsync(registry.Host, "apps/clash", ReferrerArtifact.FallbackTag(image.ManifestDescriptor.Digest), null, TestContext.CancellationToken);
        Assert.AreEqual(image.ManifestDescriptor.Digest, still.ManifestDescriptor.Digest);
    }

    [TestMethod]
    public async Task A_layout_lists_referrers_beside_the_image_and_skopeo_still_reads_the_image()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var image = await _images.CreateImageAsync(1, 20_000);
        var layout = OciLayout.Create(Path.Combine(_images.Directory, "layout"));
        await layout.WriteImageAsync(image, ["1.0"], TestContext.CancellationToken);
        var first = ReferrerArtifact.Create("application/spdx+json", "{\"a\":1}"u8.ToArray(), "application/spdx+json", image.ManifestDescriptor);
        var second = ReferrerArtifact.Create("application/vnd.cyclonedx+json", "{\"b\":2}"u8.ToArray(), "application/vnd.cyclonedx+json", image.ManifestDescriptor);

        await layout.WriteReferrerAsync(first, TestContext.CancellationToken);
        await layout.WriteReferrerAsync(second, TestContext.CancellationToken);
        await layout.WriteReferrerAsync(first, TestContext.CancellationToken);

        var referrers = await layout.GetReferrersAsync(image.ManifestDescriptor.Digest, cancellationToken: TestContext.CancellationToken);
        CollectionAssert.AreEquivalent(new[] { first.ManifestDescriptor.Digest, second.ManifestDescriptor.Digest }, referrers.Select(r => r.Digest).ToArray());
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", $"oci:{layout.DirectoryPath}:1.0"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(Encoding.UTF8.GetString(image.ManifestBytes.Span), inspect.StandardOutput.TrimEnd('\n'));
    }

    // skopeo inspect lists the repository's tags, and attaching adds the sha256-<hex> tag; the image itself must not change.
    private static string WithoutTagList(string inspectJson)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(inspectJson)!.AsObject();
        node.Remove("RepoTags");
        return node.ToJsonString();
    }
}
