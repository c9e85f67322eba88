using System.Diagnostics;
using Containers.TestSupport;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// Graphs on each backend: members start in dependency order with independent ones at the same time, find each other
/// by alias with wired environment, a member that crashes fails the start at once with its own output, and nothing of
/// a graph is left after it (or after a failed start).
/// </summary>
public abstract partial class ContainerGraphTests
{
    // Listens on 7000 after $DELAY seconds; answers "<name> <secret>" where SECRET is from its environment.
    private const string SlowServer = """
        use IO::Socket::INET; $| = 1;
        select(undef, undef, undef, $ENV{DELAY});
        my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 7000, Listen => 10, ReuseAddr => 1) or die "listen: $!";
        print "listening\n";
        while (my $c = $s->accept) { print $c "$ENV{NAME} $ENV{SECRET}\n"; close $c; }
        """;

    // Prints what each dependency (host:port arguments) answers, then keeps running.
    private const string App = """
        use IO::Socket::INET; $| = 1;
        for my $t (@ARGV) { my $c = IO::Socket::INET->new(PeerAddr => $t, Timeout => 2) or die "cannot reach $t: $@\n"; my $l = <$c>; print "got $l"; }
        print "app up with $ENV{DB_URL}\n";
        sleep 600;
        """;

    public TestContext TestContext { get; set; } = null!;

    protected abstract ContainerBackendKind Backend { get; }

    private string _cache = null!;

    [TestInitialize]
    public void Initialize()
    {
        TestTools.Require(Backend == ContainerBackendKind.Cli ? "podman" : Backend == ContainerBackendKind.OciRuntime ? "runc" : "unshare", Backend == ContainerBackendKind.Cli ? "podman" : Backend == ContainerBackendKind.OciRuntime ? "runc" : "util-linux");
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("graph networks need root here (rootless ones are tested in Rootless/)");
        }

        _cache = Directory.CreateTempSubdirectory("host-graph-").FullName;
    }

    [TestCleanup]
    public void NothingIsLeft()
    {
        try
        {
            Assert.IsEmpty(Directory.Exists(Path.Combine(_cache, "containers")) ? Directory.GetDirectories(Path.Combine(_cache, "containers")) : [], "no container of the graph is left");
            Assert.IsEmpty(Directory.Exists(Path.Combine(_cache, "networks")) ? Directory.GetDirectories(Path.Combine(_cache, "networks")) : [], "no network is left");
            Assert.IsEmpty(Directory.Exists(Path.Combine(_cache, "volumes")) ? Directory.GetDirectories(Path.Combine(_cache, "volumes")) : [], "no volume is left");
        }
        finally
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    private ContainerGraphOptions GraphOptions => new() { Backend = Backend, CacheDirectory = _cache, Log = TestContext.WriteLine };

    private static ContainerStartOptions Perl(string script, IReadOnlyList<string>? arguments = null, TimeSpan? startupTimeout = null) => new()
    {
        Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
        Command = ["perl", "-e", script, .. arguments ?? []],
        StopGracePeriod = TimeSpan.FromSeconds(1),
        StartupTimeout = startupTimeout ?? ContainerStartOptions.DefaultStartupTimeout,
    };

    private static ContainerStartOptions Server(string name, double delaySeconds, string secret)
    {
        var options = Perl(SlowServer);
        options.Environment["NAME"] = name;
        options.Environment["DELAY"] = delaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        options.Environment["SECRET"] = secret;
        options.WaitStrategies.Add(Wait.ForTcpPort(7000));
        return options;
    }

    [TestMethod]
    public async Task Independent_members_start_together_dependents_after_them_and_find_them_by_alias()
    {
        var graph = new ContainerGraph("shop");
        graph.Add("db", Server("db", 2, "pg-secret"));
        graph.Add("cache", Server("cache", 2, "redis-secret"));
        var appOptions = Perl(App, ["db:7000", "cache:7000"]);
        appOptions.WaitStrategies.Add(Wait.ForLogLine("^app up"));
        graph.Add("app", appOptions)
            .DependsOn("db")
            .DependsOn("cache")
            .WithEnvironment("DB_URL", g => $"postgres://app:{g["db"].Options.Environment["SECRET"]}@db:7000");

        var clock = Stopwatch.StartNew();
        await using var running = await graph.StartAsync(GraphOptions, TestContext.CancellationToken);
        clock.Stop();

        var output = running["app"].Logs.StandardOutput.ToList();
        CollectionAssert.AreEqual(new[] { "got db pg-secret", "got cache redis-secret", "app up with postgres://app:pg-secret@db:7000" }, output);
        var times = running.MemberStartTimes;
        TestContext.WriteLine($"graph {clock.ElapsedMilliseconds} ms; db {times["db"].TotalMilliseconds:0}, cache {times["cache"].TotalMilliseconds:0}, app {times["app"].TotalMilliseconds:0}");
        Assert.IsLessThan((times["db"] + times["cache"]).TotalMilliseconds, clock.ElapsedMilliseconds - times["app"].TotalMilliseconds, "db and cache started at the same time, not one after the other");
        Assert.AreEqual(3, running.Networks[ContainerGraph.DefaultNetwork].Members.Count);
        StringAssert.Contains(running.DescribeLogs(), "--- app (");
    }

    [TestMethod]
    public async Task A_member_that_crashes_fails_the_start_at_once_with_its_own_output_and_the_rest_is_removed()
    {
        var graph = new ContainerGraph("broken");
        // A wait that would time out only after 3 minutes: the error names the exit and its output, not a timeout.
        var db = Perl("print STDERR qq(FATAL: database files are incompatible with server\\n); exit 1;", startupTimeout: TimeSpan.FromMinutes(3));
        db.WaitStrategies.Add(Wait.ForTcpPort(7000));
        graph.Add("db", db);
        graph.Add("cache", Server("cache", 0, "x"));
        var app = Perl(App, ["db:7000"]);
        app.WaitStrategies.Add(Wait.ForLogLine("^app up"));
        graph.Add("app", app).DependsOn("db");

        var error = await Assert.ThrowsAsync<ContainerGraphStartException>(() => graph.StartAsync(GraphOptions, TestContext.CancellationToken));

        Assert.AreEqual("db", error.Member);
        StringAssert.StartsWith(error.Message, "Graph broken: member db could not start. The container exited with code 1");
        StringAssert.Contains(error.Message, "FATAL: database files are incompatible with server");
        Assert.IsTrue(error.MemberLogs.ContainsKey("db"));
    }

    [TestMethod]
    public async Task Circular_and_unknown_dependencies_are_refused_before_anything_starts()
    {
        var circle = new ContainerGraph("circle");
        circle.Add("a", Server("a", 0, "")).DependsOn("b");
        circle.Add("b", Server("b", 0, "")).DependsOn("a");
        var error = await Assert.ThrowsAsync<Containers.Oci.OciException>(() => circle.StartAsync(GraphOptions, TestContext.CancellationToken));
        StringAssert.Contains(error.Message, "depend on each other in a circle: a -> b -> a");

        var unknown = new ContainerGraph("unknown");
        unknown.Add("app", Server("app", 0, "")).DependsOn("db");
        var missing = await Assert.ThrowsAsync<Containers.Oci.OciException>(() => unknown.StartAsync(GraphOptions, TestContext.CancellationToken));
        StringAssert.Contains(missing.Message, "depends on 'db', which is not a member");
    }

    [TestMethod]
    public async Task Members_on_separate_graph_networks_and_a_graph_volume_shared_by_two_members()
    {
        var graph = new ContainerGraph("split");
        graph.Add("db", Server("db", 0, "s")).OnNetwork("back");
        var writer = Perl("$| = 1; open my $f, '>', '/shared/note' or die; print $f qq(from writer\\n); close $f; print qq(written\\n); sleep 600;");
        writer.WaitStrategies.Add(Wait.ForLogLine("^written$"));
        graph.Add("writer", writer).OnNetwork("front", "web").MountVolume("shared", "/shared");
        var readerOptions = new ContainerStartOptions
        {
            Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
            Command = ["/bin/sh", "-c", "cat /shared/note; getent hosts db >/dev/null && echo db-visible || echo db-hidden; sleep 600"],
            StopGracePeriod = TimeSpan.FromSeconds(1),
        };
        readerOptions.WaitStrategies.Add(Wait.ForLogLine("^db-"));
        graph.Add("reader", readerOptions).OnNetwork("front").MountVolume("shared", "/shared", readOnly: true).DependsOn("writer");

        await using var running = await graph.StartAsync(GraphOptions, TestContext.CancellationToken);

        CollectionAssert.AreEqual(new[] { "from writer", "db-hidden" }, running["reader"].Logs.StandardOutput.ToList(), "the volume is shared; db is on another network");
        Assert.AreEqual(2, running.Networks.Count);
    }
}

/// <summary>A graph whose test process is killed: everything it made is there until the next start reaps it, then nothing is.</summary>
public abstract partial class ContainerGraphTests
{
    [TestMethod]
    public async Task A_graph_whose_test_process_was_killed_is_reaped_by_the_next_start_and_leaves_nothing()
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Containers.Host.Tests.dll"), "reuse-probe", "hold-plain", "killed", _cache, Backend.ToString(), "60" })
        {
            start.ArgumentList.Add(argument);
        }

        using var probe = System.Diagnostics.Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        while (await probe.StandardOutput.ReadLineAsync(TestContext.CancellationToken) is { } line && line != "holding")
        {
            output.AppendLine(line);
            if (line.StartsWith("failed: ", StringComparison.Ordinal))
            {
                Assert.Fail(output.ToString());
            }
        }

        // Killed as a test host is when a run is aborted: no dispose, no cleanup; what it started keeps running.
        probe.Kill();
        await probe.WaitForExitAsync(TestContext.CancellationToken);
        TestContext.WriteLine(output.ToString());
        var ids = HostLeftovers.IdsInLog(output.ToString());
        Assert.HasCount(3, ids, "two containers and a network: " + string.Join(", ", ids));
        var before = await HostLeftovers.FindAsync(_cache, ids, TestContext.CancellationToken);
        Assert.IsNotEmpty(before, "the killed process left its graph");
        Assert.IsNotEmpty(Directory.GetDirectories(Path.Combine(_cache, "volumes")), "and its volume");

        var reaped = await ContainerHost.ReapAsync(_cache, TestContext.WriteLine, TestContext.CancellationToken);

        Assert.IsGreaterThanOrEqualTo(4, reaped, "two containers, a network and a volume");
        var after = await HostLeftovers.FindAsync(_cache, ids, TestContext.CancellationToken);
        Assert.IsEmpty(after, string.Join(Environment.NewLine, after));
    }
}

[TestClass]
[DoNotParallelize]
public sealed class OciRuntimeContainerGraphTests : ContainerGraphTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.OciRuntime;
}

[TestClass]
[DoNotParallelize]
public sealed class NamespacesContainerGraphTests : ContainerGraphTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Namespaces;
}

[TestClass]
[DoNotParallelize]
public sealed class CliContainerGraphTests : ContainerGraphTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Cli;
}
