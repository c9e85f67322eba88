using Containers.Build.Publishing;
using Containers.Build.Reproducibility;
using Containers.Oci;
using Containers.Oci.Digests;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Build.Tests.Publishing;

/// <summary>
/// What a new user meets first (issue 14): the destination chosen with nothing configured, an image dated 1970,
/// a .tar.gz that is not gzip, an unreachable inferred base. Checked with the machine's real docker client (no
/// daemon here), podman and skopeo.
/// </summary>
[TestClass]
public sealed class FirstContactTests
{
    public TestContext TestContext { get; set; } = null!;

    private readonly List<string> _cleanup = [];

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

    private async Task<string> MakeBaseLayoutAsync()
    {
        var work = Temp("base");
        var layout = OciLayout.Create(Path.Combine(work, "layout"));
        await layout.WriteImageAsync(await PublishFixture.MakeBaseImageAsync(Platform.LinuxAmd64, work), "runtime");
        return layout.DirectoryPath;
    }

    private (ContainerPublisher Publisher, List<string> Log) Publisher(RegistryClientOptions? options = null)
    {
        var log = new List<string>();
        var publisher = new ContainerPublisher(options, new SynchronousProgress(message =>
        {
            lock (log)
            {
                log.Add(message.Message);
            }

            TestContext.WriteLine(message.Message);
        }));
        return (publisher, log);
    }

    [TestMethod]
    public void Nothing_configured_passes_over_a_docker_client_without_daemon_to_podman_and_says_so()
    {
        var docker = TestTools.FindOnPath("docker");
        TestTools.Require("podman", "podman");
        if (docker is null || LocalEngines.Probe("docker").Answers)
        {
            Assert.Inconclusive("This test needs a docker client whose daemon does not run (as on this project's CI machines).");
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var choice = DefaultDestination.Choose("app", ["latest"], Path.Combine(Temp("layout"), "container"));
        TestContext.WriteLine(choice.Explanation);

        var daemon = Assert.IsInstanceOfType<ContainerDestination.LocalDaemon>(choice.Destination);
        Assert.AreEqual("podman", Path.GetFileName(daemon.Command));
        Assert.Contains("docker (no daemon", choice.Explanation);
        Assert.Contains("loading into podman", choice.Explanation);
        Assert.Contains("LocalRegistry=docker", choice.Explanation, "says how to choose explicitly");
        Assert.Contains("ContainerArchiveOutputPath", choice.Explanation);

        // Cached per process: the second choice runs no CLI.
        stopwatch.Restart();
        DefaultDestination.Choose("app", ["latest"], Path.Combine(Temp("layout"), "container"));
        Assert.IsLessThan(50, stopwatch.ElapsedMilliseconds, "the probes are cached");
    }

    [TestMethod]
    public void Nothing_configured_with_failing_engines_writes_an_oci_layout_and_names_its_reference()
    {
        var bin = Temp("shims");
        foreach (var (name, error) in new[] { ("docker", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"), ("podman", "Cannot connect to Podman.") })
        {
            var shim = Path.Combine(bin, name);
            File.WriteAllText(shim, $"#!/bin/sh\necho '{error}' >&2\nexit 1\n");
            File.SetUnixFileMode(shim, (UnixFileMode)0b111_101_101);
        }

        var layout = Path.Combine(Temp("layout"), "container");
        var choice = DefaultDestination.Choose("app", ["1.0"], layout, searchPath: bin);
        TestContext.WriteLine(choice.Explanation);

        var destination = Assert.IsInstanceOfType<ContainerDestination.OciLayoutDirectory>(choice.Destination);
        Assert.AreEqual(layout, destination.DirectoryPath);
        Assert.Contains("docker (no daemon: Cannot connect to the Docker daemon", choice.Explanation);
        Assert.Contains("podman (no engine: Cannot connect to Podman.)", choice.Explanation);
        Assert.Contains($"oci:{layout}:1.0", choice.Explanation);
        Assert.HasCount(2, choice.Probes);
    }

    [TestMethod]
    public void A_hanging_engine_cli_is_given_up_after_the_probe_timeout()
    {
        var bin = Temp("hang");
        var shim = Path.Combine(bin, "docker");
        File.WriteAllText(shim, "#!/bin/sh\nsleep 120\n");
        File.SetUnixFileMode(shim, (UnixFileMode)0b111_101_101);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var probe = LocalEngines.Probe("docker", bin);

        Assert.IsFalse(probe.Answers);
        Assert.Contains("no answer within", probe.Detail);
        Assert.IsLessThan(LocalEngines.ProbeTimeout.TotalSeconds + 5, stopwatch.Elapsed.TotalSeconds);
    }

    [TestMethod]
    public async Task Explicit_LocalRegistry_docker_without_daemon_fails_naming_the_daemon_and_the_alternatives()
    {
        if (TestTools.FindOnPath("docker") is null || LocalEngines.Probe("docker").Answers)
        {
            Assert.Inconclusive("This test needs a docker client whose daemon does not run.");
        }

        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("docker");
        var publish = PublishFixture.MakePublishDirectory(work);
        var (publisher, _) = Publisher();

        var error = await Assert.ThrowsExactlyAsync<OciException>(() => publisher.PublishAsync(
            PublishFixture.Request(publish, work, new ContainerDestination.LocalDaemon("docker", "app") { Tags = ["latest"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout),
            TestContext.CancellationToken));

        TestContext.WriteLine(error.Message);
        Assert.Contains("LocalRegistry is 'docker' but the docker engine is not running", error.Message);
        Assert.Contains("LocalRegistry=podman", error.Message);
        Assert.Contains("ContainerOciLayoutPath", error.Message);
    }

    [TestMethod]
    public async Task Without_git_history_or_SOURCE_DATE_EPOCH_the_log_says_how_to_date_the_image_once()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("epoch");
        var publish = PublishFixture.MakePublishDirectory(work);
        var (publisher, log) = Publisher();

        await publisher.PublishAsync(
            PublishFixture.Request(publish, work, new ContainerDestination.OciLayoutDirectory(Path.Combine(work, "out"), "app") { Tags = ["latest"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout) with { SourceDateEpoch = null },
            TestContext.CancellationToken);

        Assert.AreEqual(1, log.Count(l => l.Contains("SOURCE_DATE_EPOCH", StringComparison.Ordinal) && l.Contains("1970-01-01", StringComparison.Ordinal)), string.Join("\n", log));
        Assert.Contains(BuildTimestamp.HowToSet, string.Join("\n", log));
    }

    [TestMethod]
    public async Task A_tar_gz_oci_archive_is_gzip_and_skopeo_and_podman_read_it()
    {
        var baseLayout = await MakeBaseLayoutAsync();
        var work = Temp("gz");
        var publish = PublishFixture.MakePublishDirectory(work);
        var archive = Path.Combine(work, "app.tar.gz");
        var (publisher, _) = Publisher();

        var result = await publisher.PublishAsync(
            PublishFixture.Request(publish, work, new ContainerDestination.Archive(archive, "app", ArchiveFormat.Oci) { Tags = ["1.0"] }, ImageReference.Parse("localhost/base:runtime"), baseLayout),
            TestContext.CancellationToken);

        var head = new byte[2];
        using (var file = File.OpenRead(archive))
        {
            file.ReadExactly(head);
        }

        CollectionAssert.AreEqual(new byte[] { 0x1f, 0x8b }, head, "gzip magic");
        var skopeo = TestTools.Require("skopeo", "skopeo");
        var inspect = await TestTools.RunCheckedAsync(skopeo, ["inspect", "--raw", $"oci-archive:{archive}:1.0"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(result.Digest, Digest.Compute(System.Text.Encoding.UTF8.GetBytes(inspect.StandardOutput)));

        // Our own reader (the runtime host's archive source) reads it too.
        var read = await (await OciArchive.OpenAsync(archive, TestContext.CancellationToken)).ReadImageAsync("1.0", null, TestContext.CancellationToken);
        Assert.AreEqual(result.Digest, read.ManifestDescriptor.Digest);

        var podman = TestTools.Require("podman", "podman");
        var load = await TestTools.RunAsync(podman, ["load", "-i", archive], cancellationToken: TestContext.CancellationToken);
        try
        {
            Assert.AreEqual(0, load.ExitCode, load.StandardOutput + load.StandardError);
        }
        finally
        {
            var id = load.StandardOutput.Split(':').LastOrDefault()?.Trim();
            if (!string.IsNullOrEmpty(id))
            {
                await TestTools.RunAsync(podman, ["rmi", "--force", id], cancellationToken: CancellationToken.None);
            }
        }
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public async Task An_unreachable_base_registry_names_the_settings_for_mirrors_and_offline_machines(bool inferred)
    {
        var work = Temp("offline");
        var publish = PublishFixture.MakePublishDirectory(work);
        var (publisher, _) = Publisher(new RegistryClientOptions { MaxRetries = 0, InsecureRegistries = ["127.0.0.1:9"] });

        var error = await Assert.ThrowsExactlyAsync<RegistryUnreachableException>(() => publisher.PublishAsync(
            PublishFixture.Request(publish, work, new ContainerDestination.OciLayoutDirectory(Path.Combine(work, "out"), "app") { Tags = ["latest"] }, ImageReference.Parse("127.0.0.1:9/dotnet/runtime:10.0")) with { BaseImageIsInferred = inferred },
            TestContext.CancellationToken));

        TestContext.WriteLine(error.Message);
        Assert.StartsWith("Registry 127.0.0.1:9 is unreachable", error.Message);
        Assert.Contains("ContainerBaseImageLayoutPath=<dir>", error.Message);
        Assert.Contains("skopeo copy docker://127.0.0.1:9/dotnet/runtime:10.0 oci:<dir>:10.0", error.Message);
        if (inferred)
        {
            Assert.Contains("ContainerBaseRegistry=<mirror host[:port][/path]>", error.Message);
            Assert.Contains("ContainerBaseImage=", error.Message);
        }
        else
        {
            Assert.Contains("ContainerBaseImage=127.0.0.1:9/dotnet/runtime:10.0", error.Message);
        }
    }

    private sealed class SynchronousProgress(Action<PublishProgress> report) : IProgress<PublishProgress>
    {
        public void Report(PublishProgress value) => report(value);
    }
}
