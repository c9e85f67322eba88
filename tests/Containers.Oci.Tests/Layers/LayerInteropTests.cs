using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Json;
using Containers.Oci.Layers;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Tests.Layers;

/// <summary>Layers we write, checked by independent tools: GNU tar, zstd and umoci (0.4.7 reads no zstd layers).</summary>
[TestClass]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LayerInteropTests
{
    private static readonly string LongPath = "deep/" + new string('d', 80) + "/" + new string('e', 80) + "/file.txt";

    [TestMethod]
    [DataRow(LayerCompression.Gzip, "-z")]
    [DataRow(LayerCompression.Zstd, "--zstd")]
    [DataRow(LayerCompression.None, "")]
    public async Task Gnu_tar_lists_the_layer_with_normalized_modes_and_numeric_root_ownership(LayerCompression compression, string decompressFlag)
    {
        var tar = LayerTestFiles.RequireTool("tar", "tar");
        if (compression == LayerCompression.Zstd)
        {
            LayerTestFiles.RequireTool("zstd", "zstd");
        }

        using var work = new TemporaryDirectory();
        var publish = new TemporaryDirectory();
        using var publishCleanup = publish;
        WriteInputs(publish);
        var layer = await LayerWriter.WriteToDirectoryAsync(
            LayerPlan.Empty.AddDirectoryTree(publish.Path, "/app"), work.Combine("blobs"),
            new LayerWriteOptions { Compression = compression, Timestamp = DateTimeOffset.FromUnixTimeSeconds(1700000000) });
        var blob = work.Combine("blobs", layer.Descriptor.Digest.Hex);

        string[] arguments = decompressFlag.Length == 0 ? ["--numeric-owner", "-tvf", blob] : [decompressFlag, "--numeric-owner", "-tvf", blob];
        var listing = (await LayerTestFiles.RunCheckedAsync(tar, arguments))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => string.Join(' ', fields[5..]), fields => (Mode: fields[0], Owner: fields[1], Time: fields[3] + " " + fields[4]));

        Assert.AreEqual("drwxr-xr-x", listing["app/"].Mode);
        Assert.AreEqual("-rwxr-xr-x", listing["app/MyApp"].Mode);
        Assert.AreEqual("-rw-r--r--", listing["app/MyApp.dll"].Mode);
        Assert.AreEqual("drwxr-xr-x", listing["app/wwwroot/"].Mode);
        Assert.AreEqual("lrwxrwxrwx", listing["app/current -> MyApp.dll"].Mode);
        Assert.AreEqual("-rw-r--r--", listing["app/" + LongPath].Mode);
        Assert.AreEqual("-rw-r--r--", listing["app/données-日本.txt"].Mode);
        Assert.IsTrue(listing.Values.All(entry => entry.Owner == "0/0"), string.Join('\n', listing.Keys));
        Assert.IsTrue(listing.Values.All(entry => entry.Time == "2023-11-14 22:13"), "every entry has the fixed timestamp");
    }

    [TestMethod]
    public async Task Gnu_tar_extracts_the_same_bytes_as_the_inputs()
    {
        var tar = LayerTestFiles.RequireTool("tar", "tar");
        using var work = new TemporaryDirectory();
        var publish = new TemporaryDirectory();
        using var publishCleanup = publish;
        WriteInputs(publish);
        var layer = await LayerWriter.WriteToDirectoryAsync(LayerPlan.Empty.AddDirectoryTree(publish.Path, "/app"), work.Combine("blobs"));
        Directory.CreateDirectory(work.Combine("out"));

        await LayerTestFiles.RunCheckedAsync(tar, "-xzf", work.Combine("blobs", layer.Descriptor.Digest.Hex), "-C", work.Combine("out"));

        AssertTreeMatchesInputs(publish.Path, work.Combine("out", "app"));
    }

    [TestMethod]
    [DataRow(LayerCompression.Gzip)]
    [DataRow(LayerCompression.None)]
    public async Task Umoci_unpacks_an_image_with_the_layer_into_files_equal_to_the_inputs(LayerCompression compression)
    {
        var umoci = LayerTestFiles.RequireTool("umoci", "umoci");
        using var work = new TemporaryDirectory();
        var publish = new TemporaryDirectory();
        using var publishCleanup = publish;
        WriteInputs(publish);
        var layout = work.Combine("layout");
        var blobs = Path.Combine(layout, "blobs", "sha256");
        var layer = await LayerWriter.WriteToDirectoryAsync(
            LayerPlan.Empty.AddDirectoryTree(publish.Path, "/app").AddSymlink("/usr/local/bin/myapp", "/app/MyApp"),
            blobs, new LayerWriteOptions { Compression = compression });
        WriteLayout(layout, Image.Empty(Platform.LinuxAmd64).AppendLayers(layer), "test");

        string[] rootless = Environment.UserName == "root" ? [] : ["--rootless"];
        await LayerTestFiles.RunCheckedAsync(umoci, ["unpack", .. rootless, "--image", layout + ":test", work.Combine("bundle")]);

        var rootfs = work.Combine("bundle", "rootfs");
        AssertTreeMatchesInputs(publish.Path, Path.Combine(rootfs, "app"));
        Assert.AreEqual("/app/MyApp", new FileInfo(Path.Combine(rootfs, "usr", "local", "bin", "myapp")).LinkTarget);
    }

    private static void WriteInputs(TemporaryDirectory directory)
    {
        LayerTestFiles.WriteSampleApp(directory, alternateHostModes: true);
        directory.WriteFile("données-日本.txt", "unicode name\n", LayerTestFiles.Mode0600);
        directory.WriteFile(LongPath, "long name\n", LayerTestFiles.Mode0644);
        var random = new byte[700_000]; // the tar spans several of the gzip writer's 256 KiB blocks
        new Random(7).NextBytes(random);
        directory.WriteFile("lib/native.so", random, LayerTestFiles.Mode0775);

        // Blocks of random bytes are stored and blocks of base64 get Huffman codes only (BlockProbe): readers must take both.
        directory.WriteFile("lib/native.so.b64", System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(random)), LayerTestFiles.Mode0644);
    }

    private static void AssertTreeMatchesInputs(string inputRoot, string unpackedRoot)
    {
        var inputs = Directory.EnumerateFileSystemEntries(inputRoot, "*", SearchOption.AllDirectories).Select(path => Path.GetRelativePath(inputRoot, path)).Order(StringComparer.Ordinal).ToList();
        var unpacked = Directory.EnumerateFileSystemEntries(unpackedRoot, "*", SearchOption.AllDirectories).Select(path => Path.GetRelativePath(unpackedRoot, path)).Order(StringComparer.Ordinal).ToList();
        CollectionAssert.AreEqual(inputs, unpacked, string.Join(", ", unpacked));

        foreach (var relative in inputs)
        {
            var input = Path.Combine(inputRoot, relative);
            var output = Path.Combine(unpackedRoot, relative);
            var inputInfo = new FileInfo(input);
            if (inputInfo.LinkTarget is { } target)
            {
                Assert.AreEqual(target, new FileInfo(output).LinkTarget, relative);
            }
            else if (Directory.Exists(input))
            {
                Assert.AreEqual((UnixFileMode)0b111_101_101, File.GetUnixFileMode(output), relative);
            }
            else
            {
                CollectionAssert.AreEqual(File.ReadAllBytes(input), File.ReadAllBytes(output), relative);
                var executable = (File.GetUnixFileMode(input) & UnixFileMode.UserExecute) != 0;
                Assert.AreEqual(executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100, File.GetUnixFileMode(output), relative);
            }
        }
    }

    internal static void WriteLayout(string layout, Image image, string tag)
    {
        var blobs = Path.Combine(layout, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        File.WriteAllBytes(Path.Combine(blobs, image.Manifest.Config.Digest.Hex), image.ConfigBytes.ToArray());
        File.WriteAllBytes(Path.Combine(blobs, image.ManifestDescriptor.Digest.Hex), image.ManifestBytes.ToArray());
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var index = new ImageIndex
        {
            MediaType = MediaTypes.OciIndex,
            Manifests = [image.ManifestDescriptor with { Annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag } }],
        };
        File.WriteAllBytes(Path.Combine(layout, "index.json"), OciJson.Serialize(index));
    }
}
