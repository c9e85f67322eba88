using System.Text.Json;
using Containers.Build.Publishing;
using Containers.Build.SupplyChain.Signing;
using Containers.Build.Tests.SupplyChain;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Build.Tests.Publishing;

/// <summary>Signatures and signed SLSA provenance of a publish, in an OCI layout, a tarball and the real registry.</summary>
[TestClass]
public sealed class SignedPublishTests
{
    public TestContext TestContext { get; set; } = null!;

    private readonly List<string> _cleanup = [];

    [TestCleanup]
    public void Cleanup()
    {
        foreach (var directory in _cleanup.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string Temp(string prefix)
    {
        var directory = PublishFixture.NewTempDirectory(prefix);
        _cleanup.Add(directory);
        return directory;
    }

    private ContainerPublisher Publisher() =>
        new(new RegistryClientOptions(), new Progress<PublishProgress>(p => TestContext.WriteLine(p.Message)));

    private static ContainerSigningOptions Signing(string keyPath, string outputDirectory) => new()
    {
        KeyLocation = keyPath,
        Project = "App.csproj",
        Configuration = "Release",
        ContainerProperties = new Dictionary<string, string> { ["ContainerRepository"] = "app" },
        OutputDirectory = outputDirectory,
        // The local builder whatever CI runs these tests: the provenance must not change between the two publishes.
        Environment = name => null,
    };

    [TestMethod]
    public async Task Two_platforms_in_a_layout_get_a_signature_and_provenance_each_and_for_the_index_verified_by_both_verifiers()
    {
        var work = Temp("signed-layout");
        var baseLayout = OciLayout.Create(Path.Combine(work, "base"));
        await baseLayout.WriteIndexAsync(new ComposedImageIndex([await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work), await PublishFixture.MakeBaseImageAsync(Platform.LinuxArm64, work)]), "multiarch", TestContext.CancellationToken);
        var (keyPath, publicPath, _) = SigningTests.NewKey(work);
        var (_, otherPublicPath, _) = SigningTests.NewKey(work, "other");
        var x64 = PublishFixture.MakePublishDirectory(work, "x64");
        var arm64 = PublishFixture.MakePublishDirectory(work, "arm64", seed: 2);
        var output = Path.Combine(work, "out");
        var request = PublishFixture.Request(x64, work, new ContainerDestination.OciLayoutDirectory(output, "app") { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:multiarch"), baseLayout.DirectoryPath) with
        {
            Targets = [new("linux-x64", x64), new("linux-arm64", arm64)],
            Signing = Signing(keyPath, Path.Combine(work, "obj", "container-signatures")),
        };

        var result = await Publisher().PublishAsync(request, TestContext.CancellationToken);

        Assert.HasCount(6, result.Signatures, "a signature and a provenance for each of two manifests and the index");
        var layout = OciLayout.Open(output);
        var subjects = new List<(Digest Digest, byte[] Bytes)> { (result.Digest, await File.ReadAllBytesAsync(layout.GetBlobPath(result.Digest), TestContext.CancellationToken)) };
        foreach (var image in result.Images)
        {
            subjects.Add((image.ManifestDigest, await File.ReadAllBytesAsync(layout.GetBlobPath(image.ManifestDigest), TestContext.CancellationToken)));
        }

        foreach (var (digest, bytes) in subjects)
        {
            var referrers = await layout.GetReferrersAsync(digest, SigstoreBundle.MediaType, TestContext.CancellationToken);
            CollectionAssert.AreEquivalent(
                new[] { "message-signature", "dsse-envelope" },
                referrers.Select(r => r.Annotations![SigstoreBundle.ContentAnnotation]).ToArray(),
                $"referrers of {digest}");
            CollectionAssert.AreEquivalent(
                new[] { SigstoreBundle.SignaturePredicateType, ProvenanceStatement.PredicateType },
                referrers.Select(r => r.Annotations![SigstoreBundle.PredicateTypeAnnotation]).ToArray());

            // Independently: each attached bundle verifies with npm's @sigstore/verify against the public key.
            var manifestPath = Path.Combine(work, digest.Hex + ".json");
            await File.WriteAllBytesAsync(manifestPath, bytes, TestContext.CancellationToken);
            foreach (var referrer in referrers)
            {
                var artifact = Containers.Oci.Json.OciJson.DeserializeManifest(await File.ReadAllBytesAsync(layout.GetBlobPath(referrer.Digest), TestContext.CancellationToken));
                var bundlePath = layout.GetBlobPath(artifact.Layers[0].Digest);
                var isSignature = referrer.Annotations![SigstoreBundle.ContentAnnotation] == "message-signature";
                var verified = await TestSigstore.VerifyAsync(publicPath, bundlePath, isSignature ? manifestPath : null, isSignature ? null : digest.ToString(), TestContext.CancellationToken);
                Assert.AreEqual(0, verified.ExitCode, $"@sigstore/verify on {referrer.Digest}: {verified.StandardError}");
                var wrongKey = await TestSigstore.VerifyAsync(otherPublicPath, bundlePath, isSignature ? manifestPath : null, isSignature ? null : digest.ToString(), TestContext.CancellationToken);
                Assert.AreEqual(1, wrongKey.ExitCode, "another key must not verify");
            }
        }

        // The provenance names every platform and the index, the base by digest, and our build type.
        var provenance = SigstoreBundle.Parse(result.Signatures.First(s => s.IsProvenance).Bundle.Span, "provenance");
        var statement = JsonDocument.Parse(provenance.Payload!).RootElement;
        CollectionAssert.AreEquivalent(subjects.Select(s => s.Digest.Hex).ToArray(), statement.GetProperty("subject").EnumerateArray().Select(s => s.GetProperty("digest").GetProperty("sha256").GetString()).ToArray());
        var dependencies = statement.GetProperty("predicate").GetProperty("buildDefinition").GetProperty("resolvedDependencies").EnumerateArray().ToArray();
        Assert.AreEqual(2, dependencies.Count(d => d.GetProperty("annotations").GetProperty("role").GetString() == "base-image"));

        // Ours agrees, and names what fails with another key.
        var verification = await ContainerImageVerifier.VerifyLayoutAsync(output, "1.0", VerificationKey.FromFile(publicPath, "test"), TestContext.CancellationToken);
        Assert.IsTrue(verification.IsVerified, string.Join("\n", verification.Failures));
        Assert.HasCount(6, verification.Verified);
        var refused = await ContainerImageVerifier.VerifyLayoutAsync(output, "1.0", VerificationKey.FromFile(otherPublicPath, "test"), TestContext.CancellationToken);
        Assert.HasCount(6, refused.Failures);
        StringAssert.Contains(refused.Failures[0], "not by the given key");

        // Unchanged: the same bundles (remembered, not signed again), so the layout gains no referrer.
        var indexJson = await File.ReadAllTextAsync(Path.Combine(output, "index.json"), TestContext.CancellationToken);
        var again = await Publisher().PublishAsync(request, TestContext.CancellationToken);
        Assert.IsTrue(again.Signatures.All(s => s.Reused));
        CollectionAssert.AreEqual(result.Signatures.Select(s => s.ReferrerDigest).ToArray(), again.Signatures.Select(s => s.ReferrerDigest).ToArray());
        Assert.AreEqual(indexJson, await File.ReadAllTextAsync(Path.Combine(output, "index.json"), TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_tarball_gets_its_bundles_beside_it()
    {
        var work = Temp("signed-tar");
        var baseLayout = OciLayout.Create(Path.Combine(work, "base"));
        await baseLayout.WriteImageAsync(await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work), "runtime", TestContext.CancellationToken);
        var (keyPath, publicPath, _) = SigningTests.NewKey(work);
        var tarball = Path.Combine(work, "out", "app.tar.gz");
        var request = PublishFixture.Request(PublishFixture.MakePublishDirectory(work), work, new ContainerDestination.Archive(tarball, "app", ArchiveFormat.Oci) { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout.DirectoryPath) with
        {
            Signing = Signing(keyPath, Path.Combine(work, "obj", "container-signatures")),
        };

        var result = await Publisher().PublishAsync(request, TestContext.CancellationToken);

        var signaturePath = Path.Combine(work, "out", "app.sig.sigstore.json");
        var provenancePath = Path.Combine(work, "out", "app.provenance.sigstore.json");
        CollectionAssert.Contains(result.Signatures.SelectMany(s => s.Files).ToArray(), signaturePath);
        CollectionAssert.Contains(result.Signatures.SelectMany(s => s.Files).ToArray(), provenancePath);
        var manifest = System.Text.Encoding.UTF8.GetBytes(result.Images[0].ManifestJson);
        Assert.AreEqual(result.Digest, Digest.Compute(manifest));
        var manifestPath = Path.Combine(work, "manifest.json");
        await File.WriteAllBytesAsync(manifestPath, manifest, TestContext.CancellationToken);
        var key = VerificationKey.FromFile(publicPath, "test");
        Assert.IsNull(ContainerImageVerifier.VerifyBundle(await File.ReadAllBytesAsync(signaturePath, TestContext.CancellationToken), manifest, key, "signature"));
        Assert.IsNull(ContainerImageVerifier.VerifyBundle(await File.ReadAllBytesAsync(provenancePath, TestContext.CancellationToken), manifest, key, "provenance"));
        Assert.AreEqual(0, (await TestSigstore.VerifyAsync(publicPath, signaturePath, manifestPath, null, TestContext.CancellationToken)).ExitCode);
        Assert.AreEqual(0, (await TestSigstore.VerifyAsync(publicPath, provenancePath, null, result.Digest.ToString(), TestContext.CancellationToken)).ExitCode);
        Assert.IsTrue(File.Exists(Path.Combine(work, "obj", "container-signatures", "app.sig.sigstore.json")), "every bundle is also in the signing output directory");
    }

    [TestMethod]
    public async Task Signatures_and_provenance_are_attached_in_the_real_registry_through_the_tag_fallback_and_a_republish_adds_nothing()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        var work = Temp("signed-push");
        using var client = new RegistryClient(new RegistryClientOptions());
        await client.PushImageAsync(await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work), registry.Host, "dotnet/runtime", ["10.0"], cancellationToken: TestContext.CancellationToken);
        var (keyPath, publicPath, _) = SigningTests.NewKey(work);
        var request = PublishFixture.Request(PublishFixture.MakePublishDirectory(work), work, new ContainerDestination.RegistryRepository(registry.Host, "team/app") { Tags = ["1.0"] }, ImageReference.Parse(registry.Host + "/dotnet/runtime:10.0")) with
        {
            Signing = Signing(keyPath, Path.Combine(work, "obj", "container-signatures")),
            Sbom = new ContainerSbomOptions(),
        };

        var result = await Publisher().PublishAsync(request, TestContext.CancellationToken);

        // Registry 2.8 has no referrers API: SBOM, signature and provenance are listed in the index tagged sha256-<hex>.
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var fallback = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/team/app:{result.Digest.Algorithm}-{result.Digest.Hex}"], cancellationToken: TestContext.CancellationToken);
        var listed = JsonDocument.Parse(fallback.StandardOutput).RootElement.GetProperty("manifests").EnumerateArray().ToArray();
        CollectionAssert.AreEquivalent(
            new[] { "application/spdx+json", SigstoreBundle.MediaType, SigstoreBundle.MediaType },
            listed.Select(m => m.GetProperty("artifactType").GetString()).ToArray());
        CollectionAssert.AreEquivalent(
            new[] { SigstoreBundle.SignaturePredicateType, ProvenanceStatement.PredicateType },
            listed.Where(m => m.GetProperty("artifactType").GetString() == SigstoreBundle.MediaType).Select(m => m.GetProperty("annotations").GetProperty(SigstoreBundle.PredicateTypeAnnotation).GetString()).ToArray());

        // The image itself is untouched by its referrers.
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/team/app:1.0"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(result.ManifestJson, inspect.StandardOutput.TrimEnd('\n'));

        var key = VerificationKey.FromFile(publicPath, "test");
        var verification = await ContainerImageVerifier.VerifyAsync(client, ImageReference.Parse($"{registry.Host}/team/app:1.0"), key, TestContext.CancellationToken);
        Assert.IsTrue(verification.IsVerified, string.Join("\n", verification.Failures));
        Assert.AreEqual(result.Digest, verification.Digest);

        var again = await Publisher().PublishAsync(request, TestContext.CancellationToken);
        Assert.AreEqual(result.Digest, again.Digest);
        Assert.AreEqual(0L, again.BytesUploaded, "no blob uploaded: not the image's, not the SBOM's, not a bundle's");
        var fallbackAgain = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/team/app:{result.Digest.Algorithm}-{result.Digest.Hex}"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(fallback.StandardOutput, fallbackAgain.StandardOutput, "a second publish with no change adds no referrer");
        Assert.AreEqual(result.ManifestJson, (await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/team/app:1.0"], cancellationToken: TestContext.CancellationToken)).StandardOutput.TrimEnd('\n'));
    }

    [TestMethod]
    public async Task The_base_image_policy_refuses_an_unsigned_or_foreign_signed_base_before_anything_is_pushed_and_accepts_the_right_key()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        var work = Temp("policy");
        using var client = new RegistryClient(new RegistryClientOptions());
        var baseImage = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        await client.PushImageAsync(baseImage, registry.Host, "dotnet/runtime", ["10.0"], cancellationToken: TestContext.CancellationToken);
        var (trustedKeyPath, trustedPublicPath, _) = SigningTests.NewKey(work, "trusted");
        var (otherKeyPath, _, _) = SigningTests.NewKey(work, "other");
        var baseReference = ImageReference.Parse(registry.Host + "/dotnet/runtime:10.0");
        var request = PublishFixture.Request(PublishFixture.MakePublishDirectory(work), work, new ContainerDestination.RegistryRepository(registry.Host, "team/app") { Tags = ["1.0"] }, baseReference) with
        {
            BaseImagePolicy = BaseImagePolicy.Parse("signed-by=trusted.pub", work),
        };

        var unsigned = await Assert.ThrowsExactlyAsync<SigningException>(() => Publisher().PublishAsync(request, TestContext.CancellationToken));
        Assert.AreEqual(SigningFailure.PolicyRefused, unsigned.Failure);
        StringAssert.Contains(unsigned.Message, "ContainerBaseImagePolicy rule 'signed-by'");
        StringAssert.Contains(unsigned.Message, baseReference.ToString());
        StringAssert.Contains(unsigned.Message, "no signature");
        await AssertNothingPushedAsync(client, registry.Host);

        using (var other = SigningKey.Load(otherKeyPath, work))
        {
            await ContainerImageSigner.SignAsync(client, baseReference, other, TestContext.CancellationToken);
        }

        var foreign = await Assert.ThrowsExactlyAsync<SigningException>(() => Publisher().PublishAsync(request, TestContext.CancellationToken));
        StringAssert.Contains(foreign.Message, "none verifying with trusted.pub");
        await AssertNothingPushedAsync(client, registry.Host);

        var pinned = await Assert.ThrowsExactlyAsync<SigningException>(() => Publisher().PublishAsync(request with { BaseImagePolicy = BaseImagePolicy.Parse("pinned", work) }, TestContext.CancellationToken));
        StringAssert.Contains(pinned.Message, "rule 'pinned' refuses base image " + baseReference);
        await AssertNothingPushedAsync(client, registry.Host);

        using (var trusted = SigningKey.Load(trustedKeyPath, work))
        {
            await ContainerImageSigner.SignAsync(client, baseReference, trusted, TestContext.CancellationToken);
        }

        var baseDigest = (await client.GetManifestAsync(registry.Host, "dotnet/runtime", "10.0", TestContext.CancellationToken)).Descriptor.Digest;
        var accepted = await Publisher().PublishAsync(request with { BaseImage = ImageReference.Parse($"{registry.Host}/dotnet/runtime@{baseDigest}"), BaseImagePolicy = BaseImagePolicy.Parse("pinned; signed-by=trusted.pub", work) }, TestContext.CancellationToken);
        Assert.AreEqual(accepted.Digest, (await client.GetManifestAsync(registry.Host, "team/app", "1.0", TestContext.CancellationToken)).Descriptor.Digest);
        Assert.IsTrue(File.Exists(trustedPublicPath));

        var unknownRule = Assert.ThrowsExactly<SigningException>(() => BaseImagePolicy.Parse("signed", work));
        Assert.AreEqual(SigningFailure.InvalidPolicy, unknownRule.Failure);
    }

    [TestMethod]
    public async Task The_base_image_policy_reads_a_layout_base_and_its_referrers()
    {
        var work = Temp("policy-layout");
        var baseLayout = OciLayout.Create(Path.Combine(work, "base"));
        var baseImage = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        await baseLayout.WriteImageAsync(baseImage, "runtime", TestContext.CancellationToken);
        var (trustedKeyPath, _, _) = SigningTests.NewKey(work, "trusted");
        var output = Path.Combine(work, "out");
        var request = PublishFixture.Request(PublishFixture.MakePublishDirectory(work), work, new ContainerDestination.OciLayoutDirectory(output, "app") { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout.DirectoryPath) with
        {
            BaseImagePolicy = BaseImagePolicy.Parse("signed-by=trusted.pub", work),
        };

        var refused = await Assert.ThrowsExactlyAsync<SigningException>(() => Publisher().PublishAsync(request, TestContext.CancellationToken));
        StringAssert.Contains(refused.Message, "it has no signature");
        Assert.IsFalse(Directory.Exists(output), "nothing written after a refusal");

        using (var trusted = SigningKey.Load(trustedKeyPath, work))
        {
            var bundle = SigstoreBundle.SignMessage(baseImage.ManifestBytes.Span, trusted).ToJson();
            await baseLayout.WriteReferrerAsync(Containers.Oci.Referrers.ReferrerArtifact.Create(SigstoreBundle.MediaType, bundle, SigstoreBundle.MediaType, baseImage.ManifestDescriptor), TestContext.CancellationToken);
        }

        var accepted = await Publisher().PublishAsync(request, TestContext.CancellationToken);
        Assert.AreEqual(accepted.Digest, (await OciLayout.Open(output).ResolveAsync("1.0", TestContext.CancellationToken)).Digest);
    }

    private async Task AssertNothingPushedAsync(RegistryClient client, string registry)
    {
        try
        {
            var tags = await client.ListTagsAsync(registry, "team/app", TestContext.CancellationToken);
            Assert.IsEmpty(tags, "no tag after a refusal");
        }
        catch (RegistryNotFoundException)
        {
            // The repository does not exist: nothing was pushed.
        }
    }
}
