using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Build.Publishing;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.References;

namespace Containers.Build.Tests.Publishing;

/// <summary>Builds small real base images and fake publish directories for pipeline tests.</summary>
internal static class PublishFixture
{
    public static string NewTempDirectory(string prefix) => Directory.CreateTempSubdirectory("cs-pub-" + prefix + "-").FullName;

    /// <summary>A base image with one real layer (an /etc/passwd with an app user) and APP_UID in its env.</summary>
    public static async Task<Image> MakeBaseImageAsync(Platform platform, string workDirectory)
    {
        var tarPath = Path.Combine(workDirectory, "base-" + platform.Architecture + ".tar.gz");
        await using (var file = File.Create(tarPath))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "etc/") { Mode = (UnixFileMode)0b111_101_101 });
            var passwd = new PaxTarEntry(TarEntryType.RegularFile, "etc/passwd")
            {
                DataStream = new MemoryStream("root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/sh\n"u8.ToArray()),
            };
            await tar.WriteEntryAsync(passwd);
            var arch = new PaxTarEntry(TarEntryType.RegularFile, "etc/arch") { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(platform.ToString())) };
            await tar.WriteEntryAsync(arch);
        }

        var compressed = await File.ReadAllBytesAsync(tarPath);
        Digest diffId;
        await using (var gz = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
        {
            diffId = await Digest.ComputeAsync(gz);
        }

        var descriptor = Descriptor.For(MediaTypes.OciLayerGzip, compressed);
        var layer = StoredLayer.FromFile(descriptor, diffId, tarPath);
        return Image.Empty(platform).AppendLayers(layer).WithConfig(c => c with
        {
            Config = new ContainerConfig { Env = ["PATH=/usr/bin:/bin", "APP_UID=1654"], WorkingDir = "/" },
        });
    }

    /// <summary>A publish directory shaped like a framework-dependent web app with a package and a project reference.</summary>
    public static string MakePublishDirectory(string root, string name = "publish", int seed = 1)
    {
        var dir = Path.Combine(root, name);
        void Write(string relative, string content)
        {
            var full = Path.Combine(dir, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }

        Write("App.dll", "app code " + seed);
        Write("App.deps.json", """
            {"runtimeTarget":{"name":".NETCoreApp,Version=v10.0/linux-x64"},
             "targets":{".NETCoreApp,Version=v10.0/linux-x64":{"App/1.0.0":{"runtime":{"App.dll":{}}},"Serilog/4.0.0":{"runtime":{"lib/net8.0/Serilog.dll":{}}},"Lib/1.0.0":{"runtime":{"Lib.dll":{}}}}},
             "libraries":{"App/1.0.0":{"type":"project"},"Serilog/4.0.0":{"type":"package"},"Lib/1.0.0":{"type":"project"}}}
            """);
        Write("App.runtimeconfig.json", "{}");
        Write("appsettings.json", "{\"Logging\":{}}");
        Write("Lib.dll", "library code");
        Write("wwwroot/index.html", "<html></html>");
        // A sizeable, incompressible package asset, so upload savings are visible.
        var package = new byte[512 * 1024];
        new Random(42).NextBytes(package);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "Serilog.dll"), package);
        var exe = Path.Combine(dir, "App");
        File.WriteAllText(exe, "#!/bin/sh\necho app\n");
        File.SetUnixFileMode(exe, (UnixFileMode)0b111_101_101);
        return dir;
    }

    public static ImageConfig Compose(ImageConfig baseConfig, string runtimeIdentifier, Digest baseManifestDigest) => baseConfig with
    {
        Config = (baseConfig.Config ?? new ContainerConfig()) with
        {
            Entrypoint = ["dotnet", "/app/App.dll"],
            WorkingDir = "/app/",
            User = "1654",
            Labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["rid"] = runtimeIdentifier },
        },
    };

    public static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    public static ContainerPublishRequest Request(string publishDirectory, string projectDirectory, ContainerDestination destination, ImageReference baseImage, string? baseLayout = null, string? cache = null) => new()
    {
        Targets = [new ContainerPublishTarget("linux-x64", publishDirectory)],
        ApplicationName = "App",
        ProjectDirectory = projectDirectory,
        BaseImage = baseImage,
        BaseImageLayoutPath = baseLayout,
        ComposeConfig = Compose,
        Destination = destination,
        LayerCacheDirectory = cache,
        SourceDateEpoch = "1700000000",
    };
}
