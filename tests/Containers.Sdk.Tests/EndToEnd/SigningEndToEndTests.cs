using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// ContainerSigningKey, VerifyContainerImage and ContainerBaseImagePolicy through `dotnet publish` of a real project
/// against the real registry; bundles checked with npm's @sigstore/verify; every log and output scanned for the key.
/// </summary>
public sealed partial class PublishContainerTests
{
    private const string BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";

    [TestMethod]
    public async Task A_signed_two_platform_publish_verifies_with_sigstore_and_VerifyContainerImage_and_no_log_or_file_holds_the_key()
    {
        var work = PackageFeed.NewWorkDirectory("signed");
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privatePem = ecdsa.ExportPkcs8PrivateKeyPem();
        var publicKeyPath = Path.Combine(work, "signing.pub");
        File.WriteAllText(publicKeyPath, ecdsa.ExportSubjectPublicKeyInfoPem());
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherPublicKeyPath = Path.Combine(work, "other.pub");
        File.WriteAllText(otherPublicKeyPath, other.ExportSubjectPublicKeyInfoPem());

        var repository = "signed-app";
        var project = TestProject.Create(
            "SignedApp",
            $"""
                <ContainerRegistry>{Registry.Host}</ContainerRegistry>
                <ContainerRepository>{repository}</ContainerRepository>
                <ContainerBaseImage>{Registry.Host}/dotnet/multiarch:10.0</ContainerBaseImage>
                <RuntimeIdentifiers>linux-x64;linux-arm64</RuntimeIdentifiers>
                <ContainerRuntimeIdentifiers>linux-x64;linux-arm64</ContainerRuntimeIdentifiers>
                <UseAppHost>false</UseAppHost>
                <ContainerSigningKey>CONTAINER_SIGNING_KEY_PEM</ContainerSigningKey>
            """,
            parentDirectory: work);

        // The key in an environment variable (the riskier place: MSBuild can log the environment, and the build
        // server receives it), the first publish through the build server, at -v:diag with a binlog.
        using var server = new BuildServerScope(idleSeconds: 120);
        var environment = new Dictionary<string, string>(server.Environment) { ["CONTAINER_SIGNING_KEY_PEM"] = privatePem };
        var binlog = Path.Combine(work, "publish.binlog");
        var publish = await project.DotnetAsync(["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-v:diag", "-bl:" + binlog], environment, TestContext.CancellationToken);
        Assert.AreEqual(0, publish.ExitCode, publish.StandardOutput[^Math.Min(20_000, publish.StandardOutput.Length)..] + publish.StandardError);
        server.RecordStartedServer(publish);
        Assert.IsGreaterThanOrEqualTo(1, server.Served, "the publish ran in the build server, whose log is scanned too:\n" + server.Log);
        StringAssert.Contains(publish.StandardOutput, "Signed 3 manifests and their SLSA provenance");

        // Each platform manifest and the index: a signature and a provenance listed through the tag fallback (the
        // platforms with their SBOM), each verified by @sigstore/verify against the public key.
        var indexDigest = await Registry.DigestAsync(repository + ":latest", TestContext.CancellationToken);
        var index = JsonDocument.Parse((await Registry.InspectAsync(repository + ":latest", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
        var subjects = new List<string> { indexDigest };
        subjects.AddRange(index.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!));
        Assert.HasCount(3, subjects);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{Registry.Host}/v2/{repository}/") };
        var listings = new Dictionary<string, string>();
        foreach (var subject in subjects)
        {
            var listing = (await Registry.InspectAsync($"{repository}:{subject.Replace(':', '-')}", raw: true, TestContext.CancellationToken)).StandardOutput;
            listings[subject] = listing;
            var referrers = JsonDocument.Parse(listing).RootElement.GetProperty("manifests").EnumerateArray().ToArray();
            var bundles = referrers.Where(r => r.GetProperty("artifactType").GetString() == BundleMediaType).ToArray();
            CollectionAssert.AreEquivalent(
                new[] { "https://sigstore.dev/cosign/sign/v1", "https://slsa.dev/provenance/v1" },
                bundles.Select(b => b.GetProperty("annotations").GetProperty("dev.sigstore.bundle.predicateType").GetString()).ToArray(),
                $"bundles of {subject}");
            Assert.AreEqual(subject == indexDigest ? 0 : 1, referrers.Count(r => r.GetProperty("artifactType").GetString() == "application/spdx+json"));

            var manifestPath = Path.Combine(work, subject.Replace(':', '-') + ".json");
            await File.WriteAllBytesAsync(manifestPath, await GetManifestAsync(http, subject), TestContext.CancellationToken);
            foreach (var bundle in bundles)
            {
                var artifact = JsonDocument.Parse(await GetManifestAsync(http, bundle.GetProperty("digest").GetString()!)).RootElement;
                var bundlePath = Path.Combine(work, bundle.GetProperty("digest").GetString()!.Replace(':', '-') + ".sigstore.json");
                await File.WriteAllBytesAsync(bundlePath, await http.GetByteArrayAsync("blobs/" + artifact.GetProperty("layers")[0].GetProperty("digest").GetString(), TestContext.CancellationToken), TestContext.CancellationToken);
                var isSignature = bundle.GetProperty("annotations").GetProperty("dev.sigstore.bundle.content").GetString() == "message-signature";
                var verified = await TestSigstore.VerifyAsync(publicKeyPath, bundlePath, isSignature ? manifestPath : null, isSignature ? null : subject, TestContext.CancellationToken);
                Assert.AreEqual(0, verified.ExitCode, $"@sigstore/verify, bundle {bundle.GetProperty("digest").GetString()} of {subject}: {verified.StandardError}");
            }
        }

        // Ours, through the target: the right key passes, another is refused with a coded error naming what failed.
        var verify = await project.DotnetAsync(["msbuild", project.ProjectFile, "-nologo", "-t:VerifyContainerImage", "-p:ContainerVerificationKey=" + publicKeyPath], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, verify.ExitCode, verify.StandardOutput + verify.StandardError);
        StringAssert.Contains(verify.StandardOutput, $"Verified {Registry.Host}/{repository}:latest ({indexDigest}): 6 checks passed");
        var refused = await project.DotnetAsync(["msbuild", project.ProjectFile, "-nologo", "-t:VerifyContainerImage", "-p:ContainerVerificationKey=" + otherPublicKeyPath], cancellationToken: TestContext.CancellationToken);
        Assert.AreNotEqual(0, refused.ExitCode);
        StringAssert.Contains(refused.StandardOutput, "CONTAINER8102");
        StringAssert.Contains(refused.StandardOutput, $"index {indexDigest} of {Registry.Host}/{repository}: no signature verifies with key");
        StringAssert.Contains(refused.StandardOutput, "not by the given key");
        Assert.DoesNotContain("   at ", refused.StandardOutput, "no stack trace");

        // A second publish with no change adds nothing: every fallback listing is the same, the image unchanged.
        var again = await project.DotnetAsync(["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-v:n"], environment, TestContext.CancellationToken);
        Assert.AreEqual(0, again.ExitCode, again.StandardOutput + again.StandardError);
        Assert.AreEqual(indexDigest, await Registry.DigestAsync(repository + ":latest", TestContext.CancellationToken));
        foreach (var subject in subjects)
        {
            Assert.AreEqual(listings[subject], (await Registry.InspectAsync($"{repository}:{subject.Replace(':', '-')}", raw: true, TestContext.CancellationToken)).StandardOutput, $"referrers of {subject}");
        }

        // Not one byte of the key anywhere: the PEM, any line of its base64, its DER and its private scalar.
        var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
        var secrets = new List<(string Name, byte[] Bytes)>
        {
            ("the PEM", Encoding.UTF8.GetBytes(privatePem)),
            ("the PKCS#8 DER", ecdsa.ExportPkcs8PrivateKey()),
            ("the private scalar", parameters.D!),
            ("the private scalar in base64", Encoding.UTF8.GetBytes(Convert.ToBase64String(parameters.D!))),
        };
        secrets.AddRange(privatePem.Split('\n').Where(l => l.Length >= 16 && !l.StartsWith("-----", StringComparison.Ordinal)).Select(l => ($"PEM line '{l[..8]}…'", Encoding.UTF8.GetBytes(l.Trim()))));
        var scanned = new List<(string Where, byte[] Content)>
        {
            ("the -v:diag log", Encoding.UTF8.GetBytes(publish.StandardOutput + publish.StandardError)),
            ("the second publish's log", Encoding.UTF8.GetBytes(again.StandardOutput + again.StandardError)),
            ("VerifyContainerImage's logs", Encoding.UTF8.GetBytes(verify.StandardOutput + refused.StandardOutput)),
            ("the build server's log", Encoding.UTF8.GetBytes(server.Log)),
            ("the binlog file", await File.ReadAllBytesAsync(binlog, TestContext.CancellationToken)),
            ("the binlog's content", await DecompressAsync(binlog)),
        };
        Assert.IsGreaterThan(10_000, scanned[^1].Content.Length, "the binlog was read");
        // The scan can see what is there: the key's location (the task parameter) is in the diag log and the binlog.
        Assert.AreNotEqual(-1, scanned[0].Content.AsSpan().IndexOf("CONTAINER_SIGNING_KEY_PEM"u8), "the diag log shows task parameters");
        Assert.AreNotEqual(-1, scanned[^1].Content.AsSpan().IndexOf("CONTAINER_SIGNING_KEY_PEM"u8), "the binlog shows task parameters");
        foreach (var directory in new[] { "obj", "bin" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(project.Directory, directory), "*", SearchOption.AllDirectories))
            {
                scanned.Add((file, await File.ReadAllBytesAsync(file, TestContext.CancellationToken)));
            }
        }

        Assert.IsTrue(scanned.Any(s => s.Where.EndsWith(".sigstore.json", StringComparison.Ordinal)), "the signing output directory is among the scanned files");
        TestContext.WriteLine($"scanned {scanned.Count} logs and files, {scanned.Sum(s => (long)s.Content.Length)} bytes, for {secrets.Count} forms of the key");
        foreach (var (where, content) in scanned)
        {
            foreach (var (name, bytes) in secrets)
            {
                Assert.AreEqual(-1, content.AsSpan().IndexOf(bytes), $"{name} found in {where}");
            }
        }
    }

    [TestMethod]
    public async Task ContainerBaseImagePolicy_and_an_unreadable_signing_key_refuse_with_a_coded_error_and_push_nothing()
    {
        var work = PackageFeed.NewWorkDirectory("policy");
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKeyPath = Path.Combine(work, "base-signer.pub");
        File.WriteAllText(publicKeyPath, ecdsa.ExportSubjectPublicKeyInfoPem());
        var repository = "policy-refused";
        var project = TestProject.Create(
            "PolicyApp",
            $"""
                <ContainerRegistry>{Registry.Host}</ContainerRegistry>
                <ContainerRepository>{repository}</ContainerRepository>
                <ContainerBaseImage>{Registry.Host}/dotnet/runtime:10.0</ContainerBaseImage>
                <ContainerBaseImagePolicy>signed-by={publicKeyPath}</ContainerBaseImagePolicy>
            """,
            parentDirectory: work);

        var refused = await PublishAsync(project);

        Assert.AreNotEqual(0, refused.ExitCode);
        StringAssert.Contains(refused.StandardOutput, "CONTAINER8104");
        StringAssert.Contains(refused.StandardOutput, $"ContainerBaseImagePolicy rule 'signed-by' refuses base image {Registry.Host}/dotnet/runtime:10.0");
        StringAssert.Contains(refused.StandardOutput, "it has no signature");
        Assert.DoesNotContain("Layer 'app'", refused.StandardOutput, "no layer was built");
        Assert.DoesNotContain("   at ", refused.StandardOutput, "no stack trace");
        await AssertNothingPushedAsync(repository);

        var pinned = await PublishAsync(project, "ContainerBaseImagePolicy=pinned");
        Assert.AreNotEqual(0, pinned.ExitCode);
        StringAssert.Contains(pinned.StandardOutput, $"CONTAINER8104");
        StringAssert.Contains(pinned.StandardOutput, $"rule 'pinned' refuses base image {Registry.Host}/dotnet/runtime:10.0: it is named by tag, not digest");
        await AssertNothingPushedAsync(repository);

        // No policy, but a signing key that cannot be read: refused before anything is built, naming where it looked.
        var noKey = await PublishAsync(project, "ContainerBaseImagePolicy=", "ContainerSigningKey=CONTAINERS_SDK_TEST_NO_SUCH_KEY");
        Assert.AreNotEqual(0, noKey.ExitCode);
        StringAssert.Contains(noKey.StandardOutput, "CONTAINER8100");
        StringAssert.Contains(noKey.StandardOutput, "ContainerSigningKey 'CONTAINERS_SDK_TEST_NO_SUCH_KEY' names neither an existing file");
        Assert.DoesNotContain("Layer 'app'", noKey.StandardOutput, "no layer was built");
        Assert.DoesNotContain("   at ", noKey.StandardOutput, "no stack trace");
        await AssertNothingPushedAsync(repository);
    }

    private async Task AssertNothingPushedAsync(string repository)
    {
        using var http = new HttpClient();
        using var tags = await http.GetAsync($"http://{Registry.Host}/v2/{repository}/tags/list", TestContext.CancellationToken);
        Assert.AreEqual(System.Net.HttpStatusCode.NotFound, tags.StatusCode, "nothing was pushed to " + repository);
    }

    private async Task<byte[]> GetManifestAsync(HttpClient http, string digest)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "manifests/" + digest);
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.list.v2+json");
        using var response = await http.SendAsync(request, TestContext.CancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync(TestContext.CancellationToken);
    }

    // A binlog is a gzip stream of records; strings in it are UTF-8.
    private async Task<byte[]> DecompressAsync(string path)
    {
        await using var file = File.OpenRead(path);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        await gzip.CopyToAsync(buffer, TestContext.CancellationToken);
        return buffer.ToArray();
    }
}
