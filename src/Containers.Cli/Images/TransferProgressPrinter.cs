using System.Diagnostics;
using System.Globalization;
using Containers.Oci.Digests;
using Containers.Oci.Registry;

namespace Containers.Cli.Images;

/// <summary>
/// The registry client's per-blob progress on stderr: when stderr is a terminal, one line per blob rewritten in place
/// with its bytes and rate; otherwise (CI logs, pipes) one plain line per blob when it is done. stdout stays the result.
/// </summary>
public sealed class TransferProgressPrinter : IProgress<TransferProgress>
{
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly Dictionary<Digest, Stopwatch> _started = [];
    private readonly HashSet<Digest> _finished = [];
    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private string _lastLiveLine = "";

    /// <summary>Writes to <paramref name="writer"/>; <paramref name="interactive"/> redraws a live line (a terminal).</summary>
    public TransferProgressPrinter(TextWriter writer, bool interactive)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _interactive = interactive;
    }

    /// <summary>A printer on stderr, live when stderr is a terminal.</summary>
    public static TransferProgressPrinter ForStandardError() => new(Console.Error, !Console.IsErrorRedirected);

    /// <summary>Bytes that went over the wire (pushed or pulled, not mounted or skipped).</summary>
    public long BytesTransferred { get; private set; }

    /// <inheritdoc />
    public void Report(TransferProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_lock)
        {
            if (_finished.Contains(value.Digest))
            {
                return;
            }

            if (!_started.TryGetValue(value.Digest, out var clock))
            {
                _started[value.Digest] = clock = Stopwatch.StartNew();
            }

            if (value.IsComplete)
            {
                _finished.Add(value.Digest);
                if (value.Operation is TransferOperation.Pushed or TransferOperation.Pulled)
                {
                    BytesTransferred += value.TotalBytes;
                }

                ClearLiveLine();
                _writer.WriteLine(Describe(value, clock.Elapsed));
                return;
            }

            // A terminal redraw at most every 100 ms: a gigabyte layer reports thousands of times.
            if (_interactive && _sinceRedraw.ElapsedMilliseconds >= 100)
            {
                _sinceRedraw.Restart();
                var line = $"{(value.Operation == TransferOperation.Pushed ? "Pushing" : "Pulling")} {Short(value.Digest)} {ImageLocations.FormatSize(value.BytesTransferred)} / {ImageLocations.FormatSize(value.TotalBytes)} {Rate(value.BytesTransferred, clock.Elapsed)}";
                _writer.Write("\r" + line.PadRight(_lastLiveLine.Length));
                _lastLiveLine = line;
            }
        }
    }

    private void ClearLiveLine()
    {
        if (_lastLiveLine.Length > 0)
        {
            _writer.Write("\r" + new string(' ', _lastLiveLine.Length) + "\r");
            _lastLiveLine = "";
        }
    }

    private static string Describe(TransferProgress value, TimeSpan elapsed) => value.Operation switch
    {
        TransferOperation.Mounted => $"Mounted {Short(value.Digest)} {ImageLocations.FormatSize(value.TotalBytes)} (from another repository, no upload)",
        TransferOperation.SkippedExisting => $"Exists  {Short(value.Digest)} {ImageLocations.FormatSize(value.TotalBytes)}",
        _ => $"{Verb(value.Operation)} {Short(value.Digest)} {ImageLocations.FormatSize(value.TotalBytes)} in {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s {Rate(value.TotalBytes, elapsed)}",
    };

    private static string Verb(TransferOperation operation) => operation == TransferOperation.Pushed ? "Pushed " : "Pulled ";

    private static string Short(Digest digest) => digest.ToString()[..19];

    private static string Rate(long bytes, TimeSpan elapsed) =>
        elapsed.TotalSeconds < 0.001 ? "" : $"({ImageLocations.FormatSize((long)(bytes / elapsed.TotalSeconds))}/s)";
}
