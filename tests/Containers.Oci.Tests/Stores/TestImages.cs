using System.Formats.Tar;
using System.IO.Compression;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;

namespace Containers.Oci.Tests.Stores;

/// <summary>A file to put in a test layer: path inside the image, content and mode.</summary>
internal sealed record TestFile(string Path, string Content, UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

/// <summary>Builds small real images for store tests: tar layers compressed with gzip, file-backed.</summary>
internal static class TestImages
{
    public const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly DateTimeOffset FixedTime = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>The uncompressed tar of <paramref name="files"/>, with explicit parent directories.</summary>
    public static byte[] CreateTar(IEnumerable<TestFile> files)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var directories = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                var parts = file.Path.Split('/');
                for (var i = 1; i < parts.Length; i++)
                {
                    var directory = string.Join('/', parts[..i]) + "/";
                    if (directories.Add(directory))
                    {
                        writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, directory) { Mode = Executable, ModificationTime = FixedTime });
                    }
                }

                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, file.Path)
                {
                    Mode = file.Mode,
                    ModificationTime = FixedTime,
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(file.Content)),
                });
            }
        }

        return tar.ToArray();
    }

    /// <summary>A gzip layer of <paramref name="files"/> stored as a file in <paramref name="directory"/>.</summary>
    public static StoredLayer CreateLayer(string directory, params TestFile[] files) =>
        CreateLayer(directory, LayerCompression.Gzip, files);

    public static StoredLayer CreateLayer(string directory, LayerCompression compression, params TestFile[] files)
    {
        var tar = CreateTar(files);
        byte[] blob;
        switch (compression)
        {
            case LayerCompression.Gzip:
                using (var compressed = new MemoryStream())
                {
                    using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
                    {
                        gzip.Write(tar);
                    }

                    blob = compressed.ToArray();
                }

                break;
            case LayerCompression.None:
                blob = tar;
                break;
            default:
                using (var compressor = new ZstdSharp.Compressor())
                {
                    blob = compressor.Wrap(tar).ToArray();
                }

                break;
        }

        Directory.CreateDirectory(directory);
        var descriptor = Descriptor.For(MediaTypes.LayerMediaType(compression), blob);
        var path = Path.Combine(directory, descriptor.Digest.Hex);
        File.WriteAllBytes(path, blob);
        return StoredLayer.FromFile(descriptor, Digest.Compute(tar), path);
    }

    /// <summary>A two-layer image for <paramref name="platform"/> with an entrypoint and environment.</summary>
    public static Image CreateImage(string workDirectory, Platform? platform = null, string marker = "1")
    {
        var layers = Path.Combine(workDirectory, "layers");
        var baseLayer = CreateLayer(layers, new TestFile("etc/os-release", "ID=test\n"), new TestFile("usr/bin/tool", "#!/bin/sh\necho tool\n", Executable));
        var appLayer = CreateLayer(layers, new TestFile("app/app.dll", "app " + marker), new TestFile("app/run.sh", "#!/bin/sh\nexec dotnet app.dll\n", Executable));
        return Image.Empty(platform ?? Platform.LinuxAmd64)
            .AppendLayers(baseLayer, appLayer)
            .WithConfig(c => c with
            {
                Created = FixedTime,
                Config = c.Config! with { Env = ["PATH=/usr/bin:/bin", "MARKER=" + marker], Entrypoint = ["/app/run.sh"], WorkingDir = "/app" },
            });
    }

    /// <summary>Every byte of a stream.</summary>
    public static async Task<byte[]> ReadAllAsync(Task<Stream> open)
    {
        await using var stream = await open;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
