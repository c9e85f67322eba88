using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Containers.Build.SupplyChain.Signing;
using Containers.Oci.Digests;
using Containers.TestSupport;

namespace Containers.Build.Tests.SupplyChain;

[TestClass]
public sealed class SigningTests
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

    private string Temp()
    {
        var directory = Directory.CreateTempSubdirectory("cs-signing-").FullName;
        _cleanup.Add(directory);
        return directory;
    }

    /// <summary>A fresh P-256 key written as PKCS#8 PEM, and its public key PEM beside it.</summary>
    internal static (string PrivatePath, string PublicPath, string PrivatePem) NewKey(string directory, string name = "key")
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privatePem = ecdsa.ExportPkcs8PrivateKeyPem();
        var privatePath = Path.Combine(directory, name + ".pem");
        var publicPath = Path.Combine(directory, name + ".pub");
        File.WriteAllText(privatePath, privatePem);
        File.WriteAllText(publicPath, ecdsa.ExportSubjectPublicKeyInfoPem());
        return (privatePath, publicPath, privatePem);
    }

    private static ProvenanceRequest SampleRequest(BuilderIdentity builder) => new()
    {
        Subjects =
        [
            new ProvenanceSubject("127.0.0.1:5000/app (linux-x64)", Digest.Compute("x64"u8)),
            new ProvenanceSubject("127.0.0.1:5000/app", Digest.Compute("index"u8)),
        ],
        Project = "App.csproj",
        Configuration = "Release",
        RuntimeIdentifiers = ["linux-x64", "linux-arm64"],
        ContainerProperties = new Dictionary<string, string> { ["ContainerUser"] = "app", ["ContainerRepository"] = "app" },
        BaseImages = [new ProvenanceBaseImage("linux-x64", "127.0.0.1:5000/dotnet/runtime:10.0", "127.0.0.1:5000/dotnet/runtime", Digest.Compute("base"u8))],
        Source = new SourceRevision("git+https://example.test/team/app.git", new string('a', 40)),
        Builder = builder,
        ToolVersion = "1.2.3",
    };

    [TestMethod]
    public void Provenance_is_deterministic_and_states_subjects_parameters_dependencies_and_builder()
    {
        var local = new BuilderIdentity("urn:containers-sdk:builder:local:host", null, "local");
        var first = ProvenanceStatement.Create(SampleRequest(local));
        var second = ProvenanceStatement.Create(SampleRequest(local) with { ContainerProperties = new Dictionary<string, string> { ["ContainerRepository"] = "app", ["ContainerUser"] = "app" } });
        CollectionAssert.AreEqual(first, second, "same inputs in another order give the same bytes");

        var root = JsonDocument.Parse(first).RootElement;
        Assert.AreEqual("https://in-toto.io/Statement/v1", root.GetProperty("_type").GetString());
        Assert.AreEqual("https://slsa.dev/provenance/v1", root.GetProperty("predicateType").GetString());
        var subjects = root.GetProperty("subject").EnumerateArray().Select(s => s.GetProperty("digest").GetProperty("sha256").GetString()).ToArray();
        CollectionAssert.AreEquivalent(new[] { Digest.Compute("x64"u8).Hex, Digest.Compute("index"u8).Hex }, subjects);
        var definition = root.GetProperty("predicate").GetProperty("buildDefinition");
        Assert.AreEqual(ProvenanceStatement.BuildType, definition.GetProperty("buildType").GetString());
        var parameters = definition.GetProperty("externalParameters");
        Assert.AreEqual("App.csproj", parameters.GetProperty("project").GetString());
        Assert.AreEqual("Release", parameters.GetProperty("configuration").GetString());
        CollectionAssert.AreEqual(new[] { "linux-x64", "linux-arm64" }, parameters.GetProperty("runtimeIdentifiers").EnumerateArray().Select(r => r.GetString()).ToArray());
        CollectionAssert.AreEqual(new[] { "ContainerRepository", "ContainerUser" }, parameters.GetProperty("container").EnumerateObject().Select(p => p.Name).ToArray(), "sorted");
        var dependencies = definition.GetProperty("resolvedDependencies").EnumerateArray().ToArray();
        Assert.AreEqual($"oci://127.0.0.1:5000/dotnet/runtime@{Digest.Compute("base"u8)}", dependencies[0].GetProperty("uri").GetString());
        Assert.AreEqual(Digest.Compute("base"u8).Hex, dependencies[0].GetProperty("digest").GetProperty("sha256").GetString());
        Assert.AreEqual(new string('a', 40), dependencies[1].GetProperty("digest").GetProperty("gitCommit").GetString());
        var run = root.GetProperty("predicate").GetProperty("runDetails");
        Assert.AreEqual("urn:containers-sdk:builder:local:host", run.GetProperty("builder").GetProperty("id").GetString());
        Assert.IsFalse(run.TryGetProperty("metadata", out _), "no invocation id and no clock time locally");

        var ci = ProvenanceStatement.Create(SampleRequest(new BuilderIdentity("https://ci.test/builder", "https://ci.test/runs/7", "GitHub Actions")));
        Assert.AreEqual("https://ci.test/runs/7", JsonDocument.Parse(ci).RootElement.GetProperty("predicate").GetProperty("runDetails").GetProperty("metadata").GetProperty("invocationId").GetString());
    }

    [TestMethod]
    public void The_builder_comes_from_the_CI_environment_or_the_local_machine()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] values) => name => values.FirstOrDefault(v => v.Name == name).Value;

        var github = BuilderIdentity.Detect(Env(("GITHUB_ACTIONS", "true"), ("GITHUB_SERVER_URL", "https://git.test"), ("GITHUB_REPOSITORY", "team/app"), ("GITHUB_WORKFLOW_REF", "team/app/.github/workflows/ci.yml@refs/heads/main"), ("GITHUB_RUN_ID", "42"), ("GITHUB_RUN_ATTEMPT", "2")));
        Assert.AreEqual("GitHub Actions", github.System);
        Assert.AreEqual("https://git.test/team/app/.github/workflows/ci.yml@refs/heads/main", github.Id);
        Assert.AreEqual("https://git.test/team/app/actions/runs/42/attempts/2", github.InvocationId);

        var azure = BuilderIdentity.Detect(Env(("TF_BUILD", "True"), ("SYSTEM_COLLECTIONURI", "https://dev.test/org/"), ("SYSTEM_TEAMPROJECT", "My Project"), ("SYSTEM_DEFINITIONID", "5"), ("BUILD_BUILDID", "99")));
        Assert.AreEqual("Azure Pipelines", azure.System);
        Assert.AreEqual("https://dev.test/org/My%20Project/_build?definitionId=5", azure.Id);
        Assert.AreEqual("https://dev.test/org/My%20Project/_build/results?buildId=99", azure.InvocationId);

        var gitlab = BuilderIdentity.Detect(Env(("GITLAB_CI", "true"), ("CI_SERVER_URL", "https://lab.test"), ("CI_PROJECT_PATH", "team/app"), ("CI_RUNNER_ID", "12"), ("CI_JOB_URL", "https://lab.test/team/app/-/jobs/3")));
        Assert.AreEqual("GitLab CI", gitlab.System);
        Assert.AreEqual("https://lab.test/team/app/-/runners/12", gitlab.Id);
        Assert.AreEqual("https://lab.test/team/app/-/jobs/3", gitlab.InvocationId);

        var local = BuilderIdentity.Detect(Env());
        Assert.AreEqual("local", local.System);
        StringAssert.StartsWith(local.Id, "urn:containers-sdk:builder:local:");
        Assert.IsNull(local.InvocationId);
    }

    [TestMethod]
    public async Task The_source_revision_names_the_commit_and_drops_credentials_from_the_remote()
    {
        var git = TestTools.Require("git", "git");
        var directory = Temp();
        File.WriteAllText(Path.Combine(directory, "a.txt"), "a");
        string[] identity = ["-c", "user.name=t", "-c", "user.email=t@t"];
        await TestTools.RunCheckedAsync(git, ["init", "-q", directory], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(git, ["-C", directory, "add", "."], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(git, ["-C", directory, .. identity, "commit", "-q", "-m", "x"], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(git, ["-C", directory, "remote", "add", "origin", "https://someone:s3cr3t-token@git.test/team/app.git"], cancellationToken: TestContext.CancellationToken);
        var head = (await TestTools.RunCheckedAsync(git, ["-C", directory, "rev-parse", "HEAD"], cancellationToken: TestContext.CancellationToken)).StandardOutput.Trim();

        var source = SourceRevision.Detect(directory);

        Assert.IsNotNull(source);
        Assert.AreEqual(head, source.Commit);
        Assert.AreEqual("git+https://git.test/team/app.git", source.Uri);
        Assert.IsNull(SourceRevision.Detect(Temp()), "no git work tree, no source");
    }

    [TestMethod]
    public void The_key_is_read_from_a_file_or_an_environment_variable_and_never_shown()
    {
        var directory = Temp();
        var (privatePath, publicPath, privatePem) = NewKey(directory);

        using var fromFile = SigningKey.Load("key.pem", directory, _ => null);
        using var fromVariable = SigningKey.Load("SIGNING_KEY_PEM", directory, name => name == "SIGNING_KEY_PEM" ? privatePem : null);
        var expected = VerificationKey.FromPem(File.ReadAllText(publicPath), "test");
        Assert.AreEqual(expected.Hint, fromFile.PublicKey.Hint);
        Assert.AreEqual(expected.Hint, fromVariable.PublicKey.Hint);
        Assert.AreEqual("environment variable SIGNING_KEY_PEM", fromVariable.Source);
        Assert.IsFalse(fromFile.ToString().Contains("PRIVATE", StringComparison.Ordinal));
        Assert.IsTrue(expected.Verify("data"u8, fromFile.Sign("data"u8)));

        var inline = Assert.ThrowsExactly<SigningException>(() => SigningKey.Load(privatePem, directory, _ => null));
        Assert.AreEqual(SigningFailure.InvalidKey, inline.Failure);
        Assert.DoesNotContain("MIG", inline.Message, "the key material is never echoed");
        StringAssert.Contains(inline.Message, "ContainerSigningKey");

        var missing = Assert.ThrowsExactly<SigningException>(() => SigningKey.Load("NO_SUCH_VARIABLE", directory, _ => null));
        StringAssert.Contains(missing.Message, "NO_SUCH_VARIABLE");

        File.WriteAllText(Path.Combine(directory, "public-only.pem"), File.ReadAllText(publicPath));
        StringAssert.Contains(Assert.ThrowsExactly<SigningException>(() => SigningKey.Load("public-only.pem", directory, _ => null)).Message, "public key");

        using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
        {
            File.WriteAllText(Path.Combine(directory, "p384.pem"), p384.ExportPkcs8PrivateKeyPem());
        }

        StringAssert.Contains(Assert.ThrowsExactly<SigningException>(() => SigningKey.Load("p384.pem", directory, _ => null)).Message, "P-256");

        using (var rsa = RSA.Create(2048))
        {
            File.WriteAllText(Path.Combine(directory, "rsa.pem"), rsa.ExportPkcs8PrivateKeyPem());
        }

        var rsaError = Assert.ThrowsExactly<SigningException>(() => SigningKey.Load("rsa.pem", directory, _ => null));
        StringAssert.Contains(rsaError.Message, "EC PRIVATE KEY");
        Assert.IsTrue(File.Exists(privatePath));
    }

    [TestMethod]
    public async Task Bundles_verify_with_sigstore_verify_and_ours_and_fail_there_and_here_when_changed_or_with_another_key()
    {
        var directory = Temp();
        var (privatePath, publicPath, _) = NewKey(directory);
        var (_, otherPublicPath, _) = NewKey(directory, "other");
        using var key = SigningKey.Load(privatePath, directory, _ => null);
        var publicKey = VerificationKey.FromFile(publicPath, "test");
        var otherKey = VerificationKey.FromFile(otherPublicPath, "test");

        var manifest = Encoding.UTF8.GetBytes("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}""");
        var manifestPath = Path.Combine(directory, "manifest.json");
        File.WriteAllBytes(manifestPath, manifest);
        var changedManifestPath = Path.Combine(directory, "changed-manifest.json");
        File.WriteAllBytes(changedManifestPath, [.. manifest, (byte)' ']);
        var manifestDigest = Digest.Compute(manifest);

        var signature = SigstoreBundle.SignMessage(manifest, key).ToJson();
        var signaturePath = Path.Combine(directory, "signature.sigstore.json");
        File.WriteAllBytes(signaturePath, signature);
        var statement = ProvenanceStatement.Create(SampleRequest(new BuilderIdentity("urn:test", null, "local")) with { Subjects = [new ProvenanceSubject("app", manifestDigest)] });
        var provenance = SigstoreBundle.SignEnvelope(SigstoreBundle.InTotoPayloadType, statement, key).ToJson();
        var provenancePath = Path.Combine(directory, "provenance.sigstore.json");
        File.WriteAllBytes(provenancePath, provenance);

        var bundle = JsonDocument.Parse(signature).RootElement;
        Assert.AreEqual("application/vnd.dev.sigstore.bundle.v0.3+json", bundle.GetProperty("mediaType").GetString());
        Assert.AreEqual(publicKey.Hint, bundle.GetProperty("verificationMaterial").GetProperty("publicKey").GetProperty("hint").GetString());
        Assert.AreEqual(0, bundle.GetProperty("verificationMaterial").GetProperty("tlogEntries").GetArrayLength());

        // Independent: npm's @sigstore/verify.
        await AssertSigstoreVerifies(publicPath, signaturePath, manifestPath, null);
        await AssertSigstoreVerifies(publicPath, provenancePath, null, manifestDigest.ToString());
        await AssertSigstoreRefuses(publicPath, signaturePath, changedManifestPath, null, "a changed manifest");
        await AssertSigstoreRefuses(otherPublicPath, signaturePath, manifestPath, null, "another key");
        await AssertSigstoreRefuses(otherPublicPath, provenancePath, null, manifestDigest.ToString(), "another key");
        var tamperedSignaturePath = Path.Combine(directory, "tampered-signature.sigstore.json");
        File.WriteAllBytes(tamperedSignaturePath, Tamper(signature, "messageSignature", "signature"));
        await AssertSigstoreRefuses(publicPath, tamperedSignaturePath, manifestPath, null, "a changed signature");
        var tamperedProvenancePath = Path.Combine(directory, "tampered-provenance.sigstore.json");
        File.WriteAllBytes(tamperedProvenancePath, ChangePayload(provenance));
        await AssertSigstoreRefuses(publicPath, tamperedProvenancePath, null, manifestDigest.ToString(), "a changed statement");

        // Ours.
        Assert.IsNull(ContainerImageVerifier.VerifyBundle(signature, manifest, publicKey, "signature"));
        Assert.IsNull(ContainerImageVerifier.VerifyBundle(provenance, manifest, publicKey, "provenance"));
        StringAssert.Contains(ContainerImageVerifier.VerifyBundle(signature, File.ReadAllBytes(changedManifestPath), publicKey, "signature"), "manifest changed");
        StringAssert.Contains(ContainerImageVerifier.VerifyBundle(signature, manifest, otherKey, "signature"), "not by the given key");
        StringAssert.Contains(ContainerImageVerifier.VerifyBundle(Tamper(signature, "messageSignature", "signature"), manifest, publicKey, "signature"), "does not verify");
        StringAssert.Contains(ContainerImageVerifier.VerifyBundle(ChangePayload(provenance), manifest, publicKey, "provenance"), "does not verify");
        StringAssert.Contains(ContainerImageVerifier.VerifyBundle(provenance, File.ReadAllBytes(changedManifestPath), publicKey, "provenance"), "does not name");
    }

    private async Task AssertSigstoreVerifies(string key, string bundle, string? artifact, string? subject)
    {
        var result = await TestSigstore.VerifyAsync(key, bundle, artifact, subject, TestContext.CancellationToken);
        Assert.AreEqual(0, result.ExitCode, $"@sigstore/verify: {result.StandardError}");
    }

    private async Task AssertSigstoreRefuses(string key, string bundle, string? artifact, string? subject, string because)
    {
        var result = await TestSigstore.VerifyAsync(key, bundle, artifact, subject, TestContext.CancellationToken);
        TestContext.WriteLine($"{because}: {result.StandardError.Trim()}");
        Assert.AreEqual(1, result.ExitCode, $"@sigstore/verify must refuse {because}: {result.StandardOutput}{result.StandardError}");
    }

    // Flips one byte of a base64 field.
    private static byte[] Tamper(byte[] bundle, string container, string field)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(bundle)!;
        var bytes = Convert.FromBase64String(node[container]![field]!.GetValue<string>());
        bytes[^1] ^= 0x01;
        node[container]![field] = Convert.ToBase64String(bytes);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    // Replaces the DSSE payload with another statement, keeping the signature.
    private static byte[] ChangePayload(byte[] bundle)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(bundle)!;
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(node["dsseEnvelope"]!["payload"]!.GetValue<string>()));
        node["dsseEnvelope"]!["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.Replace("Release", "Debug", StringComparison.Ordinal)));
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
