using System.Collections.Concurrent;
using System.Text.Json;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Registry;

/// <summary>Push and pull against the real distribution registry (docker-registry 2.8), checked with skopeo and umoci.</summary>
[TestClass]
public sealed class RealRegistryTests
{
    private TestImages _images = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Initialize() => _images = new TestImages();

    [TestCleanup]
    public void Cleanup() => _images.Dispose();

    private static RegistryClient CreateClient(RegistryCredential? credential, IProgress<TransferProgress>? progress = null, Func<RegistryClientOptions, RegistryClientOptions>? configure = null)
    {
        var options = new RegistryClientOptions
        {
            CredentialProvider = new StaticCredentialProvider(credential),
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            Progress = progress,
        };
        return new RegistryClient(configure is null ? options : configure(options));
    }

    private static RegistryCredential? CredentialFor(TestRegistry registry) =>
        registry.AuthMode == RegistryAuthMode.Anonymous ? null : registry.Credential;

    [TestMethod]
    [DataRow(RegistryAuthMode.Anonymous)]
    [DataRow(RegistryAuthMode.Basic)]
    [DataRow(RegistryAuthMode.Token)]
    public async Task Push_and_pull_a_random_image_with_several_layers(RegistryAuthMode mode)
    {
        await using var registry = await TestRegistry.StartAsync(mode, TestContext.CancellationToken);
        using var client = CreateClient(CredentialFor(registry));
        var image = await _images.CreateImageAsync(3, 300_000);

        var digest = await client.PushImageAsync(image, ImageReference.Parse($"{registry.Host}/team/app:1.0"), ["latest"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(image.ManifestDescriptor.Digest, digest);
        var pulled = await client.GetImageAsync(ImageReference.Parse($"{registry.Host}/team/app:1.0"), Platform.LinuxAmd64, TestContext.CancellationToken);
        Assert.AreEqual(digest, pulled.ManifestDescriptor.Digest);
        CollectionAssert.AreEqual(image.ConfigBytes.ToArray(), pulled.ConfigBytes.ToArray());
        for (var i = 0; i < image.Layers.Count; i++)
        {
            Assert.AreEqual(image.Layers[i].Descriptor.Digest, await TestImages.ReadBlobDigestAsync(pulled.Layers[i], TestContext.CancellationToken));
            await using var tar = await pulled.Layers[i].OpenUncompressedAsync(TestContext.CancellationToken);
            Assert.AreEqual(image.Layers[i].DiffId, await Digest.ComputeAsync(tar, TestContext.CancellationToken));
        }

        CollectionAssert.AreEquivalent(new[] { "1.0", "latest" }, (await client.ListTagsAsync(registry.Host, "team/app", TestContext.CancellationToken)).ToArray());
        if (mode == RegistryAuthMode.Token)
        {
            // One token for the push (pull,push), one for the pulls (pull): not one per request.
            Assert.AreEqual(2, registry.TokensIssued);
            Assert.Contains("repository:team/app:pull,push", registry.RequestedScopes);
        }
    }

    [TestMethod]
    public async Task An_identity_token_is_exchanged_at_the_token_service_with_the_refresh_token_grant()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        string refreshToken;
        using (var http = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{registry.TokenRealm}?service={registry.TokenService}&offline_token=true");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{registry.Username}:{registry.Password}")));
            using var response = await http.SendAsync(request, TestContext.CancellationToken);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.CancellationToken));
            refreshToken = body.RootElement.GetProperty("refresh_token").GetString()!;
        }

        using var client = CreateClient(new RegistryCredential { IdentityToken = refreshToken, Source = "docker config (identitytoken)" });
        var image = await _images.CreateImageAsync(1, 10_000);

        await client.PushImageAsync(image, registry.Host, "oauth/app", ["1"], cancellationToken: TestContext.CancellationToken);

        var pulled = await client.GetImageAsync(registry.Host, "oauth/app", "1", null, TestContext.CancellationToken);
        Assert.AreEqual(image.ManifestDescriptor.Digest, pulled.ManifestDescriptor.Digest);
        Assert.AreEqual(2, client.TokensFetched);
    }

    [TestMethod]
    public async Task A_second_repository_mounts_the_base_layers()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        var progress = new ProgressRecorder();
        using var client = CreateClient(registry.Credential, progress);
        var baseImage = await _images.CreateImageAsync(2, 100_000);
        await client.PushImageAsync(baseImage, registry.Host, "dotnet/base", ["1"], cancellationToken: TestContext.CancellationToken);
        var app = baseImage.AppendLayers(await _images.CreateLayerAsync(50_000));

        await client.PushImageAsync(app, registry.Host, "apps/web", ["1"], mountFrom: ["dotnet/base"], cancellationToken: TestContext.CancellationToken);

        foreach (var shared in baseImage.Layers)
        {
            CollectionAssert.AreEqual(
                new[] { TransferOperation.Mounted },
                progress.Reports.Where(r => r.Repository == "apps/web" && r.Digest == shared.Descriptor.Digest && r.IsComplete).Select(r => r.Operation).ToArray());
        }

        Assert.IsTrue(progress.Reports.Any(r => r.Repository == "apps/web" && r.Digest == app.Layers[^1].Descriptor.Digest && r.Operation == TransferOperation.Pushed && r.IsComplete));
        Assert.Contains("repository:dotnet/base:pull", registry.RequestedScopes);
        var pulled = await client.GetImageAsync(registry.Host, "apps/web", "1", null, TestContext.CancellationToken);
        Assert.AreEqual(baseImage.Layers[0].Descriptor.Digest, await TestImages.ReadBlobDigestAsync(pulled.Layers[0], TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_layer_over_64_MiB_is_uploaded_in_several_chunks()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        var counter = new RequestCounter(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var client = CreateClient(registry.Credential, configure: o => o with { ChunkSize = 16 * 1024 * 1024, HttpMessageHandlerFactory = () => counter });
        var layer = await _images.CreateLayerAsync(65L * 1024 * 1024 + 12_345, gzip: false);
        Assert.IsGreaterThan(64L * 1024 * 1024, layer.Descriptor.Size);
        var image = Image.Empty(Platform.LinuxAmd64).AppendLayers(layer);

        await client.PushImageAsync(image, registry.Host, "big", ["1"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(5, counter.Count("PATCH"), "65 MiB in 16 MiB chunks");
        var pulled = await client.GetImageAsync(registry.Host, "big", "1", null, TestContext.CancellationToken);
        Assert.AreEqual(layer.Descriptor.Digest, await TestImages.ReadBlobDigestAsync(pulled.Layers[0], TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_blob_corrupted_in_registry_storage_is_refused()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        using var client = CreateClient(null);
        var image = await _images.CreateImageAsync(2, 100_000);
        await client.PushImageAsync(image, registry.Host, "app", ["1"], cancellationToken: TestContext.CancellationToken);
        var target = image.Layers[1].Descriptor.Digest;
        var data = Path.Combine(registry.StorageDirectory, "docker", "registry", "v2", "blobs", "sha256", target.Hex[..2], target.Hex, "data");
        Assert.IsTrue(File.Exists(data), data);
        await using (var file = new FileStream(data, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var original = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(original ^ 0xFF));
        }

        var pulled = await client.GetImageAsync(registry.Host, "app", "1", null, TestContext.CancellationToken);
        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => TestImages.ReadBlobDigestAsync(pulled.Layers[1], TestContext.CancellationToken));
        Assert.Contains(target.ToString(), error.Message);
    }

    [TestMethod]
    public async Task Read_only_credentials_get_a_clear_denied_error_on_push()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        using var client = CreateClient(registry.ReadOnlyCredential);
        var image = await _images.CreateImageAsync(1, 10_000);

        var error = await Assert.ThrowsExactlyAsync<RegistryAuthenticationException>(() => client.PushImageAsync(image, registry.Host, "app", ["1"], cancellationToken: TestContext.CancellationToken));

        Assert.AreEqual(registry.Host, error.Registry);
        Assert.AreEqual(registry.ReadOnlyCredential.Source, error.CredentialSource);
        Assert.Contains($"Access to app on {registry.Host} was denied", error.Message);
        Assert.Contains(registry.ReadOnlyCredential.Source, error.Message);
        Assert.Contains("push to app", error.Message);
        Assert.DoesNotContain(registry.ReadOnlyPassword, error.ToString());
    }

    [TestMethod]
    public async Task A_wrong_password_with_basic_auth_is_denied_naming_the_source()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        var wrong = new RegistryCredential { Username = registry.Username, Password = "wrong-" + registry.Password, Source = "docker config /tmp/test/config.json" };
        using var client = CreateClient(wrong);

        var error = await Assert.ThrowsExactlyAsync<RegistryAuthenticationException>(() => client.GetImageAsync(registry.Host, "app", "1", null, TestContext.CancellationToken));

        Assert.AreEqual(System.Net.HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("docker config /tmp/test/config.json", error.Message);
        Assert.DoesNotContain(wrong.Password!, error.ToString());
    }

    [TestMethod]
    public async Task An_image_we_push_is_copied_and_inspected_by_skopeo()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        using var client = CreateClient(registry.Credential);
        var image = await _images.CreateImageAsync(2, 100_000);
        var digest = await client.PushImageAsync(image, registry.Host, "interop/ours", ["1"], cancellationToken: TestContext.CancellationToken);
        var creds = $"{registry.Username}:{registry.Password}";

        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/interop/ours:1"], cancellationToken: TestContext.CancellationToken);
        using (var document = JsonDocument.Parse(inspect.StandardOutput))
        {
            Assert.AreEqual(digest.ToString(), document.RootElement.GetProperty("Digest").GetString());
            Assert.AreEqual(2, document.RootElement.GetProperty("Layers").GetArrayLength());
        }

        var layout = Path.Combine(_images.Directory, "skopeo-layout");
        await TestTools.RunCheckedAsync(skopeo, ["copy", "--src-tls-verify=false", "--src-creds", creds, $"docker://{registry.Host}/interop/ours:1", $"oci:{layout}:copied"], cancellationToken: TestContext.CancellationToken);
        using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), TestContext.CancellationToken));
        Assert.AreEqual(digest.ToString(), index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString(), "skopeo copied our manifest byte for byte");
    }

    [TestMethod]
    public async Task An_image_pushed_by_skopeo_from_a_umoci_layout_is_pulled_and_verified()
    {
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var umoci = TestTools.Require("umoci", "umoci");
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        var layout = Path.Combine(_images.Directory, "umoci-layout");
        var bundle = Path.Combine(_images.Directory, "bundle");
        await TestTools.RunCheckedAsync(umoci, ["init", "--layout", layout], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(umoci, ["new", "--image", $"{layout}:latest"], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(umoci, ["unpack", "--rootless", "--image", $"{layout}:latest", bundle], cancellationToken: TestContext.CancellationToken);
        var payload = new byte[200_000];
        Random.Shared.NextBytes(payload);
        await File.WriteAllBytesAsync(Path.Combine(bundle, "rootfs", "payload.bin"), payload, TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(umoci, ["repack", "--image", $"{layout}:latest", bundle], cancellationToken: TestContext.CancellationToken);
        var creds = $"{registry.Username}:{registry.Password}";
        await TestTools.RunCheckedAsync(skopeo, ["copy", "--dest-tls-verify=false", "--dest-creds", creds, $"oci:{layout}:latest", $"docker://{registry.Host}/interop/theirs:1"], cancellationToken: TestContext.CancellationToken);
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/interop/theirs:1"], cancellationToken: TestContext.CancellationToken);
        using var document = JsonDocument.Parse(inspect.StandardOutput);
        using var client = CreateClient(registry.Credential);

        var pulled = await client.GetImageAsync(registry.Host, "interop/theirs", "1", Platform.LinuxAmd64, TestContext.CancellationToken);

        Assert.AreEqual(document.RootElement.GetProperty("Digest").GetString(), pulled.ManifestDescriptor.Digest.ToString());
        Assert.HasCount(1, pulled.Layers);
        await using var tar = await pulled.Layers[0].OpenUncompressedAsync(TestContext.CancellationToken);
        using var reader = new System.Formats.Tar.TarReader(tar);
        var found = false;
        while (await reader.GetNextEntryAsync(copyData: false, TestContext.CancellationToken) is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') == "payload.bin")
            {
                var copy = new MemoryStream();
                await entry.DataStream!.CopyToAsync(copy, TestContext.CancellationToken);
                CollectionAssert.AreEqual(payload, copy.ToArray());
                found = true;
            }
        }

        Assert.IsTrue(found, "the file added with umoci is in the layer we pulled");
        Assert.AreEqual(pulled.Layers[0].DiffId, pulled.Config.RootFs.DiffIds[0]);
    }

    /// <summary>Counts requests by method on their way out.</summary>
    private sealed class RequestCounter(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly ConcurrentDictionary<string, int> _counts = new();

        public int Count(string method) => _counts.GetValueOrDefault(method);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _counts.AddOrUpdate(request.Method.Method, 1, (_, n) => n + 1);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
