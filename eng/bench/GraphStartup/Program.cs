using System.Diagnostics;
using System.Globalization;
using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Readiness;

// Usage: GraphStartup <registry host:port> <TodoApi OCI layout> <tag> <runs>
//        GraphStartup --attach <registry host:port> <TodoApi OCI layout> <tag> <cache>   (a later test run's start of the reused graph)
// The graph: db (library/postgres:15), cache (library/redis:7) and app (samples/TodoApi), app after both are ready;
// StartAsync returns at the app's first GET /healthz 200 (with both neighbours answering).
// 1. cold: an empty host cache (pull, unpack, start), once.
// 2. warm: the same cache, <runs> times.
// 3. each member alone, warm: db and cache started by themselves; the app's own share from the graph's member times.
// 4. reused: the graph started with reuse and left running; another process (as a new test run: one that has done what
//    any test host does first, and a bare one) starts it again and
//    attaches: start call to ready, measured in that process, <runs> times.
var attach = args[0] == "--attach";
var registry = args[attach ? 1 : 0];
var layout = args[attach ? 2 : 1];
var tag = args[attach ? 3 : 2];
var invariant = CultureInfo.InvariantCulture;
var reuse = new ContainerReuseOptions { IdleTimeout = TimeSpan.FromMinutes(5) };

ContainerStartOptions Db()
{
    var options = new ContainerStartOptions { Image = ContainerImageSource.FromRegistry($"{registry}/library/postgres:15"), Command = ["postgres", "-c", "fsync=off"], StopGracePeriod = TimeSpan.FromSeconds(5) };
    options.Environment["POSTGRES_USER"] = "todo";
    options.Environment["POSTGRES_PASSWORD"] = "todo-secret";
    options.Environment["POSTGRES_DB"] = "todo";
    options.WaitStrategies.Add(Wait.ForTcpPort(5432));
    return options;
}

ContainerStartOptions Cache()
{
    var options = new ContainerStartOptions { Image = ContainerImageSource.FromRegistry($"{registry}/library/redis:7") };
    options.WaitStrategies.Add(Wait.ForTcpPort(6379));
    return options;
}

ContainerGraph Graph()
{
    var graph = new ContainerGraph("todo-bench");
    graph.Add("db", Db());
    graph.Add("cache", Cache());
    var app = new ContainerStartOptions { Image = ContainerImageSource.FromOciLayout(layout, tag) };
    app.Environment["ConnectionStrings__Db"] = "Host=db;Username=todo;Password=todo-secret;Database=todo";
    app.Environment["ConnectionStrings__Redis"] = "cache:6379";
    app.WaitStrategies.Add(Wait.ForHttp("/healthz"));
    graph.Add("app", app).DependsOn("db").DependsOn("cache");
    return graph;
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.OrderBy(v => v).ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

if (attach)
{
    if (args.Length > 5 && args[5] == "--as-test-host")
    {
        await WarmLikeATestHostAsync();
    }

    var clock = Stopwatch.StartNew();
    var attached = await Graph().StartAsync(new ContainerGraphOptions { CacheDirectory = args[4], Reuse = reuse });
    var elapsed = clock.Elapsed.TotalMilliseconds;
    using (var http = attached["app"].CreateHttpClient())
    {
        (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).EnsureSuccessStatusCode();
    }

    Console.WriteLine(string.Create(invariant, $"ATTACH found={attached.FoundRunning} ms={elapsed:0.0}"));
    await attached.DisposeAsync();
    return;
}

// What every dotnet test host has done before its first test runs (it talks JSON to the runner over a socket, on the
// thread pool, and reads the test assembly): the framework's first uses. Containers.Host's own code stays cold.
static async Task WarmLikeATestHostAsync()
{
    using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
    {
        listener.Start();
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, ((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
    }

    using (var document = System.Text.Json.JsonDocument.Parse("""{"messageType":"TestExecution.Start","payload":{"tests":[1,2]}}"""))
    {
        _ = document.RootElement.GetProperty("payload").GetProperty("tests").GetArrayLength();
    }

    await Task.Run(() => Task.Delay(1));
    _ = await File.ReadAllBytesAsync(typeof(Program).Assembly.Location);
}

var runs = int.Parse(args[3], invariant);
var cache = Directory.CreateTempSubdirectory("graph-startup-cache-").FullName;
try
{
    var graphOptions = new ContainerGraphOptions { CacheDirectory = cache };

    async Task<(double Total, IReadOnlyDictionary<string, TimeSpan> Members)> GraphRunAsync()
    {
        var clock = Stopwatch.StartNew();
        await using var running = await Graph().StartAsync(graphOptions);
        var total = clock.Elapsed.TotalMilliseconds;
        return (total, running.MemberStartTimes);
    }

    async Task<double> AloneAsync(Func<ContainerStartOptions> make)
    {
        var options = make();
        var started = new ContainerStartOptions { Image = options.Image, Command = options.Command, CacheDirectory = cache, StopGracePeriod = options.StopGracePeriod };
        foreach (var (name, value) in options.Environment)
        {
            started.Environment[name] = value;
        }

        foreach (var wait in options.WaitStrategies)
        {
            started.WaitStrategies.Add(wait);
        }

        var clock = Stopwatch.StartNew();
        await using var container = await ContainerHost.StartAsync(started);
        return clock.Elapsed.TotalMilliseconds;
    }

    var cold = await GraphRunAsync();
    Console.WriteLine($"cold (empty cache: pull, unpack, start): {cold.Total:0} ms (db {cold.Members["db"].TotalMilliseconds:0}, cache {cold.Members["cache"].TotalMilliseconds:0}, app {cold.Members["app"].TotalMilliseconds:0})");

    var warm = new List<(double Total, IReadOnlyDictionary<string, TimeSpan> Members)>();
    var db = new List<double>();
    var redis = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        warm.Add(await GraphRunAsync());
        db.Add(await AloneAsync(Db));
        redis.Add(await AloneAsync(Cache));
    }

    // Reused: started once with reuse (and released, as a test run that ends), then attached by new processes.
    await using (await Graph().StartAsync(new ContainerGraphOptions { CacheDirectory = cache, Reuse = reuse }))
    {
    }

    async Task<double> AttachInNewProcessAsync(bool asTestHost)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { typeof(Program).Assembly.Location, "--attach", registry, layout, tag, cache, asTestHost ? "--as-test-host" : "--bare" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("ATTACH found=True", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("The second process did not attach to the reused graph:\n" + output);
        return double.Parse(line[(line.IndexOf("ms=", StringComparison.Ordinal) + 3)..].Trim(), invariant);
    }

    var reused = new List<double>();
    var reusedBare = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        reused.Add(await AttachInNewProcessAsync(asTestHost: true));
        reusedBare.Add(await AttachInNewProcessAsync(asTestHost: false));
    }

    await ContainerGraph.StopReusedAsync("todo-bench", new ContainerGraphOptions { CacheDirectory = cache });

    var graphMedian = Median(warm.Select(w => w.Total));
    var dbAlone = Median(db);
    var cacheAlone = Median(redis);
    var app = Median(warm.Select(w => w.Members["app"].TotalMilliseconds));
    var slowestDependency = Math.Max(dbAlone, cacheAlone);
    var reusedMedian = Median(reused);
    Console.WriteLine($"warm graph, start call to the app's first 200 (median of {runs}): {graphMedian:0} ms");
    Console.WriteLine($"alone (median): db {dbAlone:0} ms, cache {cacheAlone:0} ms; app after its dependencies (in the graph) {app:0} ms");
    Console.WriteLine($"one after the other would be db + cache + app = {dbAlone + cacheAlone + app:0} ms");
    Console.WriteLine($"critical path: slowest dependency alone + app = {slowestDependency + app:0} ms; graph start minus that: {graphMedian - slowestDependency - app:0} ms (goal <= 300 ms)");
    // The same per run, with the members' own times in that run: what the graph adds (networks, order, hand-offs).
    var inGraph = Median(warm.Select(w => w.Total - Math.Max(w.Members["db"].TotalMilliseconds, w.Members["cache"].TotalMilliseconds) - w.Members["app"].TotalMilliseconds));
    Console.WriteLine($"graph machinery per run (start minus its slowest dependency and app, median): {inGraph:0} ms");
    Console.WriteLine($"reused, start call to ready in a new test host (median of {runs}): {reusedMedian:0} ms (goal <= 100 ms); in a bare new process: {Median(reusedBare):0} ms");
    Console.WriteLine(string.Create(invariant, $"RESULT cold={cold.Total:0} warm={graphMedian:0} db={dbAlone:0} cache={cacheAlone:0} app={app:0} overhead={graphMedian - slowestDependency - app:0} machinery={inGraph:0} reused={reusedMedian:0} reused-bare={Median(reusedBare):0}"));
}
finally
{
    await ContainerHost.ReapAsync(cache);
    Directory.Delete(cache, recursive: true);
}
