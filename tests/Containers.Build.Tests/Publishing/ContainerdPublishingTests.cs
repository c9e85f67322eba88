using Containers.Build.Publishing;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Build.Tests.Publishing;

/// <summary>Publishing into a real containerd (LocalRegistry=containerd), and the references a publish reports.</summary>
[TestClass]
public sealed class ContainerdPublishingTests
{
    private const string Namespace = "k8s.io";

    private readonly List<string> _cleanup = [];

    public TestContext TestContext { get; set; } = null!;

    private CancellationToken Token => TestContext.CancellationToken;

    [TestCleanup]
    public void Cleanup()
    {
        foreach (var dir in _cleanup.Where(Directory.Exists))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private string Temp(string prefix)
    {
        var dir = PublishFixture.NewTempDirectory(prefix);
        _cleanup.Add(dir);
        return dir;
    }

    private ContainerPublisher Publisher() =>
        new(new RegistryClientOptions(), new Progress<PublishProgress>(p => TestContext.WriteLine(p.Message)));

    [TestMethod]
    public async Task Publishing_into_containerd_sends_the_base_layer_once_and_then_only_what_changed()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, Token);
        await using var containerd = await TestContainerd.StartAsync(Token);
        var work = Temp("containerd");
        var baseImage = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        using (var client = new RegistryClient(new RegistryClientOptions()))
        {
            await client.PushImageAsync(baseImage, registry.Host, "dotnet/runtime", ["10.0"], cancellationToken: Token);
        }

        var publish = PublishFixture.MakePublishDirectory(work);
        var destination = new ContainerDestination.Containerd(containerd.Address, Namespace, "team/app") { Tags = ["1.0", "latest"] };
        var request = PublishFixture.Request(publish, work, destination, ImageReference.Parse(registry.Host + "/dotnet/runtime:10.0"), cache: Path.Combine(work, "cache"));

        var cold = await Publisher().PublishAsync(request, Token);
        var unchanged = await Publisher().PublishAsync(request, Token);
        File.AppendAllText(Path.Combine(publish, "App.dll"), "one more line");
        var before = await containerd.ContentDigestsAsync(Namespace, Token);
        var changed = await Publisher().PublishAsync(request, Token);

        // Everything (the base layer too, streamed from the registry) went in once; the unchanged republish sent nothing.
        var coldBlobs = cold.Images[0].Layers.Sum(l => l.Size);
        Assert.IsGreaterThan(coldBlobs, cold.BytesUploaded);
        Assert.AreEqual(0L, cold.BytesReused);
        Assert.AreEqual(cold.Digest, unchanged.Digest);
        Assert.AreEqual(0L, unchanged.BytesUploaded);
        Assert.AreEqual(cold.BytesUploaded, unchanged.BytesReused);

        // The changed republish sent the app layer, the config and the manifest, which are exactly what containerd gained.
        var appLayer = changed.Images[0].Layers.Single(l => l.Name == "app");
        var added = (await containerd.ContentDigestsAsync(Namespace, Token)).Except(before).ToHashSet();
        var expected = new[] { appLayer.Digest, changed.Images[0].ConfigDigest, changed.Digest }.Select(d => d.ToString()).ToHashSet();
        Assert.IsTrue(expected.SetEquals(added), $"containerd gained {string.Join(", ", added)}");
        Assert.IsLessThan(appLayer.Size + 16 * 1024, changed.BytesUploaded);

        // Both tags name the new manifest, under the name a Kubernetes pod's "team/app:1.0" resolves to.
        using var store = new ContainerdStore(containerd.Address, Namespace);
        foreach (var name in new[] { "docker.io/team/app:1.0", "docker.io/team/app:latest" })
        {
            Assert.AreEqual(changed.Digest, (await store.GetImageTargetAsync(name, Token))?.Digest, name);
        }

        var reference = ContainerImageReferences.For(destination, changed);
        Assert.AreEqual($"docker.io/team/app@{changed.Digest}", reference.Reference);
        Assert.IsTrue(reference.IsDigestPinned);
    }

    [TestMethod]
    public async Task Two_runtime_identifiers_go_into_containerd_as_one_index()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        await using var containerd = await TestContainerd.StartAsync(Token);
        var work = Temp("containerd-multi");
        var x64 = PublishFixture.MakePublishDirectory(work, "x64");
        var arm64 = PublishFixture.MakePublishDirectory(work, "arm64", seed: 2);
        var destination = new ContainerDestination.Containerd(containerd.Address, "default", "app") { Tags = ["multi"] };
        var request = PublishFixture.Request(x64, work, destination, ImageReference.Parse("localhost/base:multiarch"), baseLayout) with
        {
            Targets = [new("linux-x64", x64), new("linux-arm64", arm64)],
        };

        var result = await Publisher().PublishAsync(request, Token);

        Assert.AreEqual(MediaTypes.OciIndex, result.MediaType);
        using var store = new ContainerdStore(containerd.Address, "default");
        var target = await store.GetImageTargetAsync("docker.io/library/app:multi", Token);
        Assert.AreEqual(result.Digest, target?.Digest);
        Assert.AreEqual(MediaTypes.OciIndex, target?.MediaType);
        var images = await containerd.CtrAsync("default", ["images", "ls"], Token);
        var line = images.Split('\n').Single(l => l.StartsWith("docker.io/library/app:multi", StringComparison.Ordinal));
        StringAssert.Contains(line, "linux/amd64");
        StringAssert.Contains(line, "linux/arm64");
    }

    [TestMethod]
    public async Task An_unreachable_containerd_fails_the_publish_before_anything_is_built()
    {
        var work = Temp("containerd-absent");
        var publish = PublishFixture.MakePublishDirectory(work);
        var socket = Path.Combine(work, "no-containerd.sock");
        var cache = Path.Combine(work, "cache");
        var destination = new ContainerDestination.Containerd(socket, Namespace, "app") { Tags = ["1.0"] };
        // The base image would come from a registry that does not exist: the publish must stop before it is asked.
        var request = PublishFixture.Request(publish, work, destination, ImageReference.Parse("127.0.0.1:1/dotnet/runtime:10.0"), cache: cache);

        var error = await Assert.ThrowsExactlyAsync<ContainerdException>(() => Publisher().PublishAsync(request, Token));

        Assert.AreEqual(ContainerdFailure.SocketMissing, error.Failure);
        StringAssert.Contains(error.Message, socket);
        StringAssert.Contains(error.Message, "ContainerContainerdAddress");
        Assert.IsFalse(Directory.Exists(cache) && Directory.EnumerateFileSystemEntries(cache).Any(), "no layer was built");
    }

    [TestMethod]
    [DataRow("app", "docker.io/library/app")]
    [DataRow("team/app", "docker.io/team/app")]
    [DataRow("registry.test/team/app", "registry.test/team/app")]
    [DataRow("localhost/app", "localhost/app")]
    [DataRow("127.0.0.1:5000/app", "127.0.0.1:5000/app")]
    public void Containerd_names_are_the_repository_as_Kubernetes_resolves_it(string repository, string expected)
    {
        var destination = new ContainerDestination.Containerd("/run/containerd/containerd.sock", Namespace, repository) { Tags = ["1.0", "latest"] };

        Assert.AreEqual(expected, destination.NormalizedRepository);
        CollectionAssert.AreEqual(new[] { expected + ":1.0", expected + ":latest" }, destination.ImageNames.ToArray());
    }

    [TestMethod]
    public void References_name_the_digest_where_the_destination_keeps_it_and_the_local_name_elsewhere()
    {
        var digest = Oci.Digests.Digest.Compute("index"u8);
        var result = new ContainerPublishResult
        {
            Digest = digest,
            MediaType = MediaTypes.OciIndex,
            ManifestJson = "{}",
            Images = [],
            Tags = ["1.0", "latest"],
            TimestampSource = "test",
            LayoutPath = "/out/layout",
            ArchivePath = "/out/app.tar.gz",
        };

        Assert.AreEqual($"127.0.0.1:5000/team/app@{digest}", ContainerImageReferences.For(new ContainerDestination.RegistryRepository("127.0.0.1:5000", "team/app") { Tags = ["1.0"] }, result).Reference);
        Assert.AreEqual($"docker.io/library/app@{digest}", ContainerImageReferences.For(new ContainerDestination.Containerd("/s", Namespace, "app") { Tags = ["1.0"] }, result).Reference);
        var daemon = ContainerImageReferences.For(new ContainerDestination.LocalDaemon("podman", "team/app") { Tags = ["1.0"] }, result);
        Assert.AreEqual("team/app:1.0", daemon.Reference);
        Assert.IsFalse(daemon.IsDigestPinned);
        Assert.AreEqual(digest, daemon.Digest);
        Assert.AreEqual("oci:/out/layout:1.0", ContainerImageReferences.For(new ContainerDestination.OciLayoutDirectory("/out/layout/", "app") { Tags = ["1.0"] }, result).Reference);
        Assert.AreEqual("oci-archive:/out/app.tar.gz", ContainerImageReferences.For(new ContainerDestination.Archive("/out/app.tar.gz", "app", ArchiveFormat.Oci) { Tags = ["1.0"] }, result).Reference);
        Assert.AreEqual("docker-archive:/out/app.tar.gz", ContainerImageReferences.For(new ContainerDestination.Archive("/out/app.tar.gz", "app", ArchiveFormat.Docker) { Tags = ["1.0"] }, result).Reference);
    }

    [TestMethod]
    public void The_references_file_is_replaced_whole_and_leaves_no_temporary_file()
    {
        var work = Temp("refs");
        var path = Path.Combine(work, "deploy", "images.txt");
        var digest = Oci.Digests.Digest.Compute("m"u8);
        var reference = new ContainerImageReference("127.0.0.1:5000/app@" + digest, "127.0.0.1:5000/app", digest, MediaTypes.OciManifest, ["1.0"], true);
        File.WriteAllText(Path.Combine(work, "placeholder"), "");

        ContainerImageReferences.WriteFile(path, [reference]);
        ContainerImageReferences.WriteFile(path, [reference, reference with { Reference = "second" }]);

        Assert.AreEqual($"127.0.0.1:5000/app@{digest}\nsecond\n", File.ReadAllText(path));
        CollectionAssert.AreEqual(new[] { "images.txt" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).ToArray());

        ContainerImageReferences.DeleteStale(path);
        Assert.IsFalse(File.Exists(path));
        ContainerImageReferences.DeleteStale(path);
    }

    [TestMethod]
    public void An_unwritable_references_file_is_an_error_naming_the_property_and_the_path()
    {
        var work = Temp("refs-bad");
        // A directory where the file should go: neither root nor anyone else can write a file there.
        var path = Path.Combine(work, "taken");
        Directory.CreateDirectory(path);
        var digest = Oci.Digests.Digest.Compute("m"u8);

        var error = Assert.ThrowsExactly<OciException>(() => ContainerImageReferences.WriteFile(path, [new ContainerImageReference("x@" + digest, "x", digest, MediaTypes.OciManifest, ["1"], true)]));

        StringAssert.Contains(error.Message, "ContainerImageReferencesFile");
        StringAssert.Contains(error.Message, path);
        Assert.AreEqual(0, Directory.GetFiles(work).Length, "no temporary file is left");
    }

    private async Task<string> MakeBaseLayoutAsync()
    {
        var work = Temp("base");
        var layout = OciLayout.Create(Path.Combine(work, "layout"));
        var amd64 = await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work);
        var arm64 = await PublishFixture.MakeBaseImageAsync(Platform.LinuxArm64, work);
        await layout.WriteIndexAsync(new ComposedImageIndex([amd64, arm64]), "multiarch");
        return layout.DirectoryPath;
    }
}
