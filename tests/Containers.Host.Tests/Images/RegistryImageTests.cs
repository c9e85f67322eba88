using Containers.TestSupport;

namespace Containers.Host.Tests.Images;

/// <summary>
/// Images started by registry reference, against the real distribution registry: pulled once into the host's image
/// cache; a start by digest later needs no registry at all, a start by tag asks only for the digest (and falls back to
/// the cached copy when the registry is gone); a mirror serves a registry's references.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class RegistryImageTests
{
    public TestContext TestContext { get; set; } = null!;

    private async Task<(TestRegistry Registry, string Cache)> PrepareAsync(string repository)
    {
        TestTools.Require("runc", "runc");
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var registry = await TestRegistry.StartAsync(cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(skopeo, ["copy", "--dest-tls-verify=false", $"oci:{TestBaseImages.LayoutDirectory}:runtime-deps-10.0", $"docker://{registry.Host}/{repository}:1.0"], cancellationToken: TestContext.CancellationToken);
        return (registry, Directory.CreateTempSubdirectory("host-registry-").FullName);
    }

    private ContainerStartOptions Job(ContainerImageSource image, string cache, List<string> log)
    {
        var options = new ContainerStartOptions
        {
            Image = image,
            Backend = ContainerBackendKind.OciRuntime,
            Command = ["/bin/sh", "-c", "cat /etc/debian_version"],
            CacheDirectory = cache,
            Log = line => { log.Add(line); TestContext.WriteLine(line); },
        };
        options.WaitStrategies.Add(Wait.ForExit(0));
        return options;
    }

    [TestMethod]
    public async Task A_registry_image_is_pulled_once_and_a_digest_start_needs_no_registry()
    {
        var (registry, cache) = await PrepareAsync("team/base");
        try
        {
            var reference = $"{registry.Host}/team/base:1.0";
            var first = new List<string>();
            await using (var container = await ContainerHost.StartAsync(Job(ContainerImageSource.FromRegistry(reference), cache, first), TestContext.CancellationToken))
            {
                Assert.AreEqual(0, await container.Exited);
                Assert.AreEqual("12", container.Logs.StandardOutput.Single()[..2], "Debian 12's debian_version");
            }

            Assert.IsTrue(first.Any(l => l.StartsWith($"Pulled {reference} from {registry.Host}", StringComparison.Ordinal)), string.Join("\n", first));

            var second = new List<string>();
            await using (await ContainerHost.StartAsync(Job(ContainerImageSource.FromRegistry(reference), cache, second), TestContext.CancellationToken))
            {
            }

            Assert.IsFalse(second.Any(l => l.StartsWith("Pulled", StringComparison.Ordinal)), "nothing pulled again: " + string.Join("\n", second));
            Assert.IsTrue(second.Any(l => l.Contains("is in the host's image cache", StringComparison.Ordinal)), string.Join("\n", second));
            var digest = (await TestTools.RunCheckedAsync("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + reference], cancellationToken: TestContext.CancellationToken)).StandardOutput.Trim();

            // No registry any more: a start by digest reads the cache only, a start by tag falls back to the copy it has.
            await registry.DisposeAsync();
            var byDigest = new List<string>();
            await using (var container = await ContainerHost.StartAsync(Job(ContainerImageSource.FromRegistry($"{registry.Host}/team/base@{digest}"), cache, byDigest), TestContext.CancellationToken))
            {
                Assert.AreEqual(0, await container.Exited);
            }

            CollectionAssert.Contains(byDigest, $"Image {registry.Host}/team/base@{digest} is in the host's image cache; no registry request.");
            var offline = new List<string>();
            await using (var container = await ContainerHost.StartAsync(Job(ContainerImageSource.Parse("docker://" + reference), cache, offline), TestContext.CancellationToken))
            {
                Assert.AreEqual(0, await container.Exited);
            }

            Assert.IsTrue(offline.Any(l => l.StartsWith($"The registry {registry.Host} did not answer for {reference}", StringComparison.Ordinal)), string.Join("\n", offline));
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    public async Task A_mirror_serves_the_references_of_another_registry_and_a_missing_image_is_named()
    {
        var (registry, cache) = await PrepareAsync("library/base");
        var previous = Environment.GetEnvironmentVariable("CONTAINERS_HOST_REGISTRY_MIRRORS");
        Environment.SetEnvironmentVariable("CONTAINERS_HOST_REGISTRY_MIRRORS", "docker.io=" + registry.Host);
        try
        {
            var log = new List<string>();
            await using (var container = await ContainerHost.StartAsync(Job(ContainerImageSource.Parse("base:1.0"), cache, log), TestContext.CancellationToken))
            {
                Assert.AreEqual(0, await container.Exited);
            }

            CollectionAssert.Contains(log, $"Pulling docker.io/library/base:1.0 from the mirror {registry.Host} (CONTAINERS_HOST_REGISTRY_MIRRORS).");

            var error = await Assert.ThrowsAsync<Containers.Oci.OciException>(() => ContainerHost.StartAsync(Job(ContainerImageSource.Parse("base:2.0"), cache, log), TestContext.CancellationToken));
            StringAssert.Contains(error.Message, "The image docker.io/library/base:2.0 does not exist in " + registry.Host);
            Assert.IsEmpty(Directory.GetDirectories(Path.Combine(cache, "containers")), "a failed pull leaves no container directory");
        }
        finally
        {
            Environment.SetEnvironmentVariable("CONTAINERS_HOST_REGISTRY_MIRRORS", previous);
            await registry.DisposeAsync();
            Directory.Delete(cache, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("oci:/images/layout:tag", "OCI layout /images/layout (tag)")]
    [DataRow("oci:/images/layout", "OCI layout /images/layout")]
    [DataRow("oci-archive:/tmp/app.tar", "archive /tmp/app.tar")]
    [DataRow("docker-archive:/tmp/app.tar", "archive /tmp/app.tar")]
    [DataRow("postgres:15", "docker.io/library/postgres:15")]
    [DataRow("docker://127.0.0.1:5000/app:1", "127.0.0.1:5000/app:1")]
    public void Image_strings_name_layouts_archives_and_registry_references(string text, string described) =>
        Assert.AreEqual(described, ContainerImageSource.Parse(text).ToString());

    [TestMethod]
    public void A_string_that_names_no_image_says_which_forms_there_are()
    {
        var error = Assert.Throws<Containers.Oci.OciException>(() => ContainerImageSource.Parse("Not An Image"));
        StringAssert.Contains(error.Message, "oci:DIRECTORY[:TAG]");
    }

    [TestMethod]
    public void Containerd_is_a_destination_and_no_image_to_run()
    {
        var error = Assert.Throws<Containers.Oci.OciException>(() => ContainerImageSource.Parse("containerd:app:1.0"));
        StringAssert.Contains(error.Message, "not read from it");
    }
}
