using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Containers.TestSupport;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// The reused graph of <see cref="ReusedGraphTests"/>, and this assembly's entry point, which runs it as another test
/// process would (<c>dotnet Containers.Host.Tests.dll reuse-probe …</c>): the tests start, attach to and kill such
/// processes. Output: one <c>name: value</c> line per fact, then the host's log lines.
/// </summary>
public static class ReuseProbe
{
    // Listens on 7000; answers "<NAME> <SECRET>" to every connection.
    private const string Server = """
        use IO::Socket::INET; $| = 1;
        my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => 7000, Listen => 10, ReuseAddr => 1) or die "listen: $!";
        print "listening\n";
        while (my $c = $s->accept) { print $c "$ENV{NAME} $ENV{SECRET}\n"; close $c; }
        """;

    // Asks db by its alias, prints what it said, then keeps running.
    private const string App = """
        use IO::Socket::INET; $| = 1;
        my $c = IO::Socket::INET->new(PeerAddr => "db:7000", Timeout => 5) or die "cannot reach db: $@\n";
        my $l = <$c>; print "got $l";
        print "app up with $ENV{DB_URL}\n";
        sleep 3600;
        """;

    /// <summary>The graph: <c>db</c> (a line server, published) and <c>app</c> (asks db by alias, with wired environment) on a volume; <paramref name="secret"/> changes the key.</summary>
    public static ContainerGraph Graph(string name, string secret = "s3cret")
    {
        var graph = new ContainerGraph(name);
        var db = Perl(Server);
        db.Environment["NAME"] = "db";
        db.Environment["SECRET"] = secret;
        db.PublishedPorts.Add(7000);
        graph.Add("db", db).WithWait(Wait.ForTcpPort(7000)).MountVolume("data", "/data");
        graph.Add("app", Perl(App))
            .DependsOn("db")
            .WithEnvironment("DB_URL", g => $"line://db:7000/{g["db"].Options.Environment["SECRET"]}")
            .WithWait(Wait.ForLogLine("^app up"));
        return graph;
    }

    /// <summary>Graph options for the probe and the tests alike.</summary>
    public static ContainerGraphOptions Options(string cache, ContainerBackendKind backend, TimeSpan idleTimeout, Action<string> log) => new()
    {
        Backend = backend,
        CacheDirectory = cache,
        Log = log,
        Reuse = new ContainerReuseOptions { IdleTimeout = idleTimeout },
    };

    /// <summary>What the published db port answers.</summary>
    public static async Task<string> AskAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        using var reader = new StreamReader(client.GetStream());
        return (await reader.ReadLineAsync(cancellationToken))?.Trim() ?? "";
    }

    /// <summary>
    /// <c>reuse-probe &lt;mode&gt; &lt;graph&gt; &lt;cache&gt; &lt;backend&gt; &lt;idle seconds&gt;</c>; modes: <c>start</c> (start or attach,
    /// print, exit without disposing), <c>use</c> (start or attach, ask db, exec in it, dispose), <c>hold</c> (start or
    /// attach, print, then wait to be killed), <c>hold-plain</c> (start it not reused, print, then wait to be killed).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["reuse-probe", var mode, var name, var cache, var backend, var idle, ..])
        {
            await Console.Error.WriteLineAsync("usage: reuse-probe start|use|hold|twice <graph> <cache> <backend> <idle seconds> [--warm-framework]");
            return 2;
        }

        if (args[^1] == "--warm-framework")
        {
            await WarmFrameworkAsync();
        }

        var options = Options(cache, Enum.Parse<ContainerBackendKind>(backend), TimeSpan.FromSeconds(double.Parse(idle, CultureInfo.InvariantCulture)), line => Console.WriteLine("log: " + line));
        if (mode == "hold-plain")
        {
            // Not reused: the graph belongs to this process, as any test's does, until the test kills it.
            options = new ContainerGraphOptions { Backend = options.Backend, CacheDirectory = options.CacheDirectory, Log = options.Log };
        }

        try
        {
            var graph = Graph(name);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var running = await graph.StartAsync(options);
            clock.Stop();
            Console.WriteLine($"ready-cpu-ms: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}");
            Console.WriteLine($"found: {running.FoundRunning}");
            Console.WriteLine($"ready-ms: {clock.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)}");
            Console.WriteLine($"key: {running.ReuseKey}");
            Console.WriteLine($"networks: {string.Join(' ', running.Networks.Values.Select(n => n.Id))}");
            Console.WriteLine($"ids: {running["db"].Id} {running["app"].Id}");
            Console.WriteLine($"port: {running["db"].GetPublishedPort(7000)}");
            if (mode == "use")
            {
                Console.WriteLine($"answer: {await AskAsync(running["db"].GetPublishedPort(7000), CancellationToken.None)}");
                var exec = await running["db"].ExecAsync(["/bin/sh", "-c", "echo exec $NAME $(cat /proc/sys/kernel/hostname)"]);
                Console.WriteLine($"exec: {exec.ExitCode} {exec.StandardOutput.Trim()}");
                Console.WriteLine($"app-log: {running["app"].Logs.StandardOutput.FirstOrDefault()}");
                Console.WriteLine($"file: {System.Text.Encoding.UTF8.GetString(await running["app"].ReadFileAsync("/etc/hosts")).ReplaceLineEndings(" | ")}");
                await running.DisposeAsync();
                Console.WriteLine("released");
            }
            else if (mode == "twice")
            {
                // The same start again in this process, with everything compiled: what the attach itself costs.
                await running.DisposeAsync();
                var cpuAgain = Process.GetCurrentProcess().TotalProcessorTime;
                var again = Stopwatch.StartNew();
                var second = await Graph(name).StartAsync(options);
                again.Stop();
                Console.WriteLine($"again-ready-cpu-ms: {(Process.GetCurrentProcess().TotalProcessorTime - cpuAgain).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}");
                Console.WriteLine($"again-ready-ms: {again.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)}");
                Console.WriteLine($"again-found: {second.FoundRunning}");
                await second.DisposeAsync();
            }
            else if (mode is "hold" or "hold-plain")
            {
                Console.WriteLine("holding");
                await Task.Delay(Timeout.Infinite);
            }

            // start: exits with the graph not disposed, as a test run that ends without cleanup would.
            return 0;
        }
        catch (Exception ex)
        {
            Console.WriteLine("failed: " + ex);
            return 1;
        }
    }

    // What every dotnet test host has done before a test runs (it reads the test assembly and talks to the runner over a
    // socket, in JSON, on the thread pool): the framework's first uses, which a bare probe process would otherwise pay inside the measured start.
    // Containers.Host's own code stays cold.
    private static async Task WarmFrameworkAsync()
    {
        using (var listener = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            using var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, ((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
            using var accepted = await listener.AcceptTcpClientAsync();
        }

        using (var document = System.Text.Json.JsonDocument.Parse("""{"messageType":"TestExecution.Start","payload":{"tests":[1,2]}}"""))
        {
            _ = document.RootElement.GetProperty("payload").GetProperty("tests").GetArrayLength();
        }

        await Task.Run(() => Task.Delay(1));
        _ = await File.ReadAllBytesAsync(typeof(ReuseProbe).Assembly.Location);
    }

    private static ContainerStartOptions Perl(string script) => new()
    {
        Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
        Command = ["perl", "-e", script],
        StopGracePeriod = TimeSpan.FromSeconds(1),
    };
}
