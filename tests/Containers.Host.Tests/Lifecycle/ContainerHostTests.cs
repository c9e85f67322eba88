using System.Diagnostics;
using Containers.TestSupport;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// ContainerHost with the real runc, on the test base images: a small HTTP server (perl from the Debian
/// minbase, so no app needs publishing) published on loopback, every wait strategy, failures that must
/// be fast and readable, stop signals, and cleanup — also of containers whose test process died.
/// </summary>
public abstract partial class ContainerHostTests
{
    // Answers every request with its path, the user id and $GREETING; prints "listening" when ready.
    private const string PerlServer = """
        use IO::Socket::INET; $| = 1;
        my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 8080, Listen => 10, ReuseAddr => 1) or die "listen: $!";
        print "listening\n";
        while (my $c = $s->accept) {
          my $req = <$c>; my ($path) = $req =~ m{^\w+ (\S+)};
          while (my $l = <$c>) { last if $l =~ /^\r?\n$/ }
          my $body = "ok $path uid=$< greeting=$ENV{GREETING}\n";
          print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body"; close $c;
        }
        """;

    // One cache for the assembly's lifecycle tests: the image is unpacked once and reused, as in a test run.
    private static readonly Lazy<string> SharedCache = new(() => Directory.CreateTempSubdirectory("host-lifecycle-").FullName);

    private readonly string _cache = SharedCache.Value;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>The backend every test of the class runs with.</summary>
    protected abstract ContainerBackendKind Backend { get; }

    /// <summary>The expected <see cref="RunningContainer.BackendName"/>.</summary>
    protected abstract string BackendName { get; }

    protected string Cache => _cache;

    public static void RemoveSharedCache()
    {
        if (SharedCache.IsValueCreated)
        {
            Directory.Delete(SharedCache.Value, recursive: true);
        }
    }

    [TestInitialize]
    public void Initialize()
    {
        if (Backend == ContainerBackendKind.OciRuntime)
        {
            TestTools.Require("runc", "runc");
        }
        else if (Backend == ContainerBackendKind.Cli)
        {
            TestTools.Require("podman", "podman");
        }
        else
        {
            TestTools.Require("unshare", "util-linux");
        }
    }

    [TestCleanup]
    public void Cleanup()
    {
        var leftovers = Directory.Exists(Path.Combine(_cache, "containers")) ? Directory.GetDirectories(Path.Combine(_cache, "containers")) : [];
        var runtimeState = Directory.Exists(Path.Combine(_cache, "runtime", "runc")) ? Directory.GetDirectories(Path.Combine(_cache, "runtime", "runc")) : [];
        Assert.IsEmpty(leftovers, "every test disposes its containers and their directories go");
        Assert.IsEmpty(runtimeState, "runc keeps no state of a disposed container");
        Assert.IsFalse(File.ReadAllText("/proc/mounts").Contains(_cache, StringComparison.Ordinal), "no overlay mount is left");
        if (Backend == ContainerBackendKind.Cli)
        {
            // Only this test process's: other test runs on the machine (the samples' smoke tests) use podman at the same time.
            var podmanContainers = TestTools.RunCheckedAsync("podman", ["ps", "--all", "--quiet", "--filter", "label=" + Containers.Host.Networking.CliNetworkDriver.OwnerLabel + "=" + OwnerStamp.Current]).GetAwaiter().GetResult();
            Assert.AreEqual("", podmanContainers.StandardOutput.Trim(), "podman keeps no container of this test process");
        }
    }

    protected ContainerStartOptions Options(string image = "runtime-deps-10.0", IReadOnlyList<string>? command = null) => new()
    {
        Backend = Backend,
        Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, image),
        Command = command ?? ["perl", "-e", PerlServer],
        CacheDirectory = _cache,
        Log = line => TestContext.WriteLine(line),
        // perl runs as pid 1, which ignores SIGTERM without a handler (as under docker without --init): SIGKILL comes after this.
        StopGracePeriod = TimeSpan.FromSeconds(2),
    };

    [TestMethod]
    public async Task Http_server_is_published_on_a_free_loopback_port_and_answers()
    {
        var options = Options();
        options.PublishedPorts.Add(8080);
        options.Environment["GREETING"] = "hello";
        options.WaitStrategies.Add(Wait.ForHttp("/healthz"));

        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);
        using var http = container.CreateHttpClient();
        var body = await http.GetStringAsync("/todos", TestContext.CancellationToken);

        StringAssert.StartsWith(body, "ok /todos uid=");
        StringAssert.Contains(body, "greeting=hello");
        Assert.AreEqual(container.GetPublishedPort(8080), container.GetBaseAddress().Port);
        Assert.AreEqual(BackendName, container.BackendName);
        StringAssert.StartsWith(container.Id, ContainerHost.IdPrefix);

        // The server listens inside its own network namespace: the host's 8080 is not it (nothing answers there,
        // or another test's app running rootless on the host network does, but never this server).
        using var direct = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        string? onHostPort;
        try
        {
            onHostPort = await direct.GetStringAsync("http://127.0.0.1:8080/todos", TestContext.CancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            onHostPort = null;
        }

        Assert.IsFalse(onHostPort?.StartsWith("ok /todos uid=", StringComparison.Ordinal) ?? false, "the container's server is not on the host's port 8080");
    }

    [TestMethod]
    public async Task Containers_started_at_the_same_time_on_one_cache_all_keep_running()
    {
        // Every start reaps leftovers and prunes the unpack cache; neither may take another start's container,
        // whose directory, owner stamp or runtime state may be half-way made while it looks.
        const int count = 4;
        var starts = Enumerable.Range(0, count).Select(i =>
        {
            var options = Options();
            options.PublishedPorts.Add(8080);
            options.Environment["GREETING"] = "container" + i;
            options.WaitStrategies.Add(Wait.ForHttp("/healthz"));
            return ContainerHost.StartAsync(options, TestContext.CancellationToken);
        }).ToList();
        try
        {
            await Task.WhenAll(starts);
            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.CancellationToken);
            for (var i = 0; i < count; i++)
            {
                using var http = starts[i].Result.CreateHttpClient();
                StringAssert.Contains(await http.GetStringAsync("/todos", TestContext.CancellationToken), "greeting=container" + i);
            }
        }
        finally
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }
        }
    }

    [TestMethod]
    public async Task Log_line_and_tcp_waits_pass_when_the_server_is_up()
    {
        var options = Options();
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(Wait.ForLogLine("^listening$"));
        options.WaitStrategies.Add(Wait.ForTcpPort(8080));

        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "listening");
    }

    [TestMethod]
    public async Task An_app_that_crashes_at_startup_fails_fast_with_its_own_error_text()
    {
        var options = Options(command: ["/bin/sh", "-c", "echo 'Unhandled exception. System.InvalidOperationException: the connection string is missing' >&2; exit 134"]);
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(Wait.ForHttp("/healthz"));
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(options, TestContext.CancellationToken));

        // Bounds here separate "at the exit" from "after the timeout", with room for a loaded CI machine.
        Assert.IsLessThan(45_000, clock.ElapsedMilliseconds, "not after the 60 s startup timeout");
        StringAssert.Contains(error.Message, "exited with code 134");
        StringAssert.Contains(error.Message, "System.InvalidOperationException: the connection string is missing");
    }

    [TestMethod]
    public async Task A_wait_that_times_out_says_what_it_waited_for_and_shows_the_last_lines()
    {
        var options = Options(command: ["/bin/sh", "-c", "echo starting up; sleep 60"]);
        var timed = new ContainerStartOptions
        {
            Backend = Backend,
            Image = options.Image,
            Command = options.Command,
            CacheDirectory = _cache,
            StartupTimeout = TimeSpan.FromSeconds(1),
            StopGracePeriod = TimeSpan.FromSeconds(1),
        };
        timed.WaitStrategies.Add(Wait.ForTcpPort(9999));

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(timed, TestContext.CancellationToken));

        StringAssert.Contains(error.Message, "not ready after 1 s: still waiting for TCP port 9999");
        StringAssert.Contains(error.Message, "starting up");
    }

    [TestMethod]
    public async Task Run_to_completion_job_is_awaited_with_its_exit_code()
    {
        var options = Options(command: ["/bin/sh", "-c", "echo done; exit 3"]);
        options.WaitStrategies.Add(Wait.ForExit(3));

        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        Assert.AreEqual(3, await container.Exited);
        CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "done");
    }

    [TestMethod]
    public async Task A_job_that_exits_before_its_ports_are_published_is_judged_by_its_wait()
    {
        // As a console app on a .NET base image: port 8080 exposed, the process done in milliseconds.
        var job = Options(command: ["/bin/sh", "-c", "echo done"]);
        job.PublishedPorts.Add(8080);
        job.WaitStrategies.Add(Wait.ForExit(0));

        await using (var container = await ContainerHost.StartAsync(job, TestContext.CancellationToken))
        {
            Assert.AreEqual(0, await container.Exited);
        }

        // The same early exit under a wait for the server is a crash, reported with the output.
        var crash = Options(command: ["/bin/sh", "-c", "echo no server here; exit 1"]);
        crash.PublishedPorts.Add(8080);
        crash.WaitStrategies.Add(Wait.ForHttp("/healthz"));
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(crash, TestContext.CancellationToken));
        StringAssert.Contains(error.Message, "exited with code 1");
        StringAssert.Contains(error.Message, "no server here");
    }

    [TestMethod]
    public async Task Stop_sends_SIGTERM_and_escalates_to_SIGKILL_after_the_grace_period()
    {
        var graceful = Options(command: ["/bin/sh", "-c", "trap 'echo got-term; exit 0' TERM; echo up; while :; do sleep 0.1; done"]);
        graceful.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        await using (var container = await ContainerHost.StartAsync(graceful, TestContext.CancellationToken))
        {
            await container.StopAsync(TestContext.CancellationToken);
            Assert.AreEqual(0, await container.Exited);
            CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "got-term");
        }

        var stubborn = new ContainerStartOptions
        {
            Backend = Backend,
            Image = graceful.Image,
            CacheDirectory = _cache,
            StopGracePeriod = TimeSpan.FromMilliseconds(500),
            Command = ["/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.1; done"],
        };
        stubborn.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        await using (var container = await ContainerHost.StartAsync(stubborn, TestContext.CancellationToken))
        {
            var clock = Stopwatch.StartNew();
            await container.StopAsync(TestContext.CancellationToken);
            Assert.AreEqual(137, await container.Exited, "killed by SIGKILL");
            Assert.IsLessThan(30_000, clock.ElapsedMilliseconds, "killed after the 500 ms grace period, not left running");
        }
    }

    [TestMethod]
    public async Task Containers_of_a_test_process_that_died_are_reaped_on_the_next_start()
    {
        var options = Options(command: ["/bin/sh", "-c", "echo up; sleep 600"]);
        options.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        var orphan = await ContainerHost.StartAsync(options, TestContext.CancellationToken);
        var directory = Path.Combine(_cache, "containers", orphan.Id);

        // As if the test process had been killed: its owner stamp names a process that no longer exists.
        await File.WriteAllTextAsync(Path.Combine(directory, "owner"), "999999999 1", TestContext.CancellationToken);
        var reaped = await ContainerHost.ReapAsync(_cache, line => TestContext.WriteLine(line), TestContext.CancellationToken);

        Assert.AreEqual(1, reaped);
        Assert.IsFalse(Directory.Exists(directory));
        Assert.AreNotEqual(0, await orphan.Exited.WaitAsync(TimeSpan.FromSeconds(10), TestContext.CancellationToken), "its process was killed");
        if (Backend == ContainerBackendKind.OciRuntime)
        {
            var list = await TestTools.RunCheckedAsync("runc", ["--root", Path.Combine(_cache, "runtime", "runc"), "list", "-q"], cancellationToken: TestContext.CancellationToken);
            Assert.DoesNotContain(orphan.Id, list.StandardOutput);
        }

        await orphan.DisposeAsync();
    }

    [TestMethod]
    public async Task Writes_inside_a_container_never_reach_the_cached_image_or_the_next_container()
    {
        var writer = Options(command: ["/bin/sh", "-c", "echo changed > /etc/debian_version && echo new > /etc/added && echo written"]);
        writer.WaitStrategies.Add(Wait.ForExit(0));
        await using (var container = await ContainerHost.StartAsync(writer, TestContext.CancellationToken))
        {
            CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "written");
        }

        var reader = Options(command: ["/bin/sh", "-c", "cat /etc/debian_version; test -e /etc/added && echo leaked || echo clean"]);
        reader.WaitStrategies.Add(Wait.ForExit(0));
        await using var next = await ContainerHost.StartAsync(reader, TestContext.CancellationToken);

        var output = next.Logs.StandardOutput.ToList();
        CollectionAssert.DoesNotContain(output, "changed");
        CollectionAssert.Contains(output, "clean");
    }

    [TestMethod]
    public async Task Health_check_wait_on_an_image_without_one_says_how_to_declare_it()
    {
        var options = Options();
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(Wait.ForHealthCheck());

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(options, TestContext.CancellationToken));

        StringAssert.Contains(error.Message, "declares no health check");
    }
}

/// <summary>
/// The lifecycle tests through the podman CLI (the backend for machines where the host cannot run containers
/// itself): podman loads the image, runs it and publishes its ports; the host only drives it.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class CliContainerHostTests : ContainerHostTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Cli;

    protected override string BackendName => "podman";

    [TestMethod]
    public async Task A_cancelled_exec_that_podman_starts_only_after_its_client_was_killed_is_killed_too()
    {
        // A podman whose exec starts the command a second after its client went away, as a slow exec start under load
        // (detached twice, so killing the client's process tree does not stop it).
        using var shimDirectory = new Containers.TestSupport.TemporaryDirectory("host-podman-shim-");
        var shim = Path.Combine(shimDirectory, "podman");
        var podman = Runtimes.HostTools.FindOnPath("podman")!;
        await File.WriteAllTextAsync(shim, $"#!/bin/sh\nif [ \"$1\" = exec ]; then (setsid sh -c 'sleep 1; exec \"$0\" \"$@\"' {podman} \"$@\" >/dev/null 2>&1 &); sleep 30; exit 0; fi\nexec {podman} \"$@\"\n", TestContext.CancellationToken);
        File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var container = await ContainerHost.StartAsync(Options(command: ["/bin/sh", "-c", "echo up; while :; do sleep 0.2; done"]), TestContext.CancellationToken);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAsync<OperationCanceledException>(() => new Runtimes.CliRuntime("podman", shim).ExecAsync(container, ["sleep", "38"], new Dictionary<string, string>(), null, cancel.Token));

        // The command appears about a second later and must be gone soon after; a few seconds more, it stays gone.
        var seen = false;
        var processes = "";
        for (var attempt = 0; attempt < 40; attempt++)
        {
            processes = (await container.ExecAsync(["/bin/sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"], cancellationToken: TestContext.CancellationToken)).StandardOutput;
            seen |= processes.Contains("sleep 38", StringComparison.Ordinal);
            await Task.Delay(150, TestContext.CancellationToken);
        }

        TestContext.WriteLine(seen ? "the late command appeared and was killed" : "the late command was killed before a listing saw it");
        Assert.DoesNotContain("sleep 38", processes, "the command podman started after the cancellation is gone from the container");
    }

    [TestMethod]
    public async Task The_image_is_loaded_into_podman_once_and_reused()
    {
        var first = Options(command: ["/bin/sh", "-c", "echo one"]);
        first.WaitStrategies.Add(Wait.ForExit(0));
        var logged = new List<string>();
        var second = new ContainerStartOptions
        {
            Backend = Backend,
            Image = first.Image,
            CacheDirectory = Cache,
            Command = ["/bin/sh", "-c", "echo two"],
            Log = line => { logged.Add(line); TestContext.WriteLine(line); },
        };
        second.WaitStrategies.Add(Wait.ForExit(0));
        await using (await ContainerHost.StartAsync(first, TestContext.CancellationToken))
        {
        }

        await using var again = await ContainerHost.StartAsync(second, TestContext.CancellationToken);

        CollectionAssert.Contains(again.Logs.StandardOutput.ToList(), "two");
        Assert.IsFalse(logged.Any(line => line.StartsWith("Loaded the image", StringComparison.Ordinal)), "already in podman's store: " + string.Join(" | ", logged));
    }
}

/// <summary>The lifecycle tests under runc.</summary>
[TestClass]
[DoNotParallelize]
public sealed class OciRuntimeContainerHostTests : ContainerHostTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.OciRuntime;

    protected override string BackendName => "runc";

    [TestMethod]
    public async Task The_reapers_listing_of_the_state_root_is_what_runc_list_says()
    {
        var options = Options(command: ["/bin/sh", "-c", "echo up; sleep 600"]);
        options.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);
        var root = Path.Combine(Cache, "runtime", "runc");

        var listed = await new Runtimes.OciRuntime("runc", Runtimes.HostTools.FindOnPath("runc")!, root).ListAsync(TestContext.CancellationToken);
        var byRunc = (await TestTools.RunCheckedAsync("runc", ["--root", root, "list", "-q"], cancellationToken: TestContext.CancellationToken)).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        CollectionAssert.Contains(listed.ToList(), container.Id);
        CollectionAssert.AreEquivalent(byRunc, listed.ToArray());
    }
}

/// <summary>The same tests with the built-in namespaces backend (util-linux unshare), as on a machine without runc.</summary>
[TestClass]
[DoNotParallelize]
public sealed class NamespacesContainerHostTests : ContainerHostTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Namespaces;

    protected override string BackendName => "namespaces (unshare)";

    [TestMethod]
    public async Task A_container_whose_process_the_backend_lost_track_of_is_still_ended_by_dispose()
    {
        var options = Options(command: ["/bin/sh", "-c", "echo up; while :; do sleep 0.2; done"]);
        options.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);
        var app = container.Pid;

        // As if the backend had recorded the wrong process: stop and delete cannot find the container's.
        await File.WriteAllTextAsync(Path.Combine(Cache, "containers", container.Id, "pid"), "999999999", TestContext.CancellationToken);
        await container.DisposeAsync();

        Assert.IsFalse(Directory.Exists($"/proc/{app}") && File.ReadAllText($"/proc/{app}/cmdline").Contains("sleep 0.2", StringComparison.Ordinal), "the container's process ended with its runtime process");
        // Dispose waits for the killed runtime process to be reaped before it lets go of it (a Process disposed before its
        // exit was seen never completes Exited: CI saw this wait time out after 10 s and after 30 s on a loaded machine).
        Assert.AreEqual(137, await container.Exited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.CancellationToken), "its runtime process was killed");
    }

    [TestMethod]
    public async Task Without_an_OCI_runtime_automatic_falls_back_to_namespaces_and_says_so()
    {
        var previous = System.Environment.GetEnvironmentVariable("CONTAINERS_HOST_OCI_RUNTIMES");
        // As if runc were not installed: look for a runtime that does not exist.
        System.Environment.SetEnvironmentVariable("CONTAINERS_HOST_OCI_RUNTIMES", "no-such-runtime");
        try
        {
            var log = new List<string>();
            var options = new ContainerStartOptions
            {
                Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
                Command = ["/bin/sh", "-c", "echo hello from $(hostname)"],
                CacheDirectory = Cache,
                Log = log.Add,
            };
            options.WaitStrategies.Add(Wait.ForExit(0));

            await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

            Assert.AreEqual(BackendName, container.BackendName);
            Assert.IsTrue(log.Any(line => line.Contains("using the built-in namespaces backend", StringComparison.Ordinal)), string.Join("\n", log));
            StringAssert.StartsWith(container.Logs.StandardOutput.Single(), "hello from ");
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("CONTAINERS_HOST_OCI_RUNTIMES", previous);
        }
    }
}

[TestClass]
public static class LifecycleCacheCleanup
{
    [AssemblyCleanup]
    public static void RemoveSharedCache()
    {
        ContainerHostTests.RemoveSharedCache();
        Networking.NetworkTests.RemoveSharedCache();
    }
}
