using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.Registry;

namespace Containers.Oci.Tests.Registry;

/// <summary>Random images made of real tar (+gzip) layers, written to a temporary directory.</summary>
internal sealed class TestImages : IDisposable
{
    public TestImages()
    {
        Directory = Path.Combine(Path.GetTempPath(), "registry-tests-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    /// <summary>A layer holding one file of <paramref name="payloadBytes"/> random (incompressible) bytes, written streaming.</summary>
    public async Task<ILayer> CreateLayerAsync(long payloadBytes, bool gzip = true)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var payload = Path.Combine(Directory, id + ".bin");
        await using (var output = File.Create(payload))
        {
            var block = new byte[1024 * 1024];
            for (long written = 0; written < payloadBytes; written += block.Length)
            {
                var count = (int)Math.Min(block.Length, payloadBytes - written);
                RandomNumberGenerator.Fill(block.AsSpan(0, count));
                await output.WriteAsync(block.AsMemory(0, count));
            }
        }

        var tarPath = Path.Combine(Directory, id + ".tar");
        await using (var tarStream = File.Create(tarPath))
        await using (var writer = new TarWriter(tarStream, TarEntryFormat.Pax, leaveOpen: false))
        {
            await using var data = File.OpenRead(payload);
            var entry = new PaxTarEntry(TarEntryType.RegularFile, $"data/{id}.bin")
            {
                DataStream = data,
                ModificationTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            await writer.WriteEntryAsync(entry);
        }

        File.Delete(payload);
        Digest diffId;
        await using (var tar = File.OpenRead(tarPath))
        {
            diffId = await Digest.ComputeAsync(tar);
        }

        var blobPath = tarPath;
        if (gzip)
        {
            blobPath = tarPath + ".gz";
            await using (var source = File.OpenRead(tarPath))
            await using (var target = File.Create(blobPath))
            await using (var compressor = new GZipStream(target, CompressionLevel.Fastest))
            {
                await source.CopyToAsync(compressor);
            }

            File.Delete(tarPath);
        }

        Digest digest;
        await using (var blob = File.OpenRead(blobPath))
        {
            digest = await Digest.ComputeAsync(blob);
        }

        var descriptor = new Descriptor
        {
            MediaType = gzip ? MediaTypes.OciLayerGzip : MediaTypes.OciLayer,
            Digest = digest,
            Size = new FileInfo(blobPath).Length,
        };
        return StoredLayer.FromFile(descriptor, diffId, blobPath);
    }

    public async Task<Image> CreateImageAsync(int layerCount, long bytesPerLayer, Platform? platform = null)
    {
        var layers = new List<ILayer>();
        for (var i = 0; i < layerCount; i++)
        {
            layers.Add(await CreateLayerAsync(bytesPerLayer));
        }

        return Image.Empty(platform ?? Platform.LinuxAmd64).AppendLayers(layers);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Reads the whole compressed blob of a layer (verifying it, for registry layers) and returns its digest.</summary>
    public static async Task<Digest> ReadBlobDigestAsync(ILayer layer, CancellationToken cancellationToken = default)
    {
        await using var stream = await layer.OpenCompressedAsync(cancellationToken);
        return await Digest.ComputeAsync(stream, cancellationToken);
    }
}

/// <summary>Collects progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
internal sealed class ProgressRecorder : IProgress<TransferProgress>
{
    private readonly ConcurrentQueue<TransferProgress> _reports = new();

    public IReadOnlyList<TransferProgress> Reports => _reports.ToArray();

    public void Report(TransferProgress value) => _reports.Enqueue(value);

    public IReadOnlyList<TransferOperation> FinalOperations(Digest digest) =>
        Reports.Where(r => r.Digest == digest && r.IsComplete).Select(r => r.Operation).Distinct().ToArray();
}
