using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Tests.Registry.Fakes;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Registry;

/// <summary>Uploads whose digest is given only at the end: chunks go up as they are written, the digest closes the upload.</summary>
[TestClass]
public sealed class BlobUploadStreamTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(RegistryAuthMode.Anonymous)]
    [DataRow(RegistryAuthMode.Token)]
    public async Task A_blob_streamed_in_uneven_writes_arrives_whole_under_its_digest(RegistryAuthMode mode)
    {
        await using var registry = await TestRegistry.StartAsync(mode, TestContext.CancellationToken);
        var progress = new List<TransferProgress>();
        using var client = new RegistryClient(new RegistryClientOptions
        {
            CredentialProvider = new StaticCredentialProvider(mode == RegistryAuthMode.Anonymous ? null : registry.Credential),
            Progress = new SynchronousProgress(progress),
        });
        var blob = new byte[(2 * BlobUploadStream.ChunkSize) + 12_345]; // two full chunks sent while writing, the rest with the digest
        new Random(9).NextBytes(blob);
        var descriptor = Descriptor.For(MediaTypes.OciLayerGzip, blob);

        await using (var upload = await client.StartBlobUploadAsync(registry.Host, "team/streamed", TestContext.CancellationToken))
        {
            for (var offset = 0; offset < blob.Length; offset += 300_007)
            {
                await upload.WriteAsync(blob.AsMemory(offset, Math.Min(300_007, blob.Length - offset)), TestContext.CancellationToken);
            }

            Assert.AreEqual(blob.Length, upload.BytesWritten);
            await upload.CompleteAsync(descriptor, TestContext.CancellationToken);
        }

        Assert.IsTrue(await client.BlobExistsAsync(registry.Host, "team/streamed", descriptor.Digest, TestContext.CancellationToken));
        await using var pulled = await client.OpenBlobAsync(registry.Host, "team/streamed", descriptor, TestContext.CancellationToken);
        Assert.AreEqual(descriptor.Digest, await Digest.ComputeAsync(pulled, cancellationToken: TestContext.CancellationToken));
        Assert.IsTrue(progress.Any(p => p.Digest == descriptor.Digest && p.Operation == TransferOperation.Pushed && p.IsComplete), "the completed upload is reported");
    }

    [TestMethod]
    public async Task A_wrong_digest_at_the_close_is_refused_and_leaves_no_blob()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        using var client = new RegistryClient();
        var blob = new byte[BlobUploadStream.ChunkSize + 10];
        new Random(10).NextBytes(blob);
        var claimed = Descriptor.For(MediaTypes.OciLayerGzip, blob.AsSpan(1).ToArray()) with { Size = blob.Length };

        await using (var upload = await client.StartBlobUploadAsync(registry.Host, "team/wrong", TestContext.CancellationToken))
        {
            await upload.WriteAsync(blob, TestContext.CancellationToken);
            var error = await Assert.ThrowsAsync<RegistryException>(() => upload.CompleteAsync(claimed, TestContext.CancellationToken));
            Assert.Contains(claimed.Digest.ToString(), error.Message);
        }

        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "team/wrong", claimed.Digest, TestContext.CancellationToken));
        Assert.IsFalse(await client.BlobExistsAsync(registry.Host, "team/wrong", Digest.Compute(blob), TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task A_refused_chunk_fails_the_upload_and_disposing_cancels_the_session()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.Faults.Add(new FaultRule { When = FaultRule.Matching("PATCH", "/blobs/uploads/"), Action = FaultRule.Status(500), Times = 10 });
        using var client = new RegistryClient(new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10) });
        var blob = new byte[(3 * BlobUploadStream.ChunkSize) + 1];

        var upload = await client.StartBlobUploadAsync(registry.Host, "app", TestContext.CancellationToken);
        await using (upload)
        {
            // The first chunk's failure surfaces at the write that must wait for it, or at the close.
            await Assert.ThrowsAsync<RegistryException>(async () =>
            {
                await upload.WriteAsync(blob, TestContext.CancellationToken);
                await upload.CompleteAsync(Descriptor.For(MediaTypes.OciLayerGzip, blob), TestContext.CancellationToken);
            });
        }

        Assert.AreEqual(1, registry.CountRequests("PATCH", "/blobs/uploads/"), "no chunk after the failed one");
        Assert.AreEqual(1, registry.CountRequests("DELETE", "/blobs/uploads/"), "the session is cancelled");
        Assert.IsFalse(registry.HasBlob("app", Digest.Compute(blob).ToString()));
    }

    private sealed class SynchronousProgress(List<TransferProgress> events) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (events)
            {
                events.Add(value);
            }
        }
    }
}
