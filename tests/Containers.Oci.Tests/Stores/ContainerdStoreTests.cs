using System.Net.Sockets;
using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

/// <summary>Imports into a real containerd (Debian's 1.6) started per test on its own socket; checked with <c>ctr</c>.</summary>
[TestClass]
public sealed class ContainerdStoreTests
{
    private const string Namespace = "k8s.io";

    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() => _work = new TemporaryDirectory("containerd-tests-");

    [TestCleanup]
    public void DeleteWorkDirectory() => _work.Dispose();

    private CancellationToken Token => TestContext.CancellationToken;

    [TestMethod]
    public async Task An_image_is_imported_with_every_blob_named_and_survives_garbage_collection()
    {
        await using var containerd = await TestContainerd.StartAsync(Token);
        var image = TestImages.CreateImage(_work);
        using var store = new ContainerdStore(containerd.Address);

        var result = await store.ImportImageAsync(image, ["registry.test/app:1.0", "registry.test/app:latest"], Token);

        var blobs = image.Layers.Select(l => l.Descriptor.Digest.ToString()).Append(image.Manifest.Config.Digest.ToString()).Append(image.ManifestDescriptor.Digest.ToString()).ToHashSet();
        CollectionAssert.AreEquivalent(blobs.ToArray(), result.Sent.Select(d => d.Digest.ToString()).ToArray());
        Assert.AreEqual(0, result.AlreadyPresent.Count);
        Assert.AreEqual(image.Layers.Sum(l => l.Descriptor.Size) + image.ConfigBytes.Length + image.ManifestBytes.Length, result.BytesSent);
        Assert.AreEqual(image.ManifestDescriptor, result.Target);

        var images = await containerd.CtrAsync(Namespace, ["images", "ls"], Token);
        foreach (var name in new[] { "registry.test/app:1.0", "registry.test/app:latest" })
        {
            var line = images.Split('\n').Single(l => l.StartsWith(name + "\t", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
            StringAssert.Contains(line, image.ManifestDescriptor.Digest.ToString());
            StringAssert.Contains(line, image.ManifestDescriptor.MediaType);
        }

        AssertTarget(image.ManifestDescriptor, await store.GetImageTargetAsync("registry.test/app:1.0", Token));
        Assert.IsNull(await store.GetImageTargetAsync("registry.test/app:absent", Token));

        var labels = await containerd.ContentLabelsAsync(Namespace, image.ManifestDescriptor.Digest.ToString(), Token);
        Assert.AreEqual(image.Manifest.Config.Digest.ToString(), labels["containerd.io/gc.ref.content.config"]);
        Assert.AreEqual(image.Manifest.Layers[0].Digest.ToString(), labels["containerd.io/gc.ref.content.l.0"]);
        Assert.AreEqual(image.Manifest.Layers[1].Digest.ToString(), labels["containerd.io/gc.ref.content.l.1"]);

        // The import's lease is gone: only the image name and the gc.ref labels keep the blobs now.
        await containerd.CollectGarbageAsync(Namespace, Token);
        var afterGc = await containerd.ContentDigestsAsync(Namespace, Token);
        Assert.IsTrue(blobs.IsSubsetOf(afterGc), $"after GC containerd lost blobs: {string.Join(", ", blobs.Except(afterGc))}");
        Assert.AreEqual("", (await containerd.CtrAsync(Namespace, ["leases", "ls", "-q"], Token)).Trim(), "the import's lease was not deleted");
        var check = await containerd.CtrAsync(Namespace, ["images", "check"], Token);
        StringAssert.Contains(check, "complete");
        Assert.IsFalse(check.Contains("incomplete", StringComparison.Ordinal), check);
    }

    [TestMethod]
    public async Task A_second_import_of_the_same_image_sends_nothing()
    {
        await using var containerd = await TestContainerd.StartAsync(Token);
        var image = TestImages.CreateImage(_work);
        using var store = new ContainerdStore(containerd.Address);
        await store.ImportImageAsync(image, ["app:1"], Token);

        var second = await store.ImportImageAsync(image, ["app:1", "app:2"], Token);

        Assert.AreEqual(0, second.Sent.Count);
        Assert.AreEqual(0, second.BytesSent);
        Assert.AreEqual(4, second.AlreadyPresent.Count, "two layers, config and manifest");
        AssertTarget(image.ManifestDescriptor, await store.GetImageTargetAsync("app:2", Token));
    }

    [TestMethod]
    public async Task Only_the_blobs_containerd_lacks_are_sent_and_an_existing_name_moves_to_the_new_image()
    {
        await using var containerd = await TestContainerd.StartAsync(Token);
        using var store = new ContainerdStore(containerd.Address, "team-a");
        var first = TestImages.CreateImage(Path.Combine(_work, "first"), marker: "1");
        await store.ImportImageAsync(first, ["app:latest"], Token);
        var before = await containerd.ContentDigestsAsync("team-a", Token);

        // Same base layer, another app layer: config, manifest and the app layer are new.
        var second = TestImages.CreateImage(Path.Combine(_work, "second"), marker: "2");
        var result = await store.ImportImageAsync(second, ["app:latest"], Token);

        var after = await containerd.ContentDigestsAsync("team-a", Token);
        var added = after.Except(before).ToHashSet();
        var expectedSent = new[] { second.Layers[1].Descriptor.Digest, second.Manifest.Config.Digest, second.ManifestDescriptor.Digest }.Select(d => d.ToString()).ToHashSet();
        Assert.IsTrue(expectedSent.SetEquals(result.Sent.Select(d => d.Digest.ToString())), $"sent: {string.Join(", ", result.Sent.Select(d => d.Digest))}");
        Assert.IsTrue(expectedSent.SetEquals(added), $"new in containerd: {string.Join(", ", added)}");
        CollectionAssert.AreEqual(new[] { second.Layers[0].Descriptor.Digest }, result.AlreadyPresent.Select(d => d.Digest).ToArray());
        AssertTarget(second.ManifestDescriptor, await store.GetImageTargetAsync("app:latest", Token));
        // Another namespace holds nothing of it.
        Assert.AreEqual(0, (await containerd.ContentDigestsAsync(Namespace, Token)).Count);
    }

    [TestMethod]
    public async Task A_multi_platform_index_goes_in_as_one_image_that_holds_every_platform()
    {
        await using var containerd = await TestContainerd.StartAsync(Token);
        var amd64 = TestImages.CreateImage(Path.Combine(_work, "amd64"), Platform.LinuxAmd64, "amd64");
        var arm64 = TestImages.CreateImage(Path.Combine(_work, "arm64"), Platform.LinuxArm64, "arm64");
        var index = new ComposedImageIndex([amd64, arm64], ManifestFormat.Oci);
        using var store = new ContainerdStore(containerd.Address);

        var result = await store.ImportIndexAsync(index, ["app:multi"], Token);

        Assert.AreEqual(index.IndexDescriptor, result.Target);
        AssertTarget(index.IndexDescriptor, await store.GetImageTargetAsync("app:multi", Token));
        var indexLabels = await containerd.ContentLabelsAsync(Namespace, index.IndexDescriptor.Digest.ToString(), Token);
        Assert.AreEqual(amd64.ManifestDescriptor.Digest.ToString(), indexLabels["containerd.io/gc.ref.content.m.0"]);
        Assert.AreEqual(arm64.ManifestDescriptor.Digest.ToString(), indexLabels["containerd.io/gc.ref.content.m.1"]);

        await containerd.CollectGarbageAsync(Namespace, Token);
        var held = await containerd.ContentDigestsAsync(Namespace, Token);
        foreach (var image in new[] { amd64, arm64 })
        {
            Assert.IsTrue(held.Contains(image.ManifestDescriptor.Digest.ToString()));
            Assert.IsTrue(held.Contains(image.Manifest.Config.Digest.ToString()));
            Assert.IsTrue(image.Layers.All(l => held.Contains(l.Descriptor.Digest.ToString())));
        }

        // ctr lists both platforms of the one image.
        var images = await containerd.CtrAsync(Namespace, ["images", "ls"], Token);
        var line = images.Split('\n').Single(l => l.StartsWith("app:multi", StringComparison.Ordinal));
        StringAssert.Contains(line, "linux/amd64");
        StringAssert.Contains(line, "linux/arm64");
    }

    [TestMethod]
    public async Task An_imported_index_runs_with_ctr_run_which_unpacks_the_host_platform()
    {
        TestTools.Require("runc", "runc");
        TestTools.Require("containerd-shim-runc-v2", "containerd");
        // The test base images' index: the host's platform is the real runtime-deps root filesystem, the other a placeholder.
        var index = await OciLayout.Open(TestBaseImages.LayoutDirectory).ReadIndexAsync("multiarch-10.0", Token);
        await using var containerd = await TestContainerd.StartAsync(Token);
        using var store = new ContainerdStore(containerd.Address);
        await store.ImportIndexAsync(index, ["docker.io/library/multiarch:10.0"], Token);

        var output = await containerd.CtrAsync(Namespace, ["run", "--rm", "docker.io/library/multiarch:10.0", "multiarch-run", "/bin/sh", "-c", "echo ran on $(uname -m)"], Token);

        var machine = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "x86_64",
            System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
            var other => other.ToString().ToLowerInvariant(),
        };
        Assert.AreEqual($"ran on {machine}", output.Trim());
        Assert.AreEqual("", (await containerd.CtrAsync(Namespace, ["containers", "ls", "-q"], Token)).Trim(), "--rm removed the container");
    }

    [TestMethod]
    public async Task A_failed_import_moves_no_name_and_leaves_nothing_after_garbage_collection()
    {
        await using var containerd = await TestContainerd.StartAsync(Token);
        using var store = new ContainerdStore(containerd.Address);
        var good = TestImages.CreateImage(Path.Combine(_work, "good"), marker: "good");
        await store.ImportImageAsync(good, ["app:1"], Token);
        var before = await containerd.ContentDigestsAsync(Namespace, Token);

        var bad = TestImages.CreateImage(Path.Combine(_work, "bad"), marker: "bad");
        // The app layer's file no longer matches its digest: the import must stop before any name moves.
        var appLayer = (StoredLayer)bad.Layers[1];
        var path = Directory.GetFiles(Path.Combine(_work, "bad", "layers")).Single(f => Path.GetFileName(f) == appLayer.Descriptor.Digest.Hex);
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0xff;
        File.WriteAllBytes(path, bytes);

        await Assert.ThrowsExactlyAsync<Digests.DigestMismatchException>(() => store.ImportImageAsync(bad, ["app:1"], Token));

        AssertTarget(good.ManifestDescriptor, await store.GetImageTargetAsync("app:1", Token));
        await containerd.CollectGarbageAsync(Namespace, Token);
        var after = await containerd.ContentDigestsAsync(Namespace, Token);
        Assert.IsTrue(before.SetEquals(after), $"left behind: {string.Join(", ", after.Except(before))}");
        Assert.AreEqual("", (await containerd.CtrAsync(Namespace, ["content", "active"], Token)).Split('\n', 2)[1].Trim(), "the interrupted write's ingest is collected with the lease");
    }

    [TestMethod]
    public async Task No_socket_at_the_address_is_a_clear_error_naming_it_and_the_property()
    {
        var address = Path.Combine(_work, "absent.sock");
        using var store = new ContainerdStore("unix://" + address);

        var error = await Assert.ThrowsExactlyAsync<ContainerdException>(() => store.ImportImageAsync(TestImages.CreateImage(_work), ["app:1"], Token));

        Assert.AreEqual(ContainerdFailure.SocketMissing, error.Failure);
        Assert.AreEqual(address, error.Address);
        StringAssert.Contains(error.Message, address);
        StringAssert.Contains(error.Message, "ContainerContainerdAddress");
        StringAssert.Contains(error.Message, "Start containerd");
    }

    [TestMethod]
    public async Task A_socket_nobody_listens_on_is_a_clear_error()
    {
        // Like a socket file left behind by a stopped containerd: bound but not listening (kept open, since .NET
        // deletes the file of a bound socket it closes).
        var address = Path.Combine(_work, "stale.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(address));

        using var store = new ContainerdStore(address);
        var error = await Assert.ThrowsExactlyAsync<ContainerdException>(() => store.GetImageTargetAsync("app:1", Token));

        Assert.AreEqual(ContainerdFailure.NotListening, error.Failure);
        Assert.IsTrue(error.IsUnreachable);
        StringAssert.Contains(error.Message, $"containerd is not running at {address}");
        StringAssert.Contains(error.Message, "ContainerContainerdAddress");
    }

    [TestMethod]
    public void An_invalid_namespace_is_refused_before_anything_is_contacted()
    {
        var error = Assert.ThrowsExactly<ContainerdException>(() => new ContainerdStore("/nonexistent.sock", "bad namespace!"));

        Assert.AreEqual(ContainerdFailure.InvalidNamespace, error.Failure);
        StringAssert.Contains(error.Message, "'bad namespace!'");
        StringAssert.Contains(error.Message, "k8s.io");
    }

    // containerd keeps media type, digest and size of a target, not the platform a descriptor in an index carries.
    private static void AssertTarget(Descriptor expected, Descriptor? actual)
    {
        Assert.IsNotNull(actual);
        Assert.AreEqual(expected.MediaType, actual.MediaType);
        Assert.AreEqual(expected.Digest, actual.Digest);
        Assert.AreEqual(expected.Size, actual.Size);
    }
}
