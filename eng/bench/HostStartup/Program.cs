using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Readiness;

// Usage: HostStartup <oci layout> <tag> <runs>
// 1. ContainerHost: StartAsync (image already unpacked in the cache by a warm-up start) until GET /healthz
//    answers 200 through the published port, then dispose.
// 2. By hand: `umoci unpack` of the same image once, then per run `runc run --detach` of that bundle
//    (host network, ASPNETCORE_HTTP_PORTS set to a free port) until GET /healthz answers 200, then
//    `runc delete --force`. Both poll every 10 ms.
var layout = args[0];
var tag = args[1];
var runs = int.Parse(args[2], CultureInfo.InvariantCulture);
var cache = Directory.CreateTempSubdirectory("host-startup-cache-").FullName;
var work = Directory.CreateTempSubdirectory("host-startup-").FullName;
try
{
    async Task<double> HostRunAsync()
    {
        var options = new ContainerStartOptions { Image = ContainerImageSource.FromOciLayout(layout, tag), CacheDirectory = cache };
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(new PollingHttpWait());
        var clock = Stopwatch.StartNew();
        await using var container = await ContainerHost.StartAsync(options);
        return clock.Elapsed.TotalMilliseconds;
    }

    await HostRunAsync(); // warm-up: unpacks the image into the cache, JIT
    var host = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        host.Add(await HostRunAsync());
    }

    var bundle = Path.Combine(work, "bundle");
    Run("umoci", "unpack", "--image", $"{layout}:{tag}", bundle);
    var configPath = Path.Combine(bundle, "config.json");
    var spec = JsonNode.Parse(File.ReadAllText(configPath))!;
    var namespaces = spec["linux"]!["namespaces"]!.AsArray();
    foreach (var network in namespaces.Where(n => (string?)n!["type"] == "network").ToList())
    {
        namespaces.Remove(network);
    }

    spec["process"]!["terminal"] = false;
    var manual = new List<double>();
    for (var i = -1; i < runs; i++)
    {
        var port = FreePort();
        var env = spec["process"]!["env"]!.AsArray();
        foreach (var old in env.Where(e => ((string?)e)!.StartsWith("ASPNETCORE_HTTP_PORTS=", StringComparison.Ordinal)).ToList())
        {
            env.Remove(old);
        }

        env.Add("ASPNETCORE_HTTP_PORTS=" + port.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(configPath, spec.ToJsonString());
        var id = "host-startup-bench-" + Guid.NewGuid().ToString("N")[..8];
        var clock = Stopwatch.StartNew();
        var runc = Process.Start(new ProcessStartInfo("runc", ["run", "--detach", "--bundle", bundle, id]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await runc.WaitForExitAsync();
        await PollAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
        var elapsed = clock.Elapsed.TotalMilliseconds;
        Run("runc", "delete", "--force", id);
        if (i >= 0)
        {
            manual.Add(elapsed); // the first run only warms the page cache, as the host's warm-up did
        }
    }

    Console.WriteLine($"ContainerHost.StartAsync -> first 200: median {Median(host):F0} ms (runs: {string.Join(", ", host.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})");
    Console.WriteLine($"runc run --detach -> first 200:        median {Median(manual):F0} ms (runs: {string.Join(", ", manual.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})");
    Console.WriteLine($"overhead: {Median(host) - Median(manual):F0} ms");
}
finally
{
    Directory.Delete(cache, recursive: true);
    Directory.Delete(work, recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static void Run(string file, params string[] arguments)
{
    using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {process.StandardError.ReadToEnd()}");
    }
}

static async Task PollAsync(Uri uri)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    while (true)
    {
        try
        {
            using var response = await http.GetAsync(uri);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(10);
    }
}

// Wait.ForHttp polls every 25 ms; the hand-run side polls every 10 ms, so the host side uses the same 10 ms.
internal sealed class PollingHttpWait : IContainerWaitStrategy
{
    public string Description => "GET /healthz to answer 200 (10 ms polling)";

    public async Task WaitAsync(RunningContainer container, CancellationToken cancellationToken)
    {
        using var http = container.CreateHttpClient(8080);
        http.Timeout = TimeSpan.FromSeconds(2);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/healthz", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(10, cancellationToken);
        }
    }
}
