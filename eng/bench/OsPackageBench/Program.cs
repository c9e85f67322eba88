// ContainerOsPackage cost: a publish to an OCI layout of a small app onto the test base (eng/base-images.sh) with curl and
// fonts-dejavu-core from a local signed repository (LocalAptRepository), cold (first resolution, empty caches) and locked
// and cached (twice: right after the resolution, then the steady no-change publish), against the same publish without
// OS packages. Usage: OsPackageBench <repetitions>
using System.Diagnostics;
using Containers.Build.OsPackages;
using Containers.Build.Publishing;
using Containers.Oci.References;
using Containers.TestSupport;

var repetitions = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5;
var baseLayout = Environment.GetEnvironmentVariable(TestBaseImages.EnvironmentVariable) is { Length: > 0 } configured ? configured : TestBaseImages.DefaultLayoutDirectory;
await using var repository = await LocalAptRepository.CreateAsync(["curl", "fonts-dejavu-core"]);
var work = Directory.CreateTempSubdirectory("os-package-bench-").FullName;
var publish = Path.Combine(work, "publish");
Directory.CreateDirectory(publish);
File.WriteAllText(Path.Combine(publish, "App.dll"), "app");
File.WriteAllText(Path.Combine(publish, "App.runtimeconfig.json"), "{}");
File.WriteAllText(Path.Combine(publish, "App.deps.json"), """{"runtimeTarget":{"name":".NETCoreApp,Version=v10.0/linux-x64"},"targets":{".NETCoreApp,Version=v10.0/linux-x64":{"App/1.0.0":{"runtime":{"App.dll":{}}}}},"libraries":{"App/1.0.0":{"type":"project"}}}""");

ContainerPublishRequest Request(string root, bool withPackages) => new()
{
    Targets = [new ContainerPublishTarget("linux-x64", publish)],
    ApplicationName = "App",
    ProjectDirectory = work,
    BaseImage = ImageReference.Parse("localhost/base:runtime-deps-10.0"),
    BaseImageLayoutPath = baseLayout,
    ComposeConfig = (config, _, _) => config,
    Destination = new ContainerDestination.OciLayoutDirectory(Path.Combine(root, "out"), "app") { Tags = ["1.0"] },
    LayerCacheDirectory = Path.Combine(root, "layers"),
    SourceDateEpoch = "1700000000",
    OsPackages = withPackages
        ? new OsPackageOptions(
            [new OsPackageRequest("curl"), new OsPackageRequest("fonts-dejavu-core")],
            [new AptSource(repository.Uri, LocalAptRepository.Suite, [LocalAptRepository.Component], repository.KeyFile)],
            Path.Combine(root, OsPackageLockFile.FileName),
            Path.Combine(root, "os-packages"))
        : null,
};

async Task<(double Ms, ContainerPublishResult Result)> TimeAsync(ContainerPublishRequest request, List<string>? messages = null)
{
    var stopwatch = Stopwatch.StartNew();
    var result = await new ContainerPublisher(progress: messages is null ? null : new Collect(messages)).PublishAsync(request);
    return (stopwatch.Elapsed.TotalMilliseconds, result);
}

static long Bytes(string directory) => Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

var cold = new List<double>();
var afterResolution = new List<double>();
var locked = new List<double>();
var plain = new List<double>();
long debBytes = 0, indexBytes = 0, layerBytes = 0;
var lockedMessages = new List<string>();
int coldRequests = 0, lockedRequests = 0;
long coldServed = 0, lockedServed = 0;
for (var i = 0; i < repetitions; i++)
{
    var root = Path.Combine(work, "run" + i);
    var requestsBefore = repository.RequestCount;
    var servedBefore = repository.BytesServed;
    var (coldMs, coldResult) = await TimeAsync(Request(root, withPackages: true));
    cold.Add(coldMs);
    coldRequests = repository.RequestCount - requestsBefore;
    coldServed = repository.BytesServed - servedBefore;
    debBytes = Bytes(Path.Combine(root, "os-packages", "debs"));
    indexBytes = Bytes(Path.Combine(root, "os-packages", "indexes"));
    layerBytes = coldResult.Images[0].Layers.Single(l => l.Name == OsPackageInstaller.LayerName).Size;

    requestsBefore = repository.RequestCount;
    servedBefore = repository.BytesServed;
    // Right after the resolution the unpacked files are seconds old, too new for the layer cache to trust their size and
    // time (it hashes their content); the no-change publish that matters is the next one, as for the plain publish.
    afterResolution.Add((await TimeAsync(Request(root, withPackages: true))).Ms);
    lockedMessages.Clear();
    locked.Add((await TimeAsync(Request(root, withPackages: true), lockedMessages)).Ms);
    lockedRequests = repository.RequestCount - requestsBefore;
    lockedServed = repository.BytesServed - servedBefore;

    var plainRoot = Path.Combine(work, "plain" + i);
    await TimeAsync(Request(plainRoot, withPackages: false));
    plain.Add((await TimeAsync(Request(plainRoot, withPackages: false))).Ms);
}

Console.WriteLine($"| publish | median ms ({repetitions} runs) | repository requests | bytes downloaded |");
Console.WriteLine("|---|---:|---:|---:|");
Console.WriteLine($"| first resolution, empty caches | {Median(cold):F0} | {coldRequests} | {coldServed:N0} |");
Console.WriteLine($"| locked and cached, right after the resolution | {Median(afterResolution):F0} | {lockedRequests} | {lockedServed:N0} |");
Console.WriteLine($"| locked and cached (no change) | {Median(locked):F0} | {lockedRequests} | {lockedServed:N0} |");
Console.WriteLine($"| no OS packages (no change) | {Median(plain):F0} | 0 | 0 |");
Console.WriteLine($"Locked and cached adds {Median(locked) - Median(plain):F0} ms to a no-change publish.");
Console.WriteLine($"First resolution downloaded {debBytes / 1024.0 / 1024.0:F1} MiB of .debs and {indexBytes / 1024.0:F1} KiB of indexes; the os-packages layer is {layerBytes / 1024.0 / 1024.0:F1} MiB (gzip).");
Console.WriteLine("The last locked and cached publish said:" + string.Concat(lockedMessages.Select(m => "\n  " + m)));
Directory.Delete(work, recursive: true);

// Synchronous, unlike Progress<T>: every message is in the list when the publish returns.
internal sealed class Collect(List<string> messages) : IProgress<PublishProgress>
{
    public void Report(PublishProgress value) => messages.Add(value.Message);
}
