// Writes a 200 MB / 2,000-file layer (and any directories named after it) with Containers.Oci's LayerWriter
// (block-parallel gzip with 1, 2 and 4 threads, zstd) and with `tar | gzip -6`, `tar | pigz -p 2 -6` and
// `tar | zstd -3` on the same files, and prints MB/s, sizes and the gzip digests for each thread count. A directory with
// a .deps.json whose packages are in the NuGet package folder (NUGET_PACKAGES, else ~/.nuget/packages) also gets a
// row for gzip that copies the packages' deflate data, as a publish does (docs/layers.md).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Containers.Build.Layering;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Layers;

// Usage: LayerBench <generated-data-dir> <repetitions> [more directories to layer as they are...]
//        LayerBench --memory <dir> <gzip threads>: writes one gzip layer of <dir> and prints the process's peak working set.
if (args.Length > 0 && args[0] == "--memory")
{
    var threads = int.Parse(args[2], CultureInfo.InvariantCulture);
    var result = await LayerWriter.WriteAsync(LayerPlan.Empty.AddDirectoryTree(args[1], "/data"), Stream.Null, new LayerWriteOptions { GzipThreads = threads });
    using var self = Process.GetCurrentProcess();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{result.UncompressedSize / 1e6:F1} MB tar -> {result.Descriptor.Size / 1e6:F1} MB gzip with {threads} threads: peak working set {self.PeakWorkingSet64 / 1e6:F1} MB, {result.Descriptor.Digest}"));
    return;
}

var dataDirectory = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "layer-bench-data");
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
const int fileCount = 2000;
const long totalBytes = 200L * 1000 * 1000;

var generatedBytes = GenerateFiles(dataDirectory, fileCount, totalBytes);
Console.WriteLine($"generated input: {fileCount} files, {generatedBytes / 1e6:F1} MB in {dataDirectory}; best of {repetitions} runs; {Environment.ProcessorCount} cores");
foreach (var directory in new[] { dataDirectory }.Concat(args.Skip(2)))
{
    await Bench(directory);
}

async Task Bench(string directory)
{
    var plan = LayerPlan.Empty.AddDirectoryTree(directory, "/data");
    var inputBytes = plan.Entries.Where(e => e.SourcePath is not null).Sum(e => new FileInfo(e.SourcePath!).Length);
    Console.WriteLine();
    Console.WriteLine($"{directory}: {plan.Entries.Count(e => e.SourcePath is not null)} files, {inputBytes / 1e6:F1} MB");

    // Warm the page cache so every contender reads from memory.
    await Run($"tar -cf - -C '{directory}' . > /dev/null");

    var digests = new Dictionary<int, string>();
    var rows = new List<(string Name, double Seconds, double CpuSeconds, long Size)>();
    foreach (var threads in new[] { 1, 2, 4 })
    {
        rows.Add(await Measure($"LayerWriter gzip, {threads} thread{(threads == 1 ? "" : "s")} (block-parallel, level 6)", async () =>
        {
            var (size, cpu, digest) = await Ours(plan, LayerCompression.Gzip, threads);
            digests[threads] = digest;
            return (size, cpu);
        }));
    }

    var depsFile = Directory.EnumerateFiles(directory, "*.deps.json").FirstOrDefault();
    var packageFolder = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder ? folder
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    var archives = depsFile is null ? [] : PackageArchives.Find(depsFile, [packageFolder]);
    if (archives.Count > 0)
    {
        var sources = new DeflatedFileSources(archives);
        rows.Add(await Measure($"LayerWriter gzip, 2 threads, copying the deflate data of {archives.Count} packages", async () =>
        {
            var (size, cpu, digest) = await Ours(plan, LayerCompression.Gzip, 2, sources);
            digests[-2] = digest;
            return (size, cpu);
        }));
    }

    rows.Add(await Measure("LayerWriter zstd (level 3)", async () =>
    {
        var (size, cpu, _) = await Ours(plan, LayerCompression.Zstd, Environment.ProcessorCount);
        return (size, cpu);
    }));
    rows.Add(await Measure("tar -cf - \\| gzip -6", () => Shell($"tar -cf - -C '{directory}' . | gzip -6 | wc -c")));
    rows.Add(await Measure("tar -cf - \\| pigz -p 2 -6", () => Shell($"tar -cf - -C '{directory}' . | pigz -p 2 -6 | wc -c")));
    rows.Add(await Measure("tar -cf - \\| zstd -3", () => Shell($"tar -cf - -C '{directory}' . | zstd -3 -q -c | wc -c")));

    Console.WriteLine();
    Console.WriteLine("| writer | wall s | MB/s (wall) | CPU s | MB/s per CPU-second | output MB |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    foreach (var (name, seconds, cpuSeconds, size) in rows)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {seconds:F2} | {inputBytes / 1e6 / seconds:F1} | {cpuSeconds:F2} | {inputBytes / 1e6 / cpuSeconds:F1} | {size / 1e6:F2} |"));
    }

    var pigz = rows.Single(r => r.Name.Contains("pigz", StringComparison.Ordinal));
    var gzip = rows.Single(r => r.Name.Contains("| gzip", StringComparison.Ordinal));
    var two = rows[1];
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"2 threads: {pigz.Seconds / two.Seconds:F2}x the throughput of pigz -p 2 -6; output {(double)two.Size / gzip.Size - 1:+0.00%;-0.00%} against single-stream gzip -6"));
    var threadDigests = digests.Where(d => d.Key > 0).OrderBy(d => d.Key).Select(d => d.Value).ToArray();
    Console.WriteLine($"digest with 1, 2, 4 threads: {string.Join(", ", threadDigests)} ({(threadDigests.Distinct().Count() == 1 ? "identical" : "DIFFERENT")})");
    if (rows.FirstOrDefault(r => r.Name.Contains("copying", StringComparison.Ordinal)) is { Name: not null } copying)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"copying the packages' deflate data, 2 threads: {pigz.Seconds / copying.Seconds:F2}x the throughput of pigz -p 2 -6; output {(double)copying.Size / gzip.Size - 1:+0.00%;-0.00%} against single-stream gzip -6; {digests[-2]}"));
    }
}

async Task<(string, double, double, long)> Measure(string name, Func<Task<(long Size, double CpuSeconds)>> run)
{
    var best = double.MaxValue;
    var bestCpu = double.MaxValue;
    long size = 0;
    for (var i = 0; i < repetitions; i++)
    {
        var stopwatch = Stopwatch.StartNew();
        (size, var cpu) = await run();
        best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
        bestCpu = Math.Min(bestCpu, cpu);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {best:F2} s wall, {bestCpu:F2} s CPU"));
    return (name, best, bestCpu, size);
}

static async Task<(long, double, string)> Ours(LayerPlan plan, LayerCompression compression, int threads, DeflatedFileSources? sources = null)
{
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var result = await LayerWriter.WriteAsync(plan, Stream.Null, new LayerWriteOptions { Compression = compression, GzipThreads = threads, DeflatedFileSources = sources });
    return (result.Descriptor.Size, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds, result.Descriptor.Digest.ToString());
}

// The shell's `times` prints the user and system CPU time of the pipeline's processes on its second line.
static async Task<(long, double)> Shell(string command)
{
    var (output, exitCode) = await Run(command + "; times");
    var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    var size = long.Parse(lines[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
    var cpu = lines[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Sum(ParseShellTime);
    return exitCode == 0 ? (size, cpu) : throw new InvalidOperationException($"'{command}' exited with {exitCode}");
}

static double ParseShellTime(string value)
{
    var minutes = value.IndexOf('m', StringComparison.Ordinal);
    return double.Parse(value[..minutes], CultureInfo.InvariantCulture) * 60
        + double.Parse(value[(minutes + 1)..].TrimEnd('s'), CultureInfo.InvariantCulture);
}

static async Task<(string Output, int ExitCode)> Run(string command)
{
    var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
    start.ArgumentList.Add("-c");
    start.ArgumentList.Add(command);
    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    return (output, process.ExitCode);
}

// Half the files are text (compresses about 3-4x, like JSON, XML and IL-heavy assemblies), half random
// (incompressible, like images and already-compressed assets). The same seed always yields the same tree.
static long GenerateFiles(string directory, int count, long total)
{
    var marker = Path.Combine(directory, ".complete");
    if (File.Exists(marker))
    {
        return long.Parse(File.ReadAllText(marker), CultureInfo.InvariantCulture);
    }

    if (Directory.Exists(directory))
    {
        Directory.Delete(directory, recursive: true);
    }

    var random = new Random(20240506);
    string[] words = ["container", "layer", "digest", "manifest", "registry", "image", "tar", "gzip", "zstd", "config",
        "\"name\":", "\"value\":", "{", "}", "<item>", "</item>", "public", "static", "void", "return", "0x1F", "42", "true", "null"];
    var weights = Enumerable.Range(0, count).Select(_ => 0.5 + random.NextDouble()).ToArray();
    var scale = total / weights.Sum();
    long written = 0;
    for (var i = 0; i < count; i++)
    {
        var size = i == count - 1 ? total - written : (long)(weights[i] * scale);
        var path = Path.Combine(directory, $"dir{i % 40:D2}", $"sub{i % 7}", $"file{i:D4}.{(i % 2 == 0 ? "txt" : "bin")}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var content = new byte[size];
        if (i % 2 == 0)
        {
            var text = new StringBuilder((int)size + 32);
            while (text.Length < size)
            {
                text.Append(words[random.Next(words.Length)]).Append(random.Next(10) == 0 ? '\n' : ' ');
            }

            Encoding.ASCII.GetBytes(text.ToString(0, (int)size), content);
        }
        else
        {
            random.NextBytes(content);
        }

        File.WriteAllBytes(path, content);
        written += size;
    }

    File.WriteAllText(marker, written.ToString(CultureInfo.InvariantCulture));
    return written;
}
