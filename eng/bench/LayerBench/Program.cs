// Writes a 200 MB / 2,000-file layer with Containers.Oci's LayerWriter (gzip, zstd) and with
// `tar | gzip -6` and `tar | zstd -3` on the same files, and prints MB/s for each.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Layers;

var dataDirectory = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "layer-bench-data");
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
const int fileCount = 2000;
const long totalBytes = 200L * 1000 * 1000;

var inputBytes = GenerateFiles(dataDirectory, fileCount, totalBytes);
Console.WriteLine($"input: {fileCount} files, {inputBytes / 1e6:F1} MB in {dataDirectory}; best of {repetitions} runs; {Environment.ProcessorCount} cores");
var plan = LayerPlan.Empty.AddDirectoryTree(dataDirectory, "/data");

// Warm the page cache so every contender reads from memory.
await Run($"tar -cf - -C '{dataDirectory}' . > /dev/null");

var rows = new List<(string Name, double Seconds, double CpuSeconds, long Size)>
{
    await Measure("LayerWriter gzip (Optimal = zlib level 6)", () => Ours(plan, LayerCompression.Gzip)),
    await Measure("LayerWriter zstd (level 3)", () => Ours(plan, LayerCompression.Zstd)),
    await Measure("tar -cf - \\| gzip -6", () => Shell($"tar -cf - -C '{dataDirectory}' . | gzip -6 | wc -c")),
    await Measure("tar -cf - \\| zstd -3", () => Shell($"tar -cf - -C '{dataDirectory}' . | zstd -3 -q -c | wc -c")),
};

Console.WriteLine();
Console.WriteLine("| writer | wall s | MB/s (wall) | CPU s | MB/s per CPU-second | output MB |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, seconds, cpuSeconds, size) in rows)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {seconds:F2} | {inputBytes / 1e6 / seconds:F1} | {cpuSeconds:F2} | {inputBytes / 1e6 / cpuSeconds:F1} | {size / 1e6:F1} |"));
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

static async Task<(long, double)> Ours(LayerPlan plan, LayerCompression compression)
{
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var result = await LayerWriter.WriteAsync(plan, Stream.Null, new LayerWriteOptions { Compression = compression });
    return (result.Descriptor.Size, (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
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
