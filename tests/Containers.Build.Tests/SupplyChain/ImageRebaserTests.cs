using Containers.Build.Publishing;
using Containers.Build.SupplyChain;
using Containers.Build.Tests.Publishing;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.TestSupport;

namespace Containers.Build.Tests.SupplyChain;

/// <summary>
/// <see cref="ImageRebaser"/> against the real distribution registry: an app published on base 1 moves to
/// base 2 without its app layers being uploaded again, and every case a rebase would get wrong is refused.
/// </summary>
[TestClass]
public sealed class ImageRebaserTests
{
    private readonly List<string> _directories = [];

    public TestContext TestContext { get; set; } = null!;

    [TestCleanup]
    public void Cleanup()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string Temp(string name)
    {
        var directory = PublishFixture.NewTempDirectory(name);
        _directories.Add(directory);
        return directory;
    }

    /// <summary>A registry with base 1 (dotnet/runtime:1), the app published on it (team/app:1.0), and base 2 (dotnet/runtime:2): base 1 plus a patch layer and a newer DOTNET_VERSION.</summary>
    private async Task<(TestRegistry Registry, ContainerPublishResult App, Image Base1, Image Base2)> PublishOnBase1Async(string work, Func<ImageConfig, ImageConfig>? changeBase2 = null, Platform? base2Platform = null, ManifestFormat? format = null)
    {
        var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        var base1 = (await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work)).WithConfig(c => c with
        {
            Config = c.Config! with { Env = ["PATH=/usr/bin:/bin", "APP_UID=1654", "DOTNET_VERSION=10.0.1"], User = "1654", WorkingDir = "/app/" },
        });
        var patch = Path.Combine(work, "patched");
        await File.WriteAllTextAsync(patch, "CVE fixed", TestContext.CancellationToken);
        var patchLayer = await LayerWriter.WriteToDirectoryAsync(LayerPlan.Empty.AddFile(patch, "/etc/patched"), work, new LayerWriteOptions { Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000) }, TestContext.CancellationToken);
        var base2 = base1.AppendLayers(patchLayer).WithConfig(c => c with
        {
            Config = c.Config! with { Env = ["PATH=/usr/bin:/bin", "APP_UID=1654", "DOTNET_VERSION=10.0.2"] },
        });
        if (base2Platform is not null)
        {
            base2 = (await PublishFixture.MakeBaseImageAsync(base2Platform, work)).WithConfig(c => c with { Config = base1.Config.Config });
        }

        if (changeBase2 is not null)
        {
            base2 = base2.WithConfig(changeBase2);
        }

        using (var client = new RegistryClient())
        {
            await client.PushImageAsync(base1, registry.Host, "dotnet/runtime", ["1"], cancellationToken: TestContext.CancellationToken);
            await client.PushImageAsync(base2, registry.Host, "dotnet/runtime", ["2"], cancellationToken: TestContext.CancellationToken);
        }

        var publish = PublishFixture.MakePublishDirectory(work);
        var request = PublishFixture.Request(publish, work, new ContainerDestination.RegistryRepository(registry.Host, "team/app") { Tags = ["1.0", "latest"] }, ImageReference.Parse(registry.Host + "/dotnet/runtime:1")) with
        {
            Format = format,
            ComposeConfig = (config, rid, baseDigest) =>
            {
                var composed = PublishFixture.Compose(config, rid, baseDigest);
                return composed with
                {
                    Config = composed.Config! with
                    {
                        Env = [.. config.Config!.Env!, "APP_MODE=prod"],
                        Labels = new SortedDictionary<string, string>(StringComparer.Ordinal)
                        {
                            ["rid"] = rid,
                            ["org.opencontainers.image.base.digest"] = baseDigest.ToString(),
                            ["org.opencontainers.image.base.name"] = registry.Host + "/dotnet/runtime:1",
                        },
                    },
                };
            },
        };
        var app = await new ContainerPublisher().PublishAsync(request, TestContext.CancellationToken);
        return (registry, app, base1, base2);
    }

    [TestMethod]
    public async Task Rebase_keeps_the_app_layers_uploads_only_the_config_and_takes_the_new_base_environment()
    {
        var work = Temp("rebase");
        var (registry, app, base1, base2) = await PublishOnBase1Async(work);
        await using var _ = registry;
        var pushes = new TransferRecorder();
        using var rebaser = new ImageRebaser(new RegistryClientOptions { Progress = pushes });

        var result = await rebaser.RebaseAsync(
            new ImageRebaseRequest { Image = ImageReference.Parse($"{registry.Host}/team/app:1.0"), NewBase = ImageReference.Parse($"{registry.Host}/dotnet/runtime:2"), Tags = ["1.0", "latest"] },
            TestContext.CancellationToken);

        using var client = new RegistryClient();
        var rebased = await client.GetImageAsync(registry.Host, "team/app", "1.0", null, TestContext.CancellationToken);
        var original = app.Images[0].Layers.Where(l => l.Name != "base").Select(l => l.Digest).ToArray();
        Assert.AreEqual(result.Digest, rebased.ManifestDescriptor.Digest, "the tag moved to the rebased image");
        Assert.AreNotEqual(app.Digest, result.Digest);
        CollectionAssert.AreEqual(
            base2.Layers.Select(l => l.Descriptor.Digest).Concat(original).ToArray(),
            rebased.Layers.Select(l => l.Descriptor.Digest).ToArray(),
            "new base layers, then the very same app layers");
        CollectionAssert.AreEqual(original, result.Images[0].AppLayers.ToArray());
        CollectionAssert.AreEqual(new[] { rebased.Manifest.Config.Digest }, pushes.Pushed.ToArray(), "only the config blob is uploaded (the manifest is PUT, not a blob)");
        Assert.AreEqual(rebased.Manifest.Config.Size, result.BytesUploaded);

        var env = rebased.Config.Config!.Env!;
        Assert.Contains("DOTNET_VERSION=10.0.2", env, "the patched base's value");
        Assert.DoesNotContain("DOTNET_VERSION=10.0.1", env);
        Assert.Contains("APP_MODE=prod", env, "what the app set is kept");
        Assert.AreEqual("1654", rebased.Config.Config.User);
        Assert.AreEqual("/app/", rebased.Config.Config.WorkingDir);
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/App.dll" }, rebased.Config.Config.Entrypoint!.ToArray());
        Assert.AreEqual(base2.ManifestDescriptor.Digest.ToString(), rebased.Manifest.Annotations!["org.opencontainers.image.base.digest"]);
        Assert.AreEqual($"{registry.Host}/dotnet/runtime:2", rebased.Manifest.Annotations["org.opencontainers.image.base.name"]);
        Assert.AreEqual(base2.ManifestDescriptor.Digest.ToString(), rebased.Config.Config.Labels!["org.opencontainers.image.base.digest"]);
        Assert.AreEqual(base2.Config.History!.Count + original.Length, rebased.Config.History!.Count);

        // Rebasing again onto the same base changes nothing and uploads nothing.
        pushes.Clear();
        var again = await rebaser.RebaseAsync(
            new ImageRebaseRequest { Image = ImageReference.Parse($"{registry.Host}/team/app:1.0"), NewBase = ImageReference.Parse($"{registry.Host}/dotnet/runtime:2"), Tags = ["1.0"] },
            TestContext.CancellationToken);
        Assert.IsTrue(again.AlreadyOnNewBase);
        Assert.AreEqual(result.Digest, again.Digest);
        Assert.IsEmpty(pushes.Pushed);
        Assert.AreEqual(base1.Layers.Count + 1, base2.Layers.Count);
    }

    [TestMethod]
    public async Task A_Docker_format_image_records_its_base_in_labels_and_is_rebased_too()
    {
        var work = Temp("docker-format");
        var (registry, app, _, base2) = await PublishOnBase1Async(work, format: ManifestFormat.Docker);
        await using var _ = registry;
        Assert.AreEqual(MediaTypes.DockerManifest, app.MediaType);
        using var rebaser = new ImageRebaser();

        var result = await rebaser.RebaseAsync(
            new ImageRebaseRequest { Image = ImageReference.Parse($"{registry.Host}/team/app:1.0"), NewBase = ImageReference.Parse($"{registry.Host}/dotnet/runtime:2") },
            TestContext.CancellationToken);

        using var client = new RegistryClient();
        var rebased = await client.GetImageAsync(registry.Host, "team/app", "1.0", null, TestContext.CancellationToken);
        Assert.AreEqual(result.Digest, rebased.ManifestDescriptor.Digest);
        Assert.AreEqual(MediaTypes.DockerManifest, rebased.ManifestDescriptor.MediaType, "the format is kept");
        CollectionAssert.AreEqual(
            base2.Layers.Select(l => l.Descriptor.Digest).Concat(app.Images[0].Layers.Where(l => l.Name != "base").Select(l => l.Digest)).ToArray(),
            rebased.Layers.Select(l => l.Descriptor.Digest).ToArray());
        Assert.AreEqual($"{registry.Host}/dotnet/runtime:2", rebased.Config.Config!.Labels!["org.opencontainers.image.base.name"]);
        Assert.AreEqual(base2.ManifestDescriptor.Digest.ToString(), rebased.Config.Config.Labels["org.opencontainers.image.base.digest"]);
    }

    [TestMethod]
    public async Task Rebase_refuses_a_base_from_another_repository()
    {
        var work = Temp("other-repo");
        var (registry, app, _, base2) = await PublishOnBase1Async(work);
        await using var _ = registry;
        using (var client = new RegistryClient())
        {
            await client.PushImageAsync(base2, registry.Host, "dotnet/aspnet", ["2"], cancellationToken: TestContext.CancellationToken);
        }

        var error = await RebaseExpectingRefusalAsync(registry, $"{registry.Host}/dotnet/aspnet:2", app.Digest);

        StringAssert.Contains(error.Message, $"was built on {registry.Host}/dotnet/runtime, not on {registry.Host}/dotnet/aspnet");
    }

    [TestMethod]
    public async Task Rebase_refuses_a_new_base_with_another_user()
    {
        var work = Temp("user");
        var (registry, app, _, _) = await PublishOnBase1Async(work, c => c with { Config = c.Config! with { User = "root" } });
        await using var _ = registry;

        var error = await RebaseExpectingRefusalAsync(registry, $"{registry.Host}/dotnet/runtime:2", app.Digest);

        StringAssert.Contains(error.Message, "runs as user 'root'");
        StringAssert.Contains(error.Message, "'1654'");
    }

    [TestMethod]
    public async Task Rebase_refuses_a_new_base_with_another_working_directory()
    {
        var work = Temp("workdir");
        var (registry, app, _, _) = await PublishOnBase1Async(work, c => c with { Config = c.Config! with { WorkingDir = "/srv/" } });
        await using var _ = registry;

        var error = await RebaseExpectingRefusalAsync(registry, $"{registry.Host}/dotnet/runtime:2", app.Digest);

        StringAssert.Contains(error.Message, "working directory '/srv/'");
    }

    [TestMethod]
    public async Task Rebase_refuses_a_new_base_for_another_architecture()
    {
        var work = Temp("arch");
        var (registry, app, _, _) = await PublishOnBase1Async(work, base2Platform: Platform.LinuxArm64);
        await using var _ = registry;

        var error = await RebaseExpectingRefusalAsync(registry, $"{registry.Host}/dotnet/runtime:2", app.Digest);

        StringAssert.Contains(error.Message, "cannot change the platform");
        StringAssert.Contains(error.Message, "linux/arm64");
    }

    [TestMethod]
    public async Task Rebase_refuses_an_image_that_does_not_record_its_base_or_does_not_sit_on_it()
    {
        var work = Temp("unrecorded");
        var (registry, app, base1, _) = await PublishOnBase1Async(work);
        await using var _ = registry;
        using var client = new RegistryClient();
        var published = await client.GetImageAsync(registry.Host, "team/app", "1.0", null, TestContext.CancellationToken);
        // Neither the annotations nor the labels that name the base.
        var foreign = Image.Create(published.Config with { Config = published.Config.Config! with { Labels = null } }, published.Layers, ManifestFormat.Oci);
        await client.PushImageAsync(foreign, registry.Host, "team/foreign", ["1.0"], cancellationToken: TestContext.CancellationToken);
        var otherFirstLayer = await PublishFixture.MakeBaseImageAsync(Platform.LinuxArm64, work);
        var tampered = Image.Create(published.Config, [otherFirstLayer.Layers[0], .. published.Layers.Skip(base1.Layers.Count)], ManifestFormat.Oci, published.Manifest.Annotations);
        await client.PushImageAsync(tampered, registry.Host, "team/tampered", ["1.0"], cancellationToken: TestContext.CancellationToken);
        using var rebaser = new ImageRebaser();

        var unrecorded = await Assert.ThrowsExactlyAsync<ImageRebaseException>(() => rebaser.RebaseAsync(
            new ImageRebaseRequest { Image = ImageReference.Parse($"{registry.Host}/team/foreign:1.0"), NewBase = ImageReference.Parse($"{registry.Host}/dotnet/runtime:2") },
            TestContext.CancellationToken));
        var notOnIt = await Assert.ThrowsExactlyAsync<ImageRebaseException>(() => rebaser.RebaseAsync(
            new ImageRebaseRequest { Image = ImageReference.Parse($"{registry.Host}/team/tampered:1.0"), NewBase = ImageReference.Parse($"{registry.Host}/dotnet/runtime:2") },
            TestContext.CancellationToken));

        StringAssert.Contains(unrecorded.Message, "does not record its base image");
        StringAssert.Contains(notOnIt.Message, "are not that base's layers");
        Assert.AreEqual(app.Digest, (await client.GetImageAsync(registry.Host, "team/app", "1.0", null, TestContext.CancellationToken)).ManifestDescriptor.Digest);
    }

    private async Task<ImageRebaseException> RebaseExpectingRefusalAsync(TestRegistry registry, string newBase, Digest published)
    {
        using var rebaser = new ImageRebaser();
        var error = await Assert.ThrowsExactlyAsync<ImageRebaseException>(() => rebaser.RebaseAsync(
            new ImageRebaseRequest { Image = ImageReference.Parse($"{registry.Host}/team/app:1.0"), NewBase = ImageReference.Parse(newBase), Tags = ["1.0", "latest"] },
            TestContext.CancellationToken));
        using var client = new RegistryClient();
        Assert.AreEqual(published, (await client.GetImageAsync(registry.Host, "team/app", "1.0", null, TestContext.CancellationToken)).ManifestDescriptor.Digest, "a refused rebase moves no tag");
        Assert.AreEqual(published, (await client.GetImageAsync(registry.Host, "team/app", "latest", null, TestContext.CancellationToken)).ManifestDescriptor.Digest);
        return error;
    }

    private sealed class TransferRecorder : IProgress<TransferProgress>
    {
        private readonly List<Digest> _pushed = [];

        public IReadOnlyList<Digest> Pushed
        {
            get
            {
                lock (_pushed)
                {
                    return _pushed.ToArray();
                }
            }
        }

        public void Clear()
        {
            lock (_pushed)
            {
                _pushed.Clear();
            }
        }

        public void Report(TransferProgress value)
        {
            if (value.IsComplete && value.Operation == TransferOperation.Pushed)
            {
                lock (_pushed)
                {
                    _pushed.Add(value.Digest);
                }
            }
        }
    }
}
