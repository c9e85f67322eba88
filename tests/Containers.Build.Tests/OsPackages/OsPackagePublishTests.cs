using System.Text;
using System.Text.Json.Nodes;
using Containers.Build.OsPackages;
using Containers.Build.Publishing;
using Containers.Build.SupplyChain;
using Containers.Build.Tests.Publishing;
using Containers.Oci.References;
using Containers.TestSupport;

namespace Containers.Build.Tests.OsPackages;

/// <summary>
/// The publisher with ContainerOsPackage: curl and fonts-dejavu-core from a real signed repository onto the real
/// test base, written to an OCI layout, unpacked by umoci and run by runc (curl fetches from the repository).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class OsPackagePublishTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Publish_AddsTheOsPackagesLayer_ThatRunsUnderRunc_SameDigestTwice_ListedInTheSbom()
    {
        var baseLayout = TestBaseImages.LayoutDirectory;
        await using var repository = await LocalAptRepository.CreateAsync(["curl", "fonts-dejavu-core"], TestContext.CancellationToken);
        using var work = new TemporaryDirectory("os-packages-publish-");
        var publish = PublishFixture.MakePublishDirectory(work);
        var results = new List<ContainerPublishResult>();
        foreach (var run in new[] { "first", "second" })
        {
            var root = Path.Combine(work, run);
            var request = PublishFixture.Request(publish, work, new ContainerDestination.OciLayoutDirectory(Path.Combine(root, "out"), "app") { Tags = ["1.0"] },
                ImageReference.Parse("localhost/base:runtime-deps-10.0"), baseLayout, Path.Combine(root, "layer-cache")) with
            {
                OsPackages = new OsPackageOptions(
                    [new OsPackageRequest("curl"), new OsPackageRequest("fonts-dejavu-core")],
                    [new AptSource(repository.Uri, LocalAptRepository.Suite, [LocalAptRepository.Component], repository.KeyFile)],
                    Path.Combine(root, OsPackageLockFile.FileName),
                    Path.Combine(root, "os-packages-cache")),
                Sbom = new ContainerSbomOptions { Format = SbomFormat.CycloneDx },
            };
            var publisher = new ContainerPublisher(progress: new Progress<PublishProgress>(p => TestContext.WriteLine(p.Message)));
            results.Add(await publisher.PublishAsync(request, TestContext.CancellationToken));
        }

        Assert.AreEqual(results[0].Digest, results[1].Digest, "two clean directories give the same image");
        var layers = results[0].Images[0].Layers.Select(l => l.Name).ToArray();
        var osLayer = Array.IndexOf(layers, OsPackageInstaller.LayerName);
        Assert.IsTrue(osLayer > 0 && layers[..osLayer].All(n => n == "base") && layers[(osLayer + 1)..].All(n => n != "base"), string.Join(", ", layers));
        var curl = results[0].Images[0].OsPackages.Single(p => p.Locked.Name == "curl");

        var sbom = Encoding.UTF8.GetString(results[0].Sboms[0].Content.Span);
        StringAssert.Contains(sbom, $"\"purl\": \"pkg:deb/debian/curl@{curl.Locked.Version}?arch=amd64\"");
        StringAssert.Contains(sbom, "pkg:deb/debian/fonts-dejavu-core@");
        StringAssert.Contains(sbom, "\"value\": \"curl " + curl.Locked.SourceVersion + "\"");

        // Run it: umoci unpacks the image as a runtime would, runc runs curl inside against the repository.
        TestTools.Require("umoci", "umoci");
        TestTools.Require("runc", "runc");
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("requires root for runc run (umoci unpack + runc run)");
        }

        var bundle = Path.Combine(work, "bundle");
        await TestTools.RunCheckedAsync("umoci", ["unpack", "--image", $"{Path.Combine(work, "first", "out")}:1.0", bundle], cancellationToken: TestContext.CancellationToken);
        Assert.IsTrue(File.Exists(Path.Combine(bundle, "rootfs/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")), "the font is where fontconfig looks (/usr/share/fonts)");
        Assert.IsTrue(File.Exists(Path.Combine(bundle, "rootfs/var/lib/dpkg/status.d/curl")));
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(configPath, TestContext.CancellationToken))!.AsObject();
        var process = config["process"]!.AsObject();
        process["terminal"] = false;
        process.Remove("rlimits");
        process["args"] = new JsonArray("curl", "-fsS", new Uri(repository.Uri, $"dists/{LocalAptRepository.Suite}/Release").ToString());
        if (config["linux"]?["namespaces"] is JsonArray namespaces)
        {
            foreach (var network in namespaces.Where(n => (string?)n?["type"] == "network").ToList())
            {
                namespaces.Remove(network);
            }
        }

        await File.WriteAllTextAsync(configPath, config.ToJsonString(), TestContext.CancellationToken);
        var id = "containers-sdk-os-packages-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var ran = await TestTools.RunAsync("runc", ["run", "--bundle", bundle, id], cancellationToken: TestContext.CancellationToken);
            Assert.AreEqual(0, ran.ExitCode, ran.StandardError);
            StringAssert.Contains(ran.StandardOutput, "Origin: Containers.Sdk tests");
        }
        finally
        {
            await TestTools.RunAsync("runc", ["delete", "--force", id]);
        }
    }
}
