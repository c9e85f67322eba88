using System.Globalization;
using System.IO.Compression;
using Containers.Oci.Descriptors;

namespace Containers.Oci.Layers;

/// <summary>How <see cref="LayerWriter"/> writes a layer: compression, timestamp and ownership.</summary>
public sealed record LayerWriteOptions
{
    /// <summary>The environment variable of the reproducible-builds convention: seconds since the Unix epoch.</summary>
    public const string SourceDateEpochVariable = "SOURCE_DATE_EPOCH";

    /// <summary>The compression of the blob; gzip by default, as every registry and runtime reads it.</summary>
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>The media-type family: OCI by default; Docker writes <see cref="MediaTypes.DockerLayerGzip"/> (gzip only).</summary>
    public ManifestFormat Format { get; init; } = ManifestFormat.Oci;

    /// <summary>
    /// The modification time of every entry, truncated to whole seconds. When null:
    /// <c>SOURCE_DATE_EPOCH</c> when that variable is set, else 1970-01-01T00:00:00Z.
    /// </summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The uid of every entry; 0 (root) by default.</summary>
    public int OwnerUid { get; init; }

    /// <summary>The gid of every entry; 0 (root) by default.</summary>
    public int OwnerGid { get; init; }

    /// <summary>The gzip level; <see cref="CompressionLevel.Optimal"/> is zlib level 6, like <c>gzip -6</c>.</summary>
    public CompressionLevel GzipLevel { get; init; } = CompressionLevel.Optimal;

    /// <summary>
    /// How many threads compress gzip blocks; the processor count, at most 16, by default. The tar is cut into
    /// fixed-size blocks that are compressed independently and joined into one gzip stream (as pigz does), so this
    /// changes speed, never the bytes or the digest. Memory grows with it (about half a MiB per thread), never with
    /// the layer's size.
    /// </summary>
    public int GzipThreads { get; init; } = Math.Min(Environment.ProcessorCount, 16);

    /// <summary>
    /// Zip archives (NuGet packages) whose deflate data a gzip layer copies for files with the same bytes instead of
    /// compressing them again; none by default. Each such file becomes a gzip member of its own, so the blob differs
    /// from one written without sources (the diff id does not): the bytes depend on the files and the archives, never
    /// on the thread count. Ignored for zstd and uncompressed layers.
    /// </summary>
    public DeflatedFileSources? DeflatedFileSources { get; init; }

    /// <summary>The zstd level, 1 to 22; 3 by default, like <c>zstd -3</c>.</summary>
    public int ZstdLevel { get; init; } = 3;

    /// <summary>
    /// How many threads zstd compresses with; the processor count by default. zstd's multi-threaded mode
    /// yields the same bytes for every value of 1 or more, so this changes speed, never the digest.
    /// </summary>
    public int ZstdThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>The media type the written blob is described with.</summary>
    public string MediaType => MediaTypes.LayerMediaType(Compression, Format);

    /// <summary>The timestamp entries get: <see cref="Timestamp"/>, else the environment's <c>SOURCE_DATE_EPOCH</c>, else the Unix epoch.</summary>
    /// <exception cref="OciException">The timestamp is before 1970 or <c>SOURCE_DATE_EPOCH</c> is not a number of seconds.</exception>
    public DateTimeOffset ResolveTimestamp()
    {
        if (Timestamp is { } timestamp)
        {
            if (timestamp < DateTimeOffset.UnixEpoch)
            {
                throw new OciException($"The layer timestamp {timestamp:O} is before 1970-01-01; tar stores seconds since the Unix epoch. Use a later time.");
            }

            return DateTimeOffset.FromUnixTimeSeconds(timestamp.ToUnixTimeSeconds());
        }

        return ParseSourceDateEpoch(Environment.GetEnvironmentVariable(SourceDateEpochVariable));
    }

    /// <summary>
    /// Interprets a <c>SOURCE_DATE_EPOCH</c> value: a non-negative whole number of seconds since the Unix
    /// epoch. Null or empty means the epoch itself.
    /// </summary>
    /// <exception cref="OciException">The value is not a non-negative whole number.</exception>
    public static DateTimeOffset ParseSourceDateEpoch(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return DateTimeOffset.UnixEpoch;
        }

        if (!long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            throw new OciException($"{SourceDateEpochVariable}='{value}' is not a number of seconds since 1970-01-01; set it to a whole number such as the output of 'git log -1 --format=%ct', or unset it.");
        }

        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    internal void Validate()
    {
        _ = MediaType;
        if (OwnerUid < 0 || OwnerGid < 0)
        {
            throw new OciException($"The layer owner {OwnerUid}:{OwnerGid} is negative; uid and gid are non-negative numbers such as 0:0 or 1654:1654.");
        }

        if (GzipThreads is < 1 or > 256)
        {
            throw new OciException($"The gzip thread count {GzipThreads} is out of range; use 1 to 256 (the output is the same for every value).");
        }

        if (ZstdThreads is < 1 or > 256)
        {
            throw new OciException($"The zstd thread count {ZstdThreads} is out of range; use 1 to 256 (the output is the same for every value).");
        }

        if (ZstdLevel is < 1 or > 22)
        {
            throw new OciException($"The zstd level {ZstdLevel} is out of range; use 1 (fastest) to 22 (smallest), 3 being the default.");
        }
    }
}
