using System.Diagnostics;
using Containers.Host.Compose;
using Containers.TestSupport;

namespace Containers.Host.Tests.Compose;

/// <summary>
/// Compose files started for real on each backend: health checks as waits (an HTTP one from outside, a command one
/// inside), dependencies on health, aliases, a second network that isolates, a shared named volume, bind-mounted
/// scripts, and nothing left afterwards; with runc also PostgreSQL and Redis from the dependency images.
/// </summary>
public abstract class ComposeGraphStartTests
{
    // An HTTP server on 8080 that starts listening only after a second; answers "api <API_NAME> <path>".
    private const string Api = """
        use IO::Socket::INET; $| = 1;
        select(undef, undef, undef, 1);
        my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 8080, Listen => 10, ReuseAddr => 1) or die "listen: $!";
        print "api listening\n";
        while (my $c = $s->accept) {
          my $req = <$c>; my ($path) = $req =~ m{^\w+ (\S+)};
          while (my $l = <$c>) { last if $l =~ /^\r?\n$/ }
          my $body = "api $ENV{API_NAME} $path\n";
          print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body"; close $c;
        }
        """;

    // Calls the api by its alias and by its name, writes what it got into the shared volume (atomically), keeps running.
    private const string Worker = """
        use IO::Socket::INET; $| = 1;
        my @got;
        for my $target ("backend:8080", "api:8080") {
          my $c = IO::Socket::INET->new(PeerAddr => $target, Timeout => 2) or die "cannot reach $target: $@\n";
          print $c "GET /from-worker HTTP/1.0\r\n\r\n"; my @lines = <$c>; push @got, $lines[-1];
        }
        select(undef, undef, undef, 0.5);
        open my $f, '>', '/data/result.tmp' or die "write: $!"; print $f @got; close $f;
        rename '/data/result.tmp', '/data/result' or die "rename: $!";
        print "worker wrote the result\n";
        sleep 600;
        """;

    private const string Compose = """
        name: ${PROJECT}
        services:
          api:
            image: oci:${BASE_IMAGES}:runtime-deps-10.0
            command: perl /app/api.pl
            environment:
              API_NAME: ${API_NAME}
            volumes:
              - ./scripts/api.pl:/app/api.pl:ro
            networks:
              back:
                aliases: [backend]
              front: {}
            ports:
              - "8080"
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost:8080/healthz"]
              interval: 200ms
            stop_grace_period: 1s
            restart: unless-stopped
          worker:
            image: oci:${BASE_IMAGES}:runtime-deps-10.0
            command: ["perl", "/app/worker.pl"]
            volumes:
              - ./scripts/worker.pl:/app/worker.pl:ro
              - shared:/data
            networks: [back]
            depends_on:
              api:
                condition: service_healthy
            healthcheck:
              test: test -s /data/result
              interval: 200ms
              timeout: 5s
              retries: 100
            stop_grace_period: 1s
          web:
            image: oci:${BASE_IMAGES}:runtime-deps-10.0
            command: >-
              /bin/sh -c 'cat /data/result;
              getent hosts api >/dev/null && echo api-visible || echo api-hidden;
              getent hosts worker >/dev/null && echo worker-visible || echo worker-hidden;
              touch /data/x 2>/dev/null && echo volume-writable || echo volume-read-only;
              echo web done; sleep 600'
            volumes:
              - shared:/data:ro
            networks: [front]
            depends_on:
              worker:
                condition: service_healthy
            healthcheck:
              test: ["CMD-SHELL", "true"]
              interval: 100ms
            stop_grace_period: 1s
        networks:
          back: {}
          front: {}
        volumes:
          shared: {}
        """;

    private string _directory = null!;
    private string _cache = null!;

    public TestContext TestContext { get; set; } = null!;

    protected abstract ContainerBackendKind Backend { get; }

    protected string ProjectDirectory => _directory;

    [TestInitialize]
    public void Initialize()
    {
        TestTools.Require(Backend == ContainerBackendKind.Cli ? "podman" : Backend == ContainerBackendKind.OciRuntime ? "runc" : "unshare", Backend == ContainerBackendKind.Cli ? "podman" : Backend == ContainerBackendKind.OciRuntime ? "runc" : "util-linux");
        if (System.Environment.UserName != "root")
        {
            Assert.Inconclusive("graph networks need root here (rootless ones are tested in Rootless/)");
        }

        _directory = System.IO.Directory.CreateTempSubdirectory("compose-start-").FullName;
        _cache = System.IO.Directory.CreateTempSubdirectory("compose-cache-").FullName;
    }

    [TestCleanup]
    public void NothingIsLeft()
    {
        try
        {
            Assert.IsEmpty(System.IO.Directory.Exists(Path.Combine(_cache, "containers")) ? System.IO.Directory.GetDirectories(Path.Combine(_cache, "containers")) : [], "no container of the graph is left");
            Assert.IsEmpty(System.IO.Directory.Exists(Path.Combine(_cache, "networks")) ? System.IO.Directory.GetDirectories(Path.Combine(_cache, "networks")) : [], "no network is left");
            Assert.IsEmpty(System.IO.Directory.Exists(Path.Combine(_cache, "volumes")) ? System.IO.Directory.GetDirectories(Path.Combine(_cache, "volumes")) : [], "no volume is left");
            Assert.IsEmpty(System.IO.Directory.Exists(Path.Combine(_cache, "runtime", "runc")) ? System.IO.Directory.GetDirectories(Path.Combine(_cache, "runtime", "runc")) : [], "runc keeps no state");
            Assert.IsFalse(File.ReadAllText("/proc/mounts").Contains(_cache, StringComparison.Ordinal), "no mount is left");
            if (Backend == ContainerBackendKind.Cli)
            {
                // Only this process's: other test runs on the machine share podman's store.
                var owner = "label=" + Containers.Host.Networking.CliNetworkDriver.OwnerLabel + "=" + OwnerStamp.Current;
                var containers = TestTools.RunCheckedAsync("podman", ["ps", "--all", "--quiet", "--filter", owner]).GetAwaiter().GetResult();
                Assert.AreEqual("", containers.StandardOutput.Trim(), "podman keeps no container of ours");
                var volumes = TestTools.RunCheckedAsync("podman", ["volume", "ls", "--quiet", "--filter", owner]).GetAwaiter().GetResult();
                Assert.AreEqual("", volumes.StandardOutput.Trim(), "podman keeps no volume of ours");
            }
        }
        finally
        {
            System.IO.Directory.Delete(_directory, recursive: true);
            System.IO.Directory.Delete(_cache, recursive: true);
        }
    }

    protected ContainerGraphOptions GraphOptions => new() { Backend = Backend, CacheDirectory = _cache, Log = TestContext.WriteLine };

    [TestMethod]
    public async Task Three_services_start_in_health_order_on_their_networks_with_a_shared_volume()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(_directory, "scripts"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "scripts", "api.pl"), Api, TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_directory, "scripts", "worker.pl"), Worker, TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_directory, ".env"), "API_NAME=from-dotenv\nPROJECT=composed\n", TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_directory, "compose.yaml"), Compose, TestContext.CancellationToken);
        var compose = ComposeFile.Load(Path.Combine(_directory, "compose.yaml"), new ComposeLoadOptions { Variables = new Dictionary<string, string> { ["BASE_IMAGES"] = TestBaseImages.LayoutDirectory } });
        foreach (var warning in compose.Warnings)
        {
            TestContext.WriteLine(warning.ToString());
        }

        CollectionAssert.AreEqual(new[] { "services.api.restart" }, compose.Warnings.Select(w => w.KeyPath).ToList());
        var graph = compose.ToGraph();
        Assert.AreEqual(ContainerWaitKind.Http, graph["api"].Options.WaitStrategies.Single().Kind, "curl -f of the service itself: checked from outside (the image has no curl)");
        Assert.AreEqual(ContainerWaitKind.Command, graph["worker"].Options.WaitStrategies.Single().Kind, "test -s runs inside");

        var clock = Stopwatch.StartNew();
        await using (var running = await graph.StartAsync(GraphOptions, TestContext.CancellationToken))
        {
            TestContext.WriteLine($"started in {clock.ElapsedMilliseconds} ms: {string.Join(", ", running.MemberStartTimes.Select(t => $"{t.Key} {t.Value.TotalMilliseconds:0} ms"))}");
            Assert.AreEqual("composed", running.Graph.Name);
            var web = running["web"];
            while (!web.Logs.StandardOutput.Contains("web done") && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50, TestContext.CancellationToken);
            }

            CollectionAssert.AreEqual(
                new[] { "api from-dotenv /from-worker", "api from-dotenv /from-worker", "api-visible", "worker-hidden", "volume-read-only", "web done" },
                web.Logs.StandardOutput.ToList(),
                "the worker reached the api by alias and name after its health check passed and wrote the shared volume; web (front only) sees api, not worker, and mounts the volume read-only. " + running.DescribeLogs());
            Assert.AreEqual("api from-dotenv /from-test\n", await running["api"].CreateHttpClient(8080).GetStringAsync("/from-test", TestContext.CancellationToken), "the published port");
            Assert.AreEqual(2, running.Networks.Count);
            Assert.AreEqual("api from-dotenv /from-worker\napi from-dotenv /from-worker\n", System.Text.Encoding.UTF8.GetString(await running["worker"].ReadFileAsync("/data/result", TestContext.CancellationToken)));
            clock.Restart();
        }

        TestContext.WriteLine($"stopped and removed in {clock.ElapsedMilliseconds} ms");
    }
}

[TestClass]
[DoNotParallelize]
public sealed class OciRuntimeComposeGraphStartTests : ComposeGraphStartTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.OciRuntime;

    [TestMethod]
    public async Task PostgreSQL_and_Redis_from_the_dependency_images_get_healthy_and_are_reached_by_name()
    {
        var dependencies = TestDependencyImages.LayoutDirectory;
        await File.WriteAllTextAsync(Path.Combine(ProjectDirectory, "compose.yaml"), $$"""
            name: shop
            services:
              db:
                image: oci:{{dependencies}}:postgres-15
                environment:
                  POSTGRES_PASSWORD: secret
                  POSTGRES_DB: shop
                volumes:
                  - pgdata:/var/lib/postgresql/data
                healthcheck:
                  test: ["CMD-SHELL", "pg_isready -U postgres -d shop"]
                  interval: 1s
                  retries: 60
                stop_grace_period: 20s
              cache:
                image: oci:{{dependencies}}:redis-7
                healthcheck:
                  test: ["CMD", "redis-cli", "ping"]
                  interval: 1s
              app:
                image: oci:{{TestBaseImages.LayoutDirectory}}:runtime-deps-10.0
                depends_on:
                  db: { condition: service_healthy }
                  cache: { condition: service_healthy }
                environment:
                  DB: db:5432
                  CACHE: cache:6379
                command:
                  - perl
                  - -e
                  - |
                    use IO::Socket::INET; $$| = 1;
                    my $$db = IO::Socket::INET->new(PeerAddr => $$ENV{DB}, Timeout => 5) or die "db: $$@\n";
                    print $$db pack("NN", 8, 80877103); read($$db, my $$answer, 1); print "postgres answers SSLRequest with $$answer\n";
                    my $$cache = IO::Socket::INET->new(PeerAddr => $$ENV{CACHE}, Timeout => 5) or die "cache: $$@\n";
                    print $$cache "PING\r\n"; my $$pong = <$$cache>; $$pong =~ s/\r?\n//; print "redis answers $$pong\n";
                    sleep 600;
                healthcheck:
                  test: ["CMD", "true"]
                  interval: 100ms
                stop_grace_period: 1s
            volumes:
              pgdata: {}
            """, TestContext.CancellationToken);
        var graph = ComposeFile.Load(Path.Combine(ProjectDirectory, "compose.yaml")).ToGraph(new ComposeGraphOptions { StartupTimeout = TimeSpan.FromMinutes(3) });
        Assert.AreEqual(ContainerWaitKind.TcpPort, graph["db"].Options.WaitStrategies.Single().Kind, "pg_isready: a TCP wait from outside");
        Assert.AreEqual(ContainerWaitKind.TcpPort, graph["cache"].Options.WaitStrategies.Single().Kind, "redis-cli ping: a TCP wait from outside");

        await using var running = await graph.StartAsync(GraphOptions, TestContext.CancellationToken);

        var app = running["app"];
        var clock = Stopwatch.StartNew();
        while (app.Logs.StandardOutput.Count < 2 && !app.Exited.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50, TestContext.CancellationToken);
        }

        CollectionAssert.AreEqual(new[] { "postgres answers SSLRequest with N", "redis answers +PONG" }, app.Logs.StandardOutput.ToList(), running.DescribeLogs());
        var query = await running["db"].ExecAsync(["psql", "-U", "postgres", "-d", "shop", "-tAc", "select current_database()"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("shop\n", query.StandardOutput, "POSTGRES_DB from the compose file: " + query.StandardError);
        var ping = await running["cache"].ExecAsync(["redis-cli", "ping"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("PONG\n", ping.StandardOutput);
    }
}

[TestClass]
[DoNotParallelize]
public sealed class NamespacesComposeGraphStartTests : ComposeGraphStartTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Namespaces;
}

[TestClass]
[DoNotParallelize]
public sealed class CliComposeGraphStartTests : ComposeGraphStartTests
{
    protected override ContainerBackendKind Backend => ContainerBackendKind.Cli;
}
