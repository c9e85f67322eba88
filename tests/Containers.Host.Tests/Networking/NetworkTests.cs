using Containers.Host.Networking;
using Containers.TestSupport;

namespace Containers.Host.Tests.Networking;

/// <summary>
/// Container networks on each backend: members reach each other by alias (and by address), a container on another
/// network cannot, a container on two networks reaches both, ports are still published on 127.0.0.1, and nothing of
/// the networks is left afterwards (no namespace, no CLI network).
/// </summary>
public abstract class NetworkTests
{
    // Answers every connection with "hello from <name>" (as an HTTP/1.0 response, for HttpClient) and closes it; it
    // first reads what the client sent (an HTTP request, or nothing from the raw client) until the client closes or 2 s
    // pass: closed with an unread request, the socket answers with a reset, which can reach HttpClient before it has read
    // the response ("Connection reset by peer", seen in CI through the published port).
    private const string Server = """
        use IO::Socket::INET; $| = 1;
        my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 7000, Listen => 10, ReuseAddr => 1) or die "listen: $!";
        print "listening\n";
        while (my $c = $s->accept) {
          print $c "HTTP/1.0 200 OK\r\n\r\nhello from $ENV{NAME}\n"; shutdown($c, 1);
          my $in = ''; vec($in, fileno($c), 1) = 1;
          while (select(my $ready = $in, undef, undef, 2) > 0 && sysread($c, my $data, 4096)) { }
          close $c;
        }
        """;

    // Connects to each argument (host:port), prints "<target> -> <answer>" or "<target> -> unreachable".
    private const string Client = """
        use IO::Socket::INET; $| = 1;
        for my $t (@ARGV) {
          my $c = IO::Socket::INET->new(PeerAddr => $t, Timeout => 2);
          if (!$c) { print "$t -> unreachable\n"; next; }
          my @lines = <$c>; print "$t -> $lines[-1]";
        }
        """;

    private static readonly Lazy<string> SharedCache = new(() => Directory.CreateTempSubdirectory("host-networks-").FullName);

    public TestContext TestContext { get; set; } = null!;

    protected abstract ContainerBackendKind Backend { get; }

    protected string Cache => SharedCache.Value;

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
        TestTools.Require(Backend == ContainerBackendKind.Cli ? "podman" : Backend == ContainerBackendKind.OciRuntime ? "runc" : "unshare", Backend == ContainerBackendKind.Cli ? "podman" : Backend == ContainerBackendKind.OciRuntime ? "runc" : "util-linux");
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("bridge networks need root (rootless networks are tested in Rootless/)");
        }
    }

    [TestCleanup]
    public void NothingOfOursIsLeft()
    {
        var namespaces = IpRoute.ListNamespaces(ContainerHost.IdPrefix).Where(n => !OtherProcess(n)).ToList();
        Assert.IsEmpty(namespaces, "no network namespace of this test is left: " + string.Join(", ", namespaces));
        Assert.IsEmpty(Directory.Exists(Path.Combine(Cache, "networks")) ? Directory.GetDirectories(Path.Combine(Cache, "networks")) : [], "no network directory is left");
        if (Backend == ContainerBackendKind.Cli)
        {
            // Only this test process's: other test runs on the machine (the samples' smoke tests) use podman at the same time.
            var networks = TestTools.RunCheckedAsync("podman", ["network", "ls", "--filter", "label=" + CliNetworkDriver.OwnerLabel + "=" + OwnerStamp.Current, "--format", "{{.Name}}"]).GetAwaiter().GetResult().StandardOutput;
            Assert.DoesNotContain(ContainerNetwork.IdPrefix, networks, "podman keeps no network of this test process");
        }
    }

    // Namespaces are host-wide: other test processes (the sample smoke tests) may have theirs now.
    private bool OtherProcess(string name) =>
        !_created.Contains(name);

    private readonly HashSet<string> _created = [];

    private ContainerNetworkOptions NetworkOptions => new() { Backend = Backend, CacheDirectory = Cache, Log = TestContext.WriteLine };

    private async Task<ContainerNetwork> NetworkAsync(string name)
    {
        var network = await ContainerNetwork.CreateAsync(name, NetworkOptions, TestContext.CancellationToken);
        _created.Add(network.Id);
        return network;
    }

    private ContainerStartOptions Member(string name, IReadOnlyList<string> command, params (ContainerNetwork Network, string[] Aliases)[] networks)
    {
        var options = new ContainerStartOptions
        {
            Backend = Backend,
            Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
            Command = command,
            CacheDirectory = Cache,
            Log = TestContext.WriteLine,
            StopGracePeriod = TimeSpan.FromSeconds(1),
        };
        options.Environment["NAME"] = name;
        foreach (var (network, aliases) in networks)
        {
            options.Networks.Add(new ContainerNetworkAttachment(network, aliases));
        }

        return options;
    }

    private async Task<RunningContainer> StartServerAsync(string name, params (ContainerNetwork Network, string[] Aliases)[] networks)
    {
        var options = Member(name, ["perl", "-e", Server], networks);
        options.PublishedPorts.Add(7000);
        options.WaitStrategies.Add(Wait.ForTcpPort(7000));
        var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);
        _created.Add(container.Id);
        return container;
    }

    private async Task<string[]> RunClientAsync(string[] targets, params (ContainerNetwork Network, string[] Aliases)[] networks)
    {
        var options = Member("client", ["perl", "-e", Client, .. targets], networks);
        options.WaitStrategies.Add(Wait.ForExit(0));
        await using var client = await ContainerHost.StartAsync(options, TestContext.CancellationToken);
        _created.Add(client.Id);
        return [.. client.Logs.StandardOutput];
    }

    [TestMethod]
    public async Task Members_reach_each_other_by_alias_and_a_container_on_another_network_cannot()
    {
        await using var backend = await NetworkAsync("backend");
        await using var other = await NetworkAsync("other");
        await using var db = await StartServerAsync("db", (backend, ["db", "postgres"]));
        await using var stranger = await StartServerAsync("stranger", (other, ["stranger"]));

        var strangerAddress = other.Members.Single().Address;

        var fromBackend = await RunClientAsync(["db:7000", "postgres:7000", "stranger:7000", strangerAddress + ":7000"], (backend, ["app"]));

        CollectionAssert.Contains(fromBackend, "db:7000 -> hello from db");
        CollectionAssert.Contains(fromBackend, "postgres:7000 -> hello from db");
        CollectionAssert.Contains(fromBackend, "stranger:7000 -> unreachable", "another network's alias does not resolve here");
        CollectionAssert.Contains(fromBackend, strangerAddress + ":7000 -> unreachable", "nor is its address reachable");
        Assert.AreEqual(db.Id, backend.Members.Single().ContainerId, "the client left the network when it was disposed");
    }

    [TestMethod]
    public async Task A_container_on_two_networks_reaches_the_members_of_both_and_ports_stay_published()
    {
        await using var front = await NetworkAsync("front");
        await using var back = await NetworkAsync("back");
        await using var api = await StartServerAsync("api", (front, ["api"]));
        await using var db = await StartServerAsync("db", (back, ["db"]));

        var answers = await RunClientAsync(["api:7000", "db:7000"], (front, ["gateway"]), (back, ["gateway"]));

        CollectionAssert.AreEqual(new[] { "api:7000 -> hello from api", "db:7000 -> hello from db" }, answers);
        Assert.AreNotEqual(front.Subnet, back.Subnet);
        using var http = api.CreateHttpClient(7000);
        StringAssert.Contains(await http.GetStringAsync("/", TestContext.CancellationToken), "hello from api", "published on 127.0.0.1 as before");
    }

    [TestMethod]
    public async Task A_member_that_joins_later_is_resolved_by_those_started_before_and_gone_once_it_left()
    {
        await using var network = await NetworkAsync("late");
        var watcherOptions = Member("watcher", ["/bin/sh", "-c", "echo up; while :; do sleep 0.2; done"], (network, ["watcher"]));
        watcherOptions.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        await using var watcher = await ContainerHost.StartAsync(watcherOptions, TestContext.CancellationToken);
        _created.Add(watcher.Id);
        var late = await StartServerAsync("late", (network, ["latecomer"]));
        var address = network.Members.Single(m => m.Aliases.Contains("latecomer")).Address;

        var resolved = await watcher.ExecAsync(["getent", "hosts", "latecomer"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, resolved.ExitCode, resolved.StandardError);
        StringAssert.StartsWith(resolved.StandardOutput, address + " ");

        await late.DisposeAsync();
        var gone = await watcher.ExecAsync(["getent", "hosts", "latecomer"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(2, gone.ExitCode, "getent: not found, once the member left: " + gone.StandardOutput);
    }

    [TestMethod]
    public async Task Two_members_with_one_alias_are_refused_and_a_bad_network_name_is_named()
    {
        await using var network = await NetworkAsync("aliases");
        await using var first = await StartServerAsync("first", (network, ["same"]));

        var error = await Assert.ThrowsAsync<Containers.Oci.OciException>(() => StartServerAsync("second", (network, ["same"])));
        StringAssert.Contains(error.Message, "The alias 'same' is taken");
        var bad = await Assert.ThrowsAsync<Containers.Oci.OciException>(() => ContainerNetwork.CreateAsync("Not Valid", NetworkOptions, TestContext.CancellationToken));
        StringAssert.Contains(bad.Message, "'Not Valid' is not a network name");
    }
}

[TestClass]
[DoNotParallelize]
public sealed class OciRuntimeNetworkTests : NetworkTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.OciRuntime;
}

[TestClass]
[DoNotParallelize]
public sealed class NamespacesNetworkTests : NetworkTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Namespaces;
}

[TestClass]
[DoNotParallelize]
public sealed class CliNetworkTests : NetworkTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Cli;
}
