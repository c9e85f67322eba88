using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Tests.Registry.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace Containers.Oci.Tests.Registry;

/// <summary>Push/pull against the in-process registry, with the faults a real registry cannot be made to produce.</summary>
[TestClass]
public sealed class FakeRegistryPushPullTests
{
    private TestImages _images = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Initialize() => _images = new TestImages();

    [TestCleanup]
    public void Cleanup() => _images.Dispose();

    private static RegistryClient CreateClient(FakeRegistry? registry = null, RegistryCredential? credential = null, IProgress<TransferProgress>? progress = null, Func<RegistryClientOptions, RegistryClientOptions>? configure = null)
    {
        var options = new RegistryClientOptions
        {
            CredentialProvider = new StaticCredentialProvider(credential ?? registry?.Credential),
            MaxRetries = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = TimeSpan.FromSeconds(2),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            Progress = progress,
        };
        return new RegistryClient(configure is null ? options : configure(options));
    }

    [TestMethod]
    public async Task Push_then_pull_round_trips_an_image_with_several_layers()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(3, 20_000);

        var digest = await client.PushImageAsync(image, registry.Host, "team/app", ["v1", "latest"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(image.ManifestDescriptor.Digest, digest);
        var pulled = await client.GetImageAsync(ImageReference.Parse($"{registry.Host}/team/app:v1"), Platform.LinuxAmd64, TestContext.CancellationToken);
        Assert.AreEqual(digest, pulled.ManifestDescriptor.Digest);
        CollectionAssert.AreEqual(image.ConfigBytes.ToArray(), pulled.ConfigBytes.ToArray());
        Assert.HasCount(3, pulled.Layers);
        for (var i = 0; i < 3; i++)
        {
            Assert.AreEqual(image.Layers[i].Descriptor.Digest, await TestImages.ReadBlobDigestAsync(pulled.Layers[i], TestContext.CancellationToken));
            Assert.AreEqual(image.Layers[i].DiffId, pulled.Layers[i].DiffId);
        }

        CollectionAssert.AreEquivalent(new[] { "latest", "v1" }, (await client.ListTagsAsync(registry.Host, "team/app", TestContext.CancellationToken)).ToArray());
    }

    [TestMethod]
    public async Task Push_completes_despite_429_with_retry_after_500s_and_a_connection_dropped_mid_upload()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var tooMany = new FaultRule { When = FaultRule.Matching("POST", "/blobs/uploads/"), Action = FaultRule.Status(429, retryAfter: "1") };
        var serverError = new FaultRule { When = FaultRule.Matching("HEAD", "/manifests/"), Action = FaultRule.Status(500), Times = 2 };
        var dropped = new FaultRule { When = FaultRule.Matching("PUT", "/blobs/uploads/"), Action = FaultRule.AbortMidBody(), Skip = 1 };
        var manifestError = new FaultRule { When = FaultRule.Matching("PUT", "/manifests/v1"), Action = FaultRule.Status(503) };
        registry.Faults.AddRange([tooMany, serverError, dropped, manifestError]);
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(3, 50_000);

        var stopwatch = Stopwatch.StartNew();
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(1, tooMany.Applied);
        Assert.AreEqual(2, serverError.Applied);
        Assert.AreEqual(1, dropped.Applied);
        Assert.AreEqual(1, manifestError.Applied);
        Assert.IsGreaterThanOrEqualTo(900, stopwatch.ElapsedMilliseconds, "Retry-After: 1 must be honored");
        Assert.IsTrue(registry.HasTag("app", "v1"));
        var pulled = await client.GetImageAsync(registry.Host, "app", "v1", null, TestContext.CancellationToken);
        foreach (var layer in pulled.Layers)
        {
            Assert.AreEqual(layer.Descriptor.Digest, await TestImages.ReadBlobDigestAsync(layer, TestContext.CancellationToken));
        }
    }

    [TestMethod]
    public async Task Retry_after_given_as_an_http_date_is_honored()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var retryAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var busy = new FaultRule { When = FaultRule.Matching("GET", "/tags/list"), Action = FaultRule.Status(503, retryAfter: retryAt.ToString("R")) };
        registry.Faults.Add(busy);
        using var client = CreateClient(registry, configure: o => o with { MaxRetryDelay = TimeSpan.FromSeconds(5) });
        var image = await _images.CreateImageAsync(1, 1_000);
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);

        var stopwatch = Stopwatch.StartNew();
        var tags = await client.ListTagsAsync(registry.Host, "app", TestContext.CancellationToken);

        Assert.AreEqual(1, busy.Applied);
        CollectionAssert.AreEqual(new[] { "v1" }, tags.ToArray());
        Assert.IsGreaterThanOrEqualTo(800, stopwatch.ElapsedMilliseconds, "the HTTP-date Retry-After (1-2 s ahead) must be waited for");
    }

    [TestMethod]
    public async Task Push_fails_cleanly_when_faults_persist_and_no_tag_is_written()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.Faults.Add(new FaultRule { When = FaultRule.Matching("PUT", "/blobs/uploads/"), Action = FaultRule.Status(503), Skip = 1, Times = int.MaxValue });
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(3, 10_000);

        var error = await Assert.ThrowsExactlyAsync<RegistryException>(() => client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken));

        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.AreEqual(registry.Host, error.Registry);
        Assert.Contains(registry.Host, error.Message);
        Assert.Contains("UNAVAILABLE", error.Message);
        Assert.AreEqual(0, registry.CountRequests("PUT", "/manifests/"), "no manifest may be written while blobs are missing");
        Assert.IsFalse(registry.HasTag("app", "v1"));
        var notFound = await Assert.ThrowsExactlyAsync<RegistryNotFoundException>(() => client.GetManifestAsync(registry.Host, "app", "v1", TestContext.CancellationToken));
        Assert.Contains("not found", notFound.Message);
    }

    [TestMethod]
    public async Task Large_blobs_are_uploaded_in_chunks_with_content_ranges()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry, configure: o => o with { ChunkedUploadThreshold = 1_000, ChunkSize = 8_192 });
        var layer = await _images.CreateLayerAsync(40_000, gzip: false);
        var image = Image.Empty(Platform.LinuxAmd64).AppendLayers(layer);

        await client.PushImageAsync(image, registry.Host, "chunked", ["v1"], cancellationToken: TestContext.CancellationToken);

        var ranges = registry.Requests.Where(r => r.Method == "PATCH").Select(r => r.ContentRange).ToArray();
        var expectedChunks = (int)Math.Ceiling(layer.Descriptor.Size / 8192.0);
        Assert.HasCount(expectedChunks, ranges);
        Assert.AreEqual("0-8191", ranges[0]);
        Assert.AreEqual($"8192-16383", ranges[1]);
        Assert.AreEqual($"{(expectedChunks - 1) * 8192}-{layer.Descriptor.Size - 1}", ranges[^1]);
        Assert.IsTrue(registry.HasBlob("chunked", layer.Descriptor.Digest));
    }

    [TestMethod]
    public async Task A_chunked_upload_dropped_mid_patch_restarts_with_a_new_session()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var dropped = new FaultRule { When = FaultRule.Matching("PATCH", "/blobs/uploads/"), Action = FaultRule.AbortMidBody(1000), Skip = 2 };
        registry.Faults.Add(dropped);
        using var client = CreateClient(registry, configure: o => o with { ChunkedUploadThreshold = 1_000, ChunkSize = 8_192 });
        var layer = await _images.CreateLayerAsync(40_000, gzip: false);

        var operation = await client.PushBlobAsync(registry.Host, "chunked", layer.Descriptor, layer.OpenCompressedAsync, cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(TransferOperation.Pushed, operation);
        Assert.AreEqual(1, dropped.Applied);
        Assert.AreEqual(2, registry.CountRequests("POST", "/blobs/uploads/"), "the retry must open a new upload session");
        Assert.IsTrue(registry.HasBlob("chunked", layer.Descriptor.Digest));
    }

    [TestMethod]
    public async Task A_blob_served_with_wrong_bytes_is_refused()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(2, 10_000);
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);
        registry.CorruptBlobs[image.Layers[1].Descriptor.Digest] = true;

        var pulled = await client.GetImageAsync(registry.Host, "app", "v1", null, TestContext.CancellationToken);
        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => TestImages.ReadBlobDigestAsync(pulled.Layers[1], TestContext.CancellationToken));

        var refusedDigest = error.Expected;
        Assert.AreEqual(image.Layers[1].Descriptor.Digest, refusedDigest);
        Assert.Contains("refused", error.Message);
        Assert.AreEqual(image.Layers[0].Descriptor.Digest, await TestImages.ReadBlobDigestAsync(pulled.Layers[0], TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_corrupt_config_or_manifest_is_refused()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(1, 1_000);
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);

        registry.CorruptBlobs[image.Manifest.Config.Digest] = true;
        await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => client.GetImageAsync(registry.Host, "app", "v1", null, TestContext.CancellationToken));

        registry.CorruptBlobs.Clear();
        registry.CorruptBlobs[image.ManifestDescriptor.Digest] = true;
        await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => client.GetManifestAsync(registry.Host, "app", image.ManifestDescriptor.Digest, TestContext.CancellationToken));
        await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => client.GetManifestAsync(registry.Host, "app", "v1", TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_redirect_to_storage_does_not_carry_the_authorization_header()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Basic, withStorage: true);
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(2, 10_000);
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);
        registry.RedirectBlobsToStorage = true;

        var pulled = await client.GetImageAsync(registry.Host, "app", "v1", null, TestContext.CancellationToken);
        foreach (var layer in pulled.Layers)
        {
            Assert.AreEqual(layer.Descriptor.Digest, await TestImages.ReadBlobDigestAsync(layer, TestContext.CancellationToken));
        }

        Assert.AreEqual(3, registry.StorageRequests, "config and two layers come from storage");
        Assert.AreEqual(0, registry.StorageAuthorizationViolations);
        Assert.IsTrue(registry.Requests.Where(r => r.Path.Contains("/blobs/sha256:", StringComparison.Ordinal)).All(r => r.Authorization is not null), "the registry itself gets the credentials");
    }

    [TestMethod]
    public async Task One_token_serves_a_whole_push_and_asks_for_push_pull_and_mount_scopes()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(4, 5_000);

        await client.PushImageAsync(image, registry.Host, "team/app", ["v1"], mountFrom: ["team/base"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(1, registry.TokensIssued);
        Assert.AreEqual(1, client.TokensFetched);
        CollectionAssert.AreEquivalent(new[] { "repository:team/app:pull,push", "repository:team/base:pull" }, registry.TokenScopes.ToArray());
        Assert.IsGreaterThan(10, registry.Requests.Count(r => r.Authorization?.StartsWith("Bearer ", StringComparison.Ordinal) == true));
    }

    [TestMethod]
    public async Task A_token_is_reused_until_shortly_before_it_expires()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        registry.TokenLifetime = TimeSpan.FromMinutes(1);
        var clock = new FakeTimeProvider();
        using var client = CreateClient(registry, configure: options => options with { TimeProvider = clock });
        var digest = Digest.Compute("x"u8);

        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "app", digest, TestContext.CancellationToken));
        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "app", digest, TestContext.CancellationToken));
        Assert.AreEqual(1, registry.TokensIssued);

        // A one-minute token is renewed 10 s before it runs out.
        clock.Advance(TimeSpan.FromSeconds(49));
        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "app", digest, TestContext.CancellationToken));
        Assert.AreEqual(1, registry.TokensIssued);

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "app", digest, TestContext.CancellationToken));

        Assert.AreEqual(2, registry.TokensIssued);
        Assert.AreEqual(0, registry.Requests.Count(r => r.Path.Contains("/blobs/", StringComparison.Ordinal) && r.Authorization is null), "requests after the ping authenticate up front");
    }

    [TestMethod]
    public async Task Wrong_credentials_give_a_denied_error_naming_the_registry_and_source_but_not_the_secret()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Basic);
        var wrong = new RegistryCredential { Username = "fake-user", Password = "not-the-password-123", Source = "environment variable TEST_REGISTRY_PASSWORD" };
        using var client = CreateClient(registry, wrong);

        var error = await Assert.ThrowsExactlyAsync<RegistryAuthenticationException>(() => client.GetManifestAsync(registry.Host, "team/app", "v1", TestContext.CancellationToken));

        Assert.AreEqual(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.AreEqual("environment variable TEST_REGISTRY_PASSWORD", error.CredentialSource);
        Assert.Contains($"Access to team/app on {registry.Host} was denied", error.Message);
        Assert.Contains("environment variable TEST_REGISTRY_PASSWORD", error.Message);
        Assert.Contains("docker login", error.Message);
        Assert.DoesNotContain("not-the-password-123", error.ToString());
    }

    [TestMethod]
    public async Task Credentials_are_looked_up_per_repository()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Basic);
        var provider = new PerRepositoryProvider(registry.Credential);
        using var client = new RegistryClient(new RegistryClientOptions { CredentialProvider = provider, RetryBaseDelay = TimeSpan.FromMilliseconds(10) });

        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "team/app", Digest.Compute("x"u8), TestContext.CancellationToken));
        var error = await Assert.ThrowsExactlyAsync<RegistryAuthenticationException>(() => client.BlobExistsAsync(registry.Host, "other/app", Digest.Compute("x"u8), TestContext.CancellationToken));

        Assert.AreEqual("wrong credentials for other/app", error.CredentialSource);
        CollectionAssert.Contains(provider.Repositories.ToArray(), "team/app");
    }

    private sealed class PerRepositoryProvider(RegistryCredential right) : ICredentialProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string?> Repositories { get; } = new();

        public ValueTask<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default) =>
            GetCredentialAsync(registry, null, cancellationToken);

        public ValueTask<RegistryCredential?> GetCredentialAsync(string registry, string? repository, CancellationToken cancellationToken = default)
        {
            Repositories.Enqueue(repository);
            return new(repository == "team/app" ? right : new RegistryCredential { Username = "x", Password = "y", Source = $"wrong credentials for {repository}" });
        }
    }

    [TestMethod]
    public async Task Anonymous_access_to_a_protected_registry_says_no_credentials_were_found()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        using var client = new RegistryClient(new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10) });

        var error = await Assert.ThrowsExactlyAsync<RegistryAuthenticationException>(() => client.GetManifestAsync(registry.Host, "app", "v1", TestContext.CancellationToken));

        Assert.IsNull(error.CredentialSource);
        Assert.Contains("no credentials were found", error.Message);
    }

    [TestMethod]
    public async Task Cancellation_stops_a_hanging_push_promptly()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.Faults.Add(new FaultRule { When = FaultRule.Matching("PUT", "/blobs/uploads/"), Action = FaultRule.Hang, Times = int.MaxValue });
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(2, 10_000);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(300));

        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<OperationCanceledException>(() => client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: cancellation.Token));

        Assert.IsLessThan(3000, stopwatch.ElapsedMilliseconds);
        Assert.IsFalse(registry.HasTag("app", "v1"));
    }

    [TestMethod]
    public async Task An_unreachable_registry_fails_within_seconds()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = CreateClient();

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsExactlyAsync<RegistryUnreachableException>(() => client.GetManifestAsync($"127.0.0.1:{port}", "app", "v1", TestContext.CancellationToken));

        Assert.IsLessThan(5000, stopwatch.ElapsedMilliseconds);
        Assert.Contains($"Registry 127.0.0.1:{port} is unreachable", error.Message);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [TestMethod]
    public async Task A_tls_failure_suggests_the_insecure_option_and_the_insecure_option_uses_plain_http()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var port = int.Parse(registry.Host.Split(':')[1]);
        Func<HttpMessageHandler> toFake = () => new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var secure = CreateClient(registry, configure: o => o with { HttpMessageHandlerFactory = toFake });

        var error = await Assert.ThrowsExactlyAsync<RegistryUnreachableException>(() => secure.PingAsync("registry.test:5000", TestContext.CancellationToken));
        Assert.Contains("TLS", error.Message);
        Assert.Contains("insecure registries", error.Message);

        using var insecure = CreateClient(registry, configure: o => o with { HttpMessageHandlerFactory = toFake, InsecureRegistries = ["registry.test:5000"] });
        await insecure.PingAsync("registry.test:5000", TestContext.CancellationToken);
        Assert.IsFalse(await insecure.BlobExistsAsync("registry.test:5000", "app", Digest.Compute("x"u8), TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_second_repository_mounts_shared_blobs_instead_of_uploading_them()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var progress = new ProgressRecorder();
        using var client = CreateClient(registry, progress: progress);
        var baseImage = await _images.CreateImageAsync(2, 10_000);
        await client.PushImageAsync(baseImage, registry.Host, "base", ["1"], cancellationToken: TestContext.CancellationToken);
        var app = baseImage.AppendLayers(await _images.CreateLayerAsync(5_000));

        await client.PushImageAsync(app, registry.Host, "app", ["1"], mountFrom: ["base"], cancellationToken: TestContext.CancellationToken);

        foreach (var shared in baseImage.Layers)
        {
            CollectionAssert.AreEqual(new[] { TransferOperation.Mounted }, progress.Reports.Where(r => r.Repository == "app" && r.Digest == shared.Descriptor.Digest && r.IsComplete).Select(r => r.Operation).ToArray());
        }

        Assert.IsTrue(progress.Reports.Any(r => r.Repository == "app" && r.Digest == app.Layers[2].Descriptor.Digest && r.Operation == TransferOperation.Pushed && r.IsComplete));
        Assert.IsTrue(registry.HasTag("app", "1"));
    }

    [TestMethod]
    public async Task Pushing_an_image_the_registry_already_has_uploads_nothing_and_only_adds_tags()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(2, 5_000);
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);
        var uploadsBefore = registry.CountRequests("POST", "/blobs/uploads/");

        await client.PushImageAsync(image, registry.Host, "app", ["v2"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(uploadsBefore, registry.CountRequests("POST", "/blobs/uploads/"));
        Assert.IsTrue(registry.HasTag("app", "v2"));
    }

    [TestMethod]
    public async Task Multi_platform_images_are_pushed_as_an_index_and_pulled_per_platform()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry);
        var amd64 = await _images.CreateImageAsync(1, 5_000, Platform.LinuxAmd64);
        var arm64 = await _images.CreateImageAsync(1, 5_000, Platform.LinuxArm64);
        var index = new ComposedImageIndex([amd64, arm64]);

        var digest = await client.PushIndexAsync(index, ImageReference.Parse($"{registry.Host}/multi:1"), cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(index.IndexDescriptor.Digest, digest);
        var arm = await client.GetImageAsync(ImageReference.Parse($"{registry.Host}/multi:1"), Platform.LinuxArm64, TestContext.CancellationToken);
        Assert.AreEqual(arm64.ManifestDescriptor.Digest, arm.ManifestDescriptor.Digest);
        Assert.AreEqual("arm64", arm.Config.Architecture);
        var pulledIndex = await client.GetIndexAsync(ImageReference.Parse($"{registry.Host}/multi:1"), TestContext.CancellationToken);
        Assert.HasCount(2, pulledIndex.Images);
        await Assert.ThrowsAsync<OciException>(() => client.GetImageAsync(registry.Host, "multi", "1", null, TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task Missing_images_and_repositories_are_reported_as_not_found()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(1, 1_000);
        await client.PushImageAsync(image, registry.Host, "app", ["v1"], cancellationToken: TestContext.CancellationToken);

        var missingTag = await Assert.ThrowsExactlyAsync<RegistryNotFoundException>(() => client.GetImageAsync(registry.Host, "app", "v9", null, TestContext.CancellationToken));
        Assert.Contains($"Image {registry.Host}/app:v9 was not found", missingTag.Message);
        Assert.AreEqual("v9", missingTag.Reference);

        var missingRepository = await Assert.ThrowsExactlyAsync<RegistryNotFoundException>(() => client.GetImageAsync(registry.Host, "nope", "v1", null, TestContext.CancellationToken));
        Assert.Contains("The repository nope does not exist", missingRepository.Message);
    }

    [TestMethod]
    public async Task Tag_lists_follow_link_pagination()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.TagPageSize = 2;
        using var client = CreateClient(registry);
        var image = await _images.CreateImageAsync(1, 1_000);
        string[] tags = ["a", "b", "c", "d", "e"];
        await client.PushImageAsync(image, registry.Host, "app", tags, cancellationToken: TestContext.CancellationToken);

        var listed = await client.ListTagsAsync(registry.Host, "app", TestContext.CancellationToken);

        CollectionAssert.AreEqual(tags, listed.ToArray());
        Assert.AreEqual(3, registry.CountRequests("GET", "/tags/list"));
    }
}
