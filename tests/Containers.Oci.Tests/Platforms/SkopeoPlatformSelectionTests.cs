using System.Diagnostics;
using System.Text.Json;
using Containers.Oci.Descriptors;
using Containers.Oci.Json;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Tests.Platforms;

/// <summary>
/// Checks <see cref="PlatformMatching.SelectManifest"/> against an independent implementation: skopeo
/// (containers/image) choosing an instance from the same index with --override-arch/--override-variant.
/// </summary>
[TestClass]
public sealed class SkopeoPlatformSelectionTests
{
    private static readonly (string Architecture, string? Variant)[] IndexPlatforms =
        [("amd64", null), ("arm64", null), ("arm64", "v8"), ("arm", "v7"), ("arm", "v6"), ("ppc64le", null)];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("amd64", null)]
    [DataRow("arm64", null)]
    [DataRow("arm64", "v8")]
    [DataRow("arm", null)]
    [DataRow("arm", "v7")]
    [DataRow("arm", "v6")]
    [DataRow("ppc64le", null)]
    public async Task Selection_agrees_with_skopeo(string architecture, string? variant)
    {
        var skopeo = FindTool("skopeo");
        var layout = Directory.CreateTempSubdirectory("platform-selection-");
        try
        {
            var index = WriteLayout(layout.FullName);
            var wanted = new Platform { OS = "linux", Architecture = architecture, Variant = variant };

            var ours = PlatformMatching.SelectManifest(index.Manifests, wanted);

            List<string> arguments = ["inspect", "--config", "--override-os", "linux", "--override-arch", architecture];
            if (variant is not null)
            {
                arguments.AddRange(["--override-variant", variant]);
            }

            arguments.Add($"oci:{layout.FullName}:multi");
            var config = JsonDocument.Parse(await RunAsync(skopeo, arguments, TestContext.CancellationToken)).RootElement;
            var skopeoPlatform = (config.GetProperty("architecture").GetString(), config.TryGetProperty("variant", out var v) ? v.GetString() : null);

            Assert.IsNotNull(ours);
            Assert.AreEqual(skopeoPlatform, (ours.Platform!.Architecture, ours.Platform.Variant));
        }
        finally
        {
            layout.Delete(recursive: true);
        }
    }

    [TestMethod]
    public async Task Neither_selects_a_platform_the_index_lacks()
    {
        var skopeo = FindTool("skopeo");
        var layout = Directory.CreateTempSubdirectory("platform-selection-");
        try
        {
            var index = WriteLayout(layout.FullName);

            var error = Assert.ThrowsExactly<PlatformNotFoundException>(
                () => PlatformMatching.SelectManifestOrThrow(index.Manifests, PlatformMatching.Parse("linux/s390x"), "multi"));
            Assert.Contains("linux/amd64, linux/arm64, linux/arm64/v8, linux/arm/v7, linux/arm/v6, linux/ppc64le", error.Message);

            var result = await RunUncheckedAsync(
                skopeo, ["inspect", "--config", "--override-os", "linux", "--override-arch", "s390x", $"oci:{layout.FullName}:multi"], TestContext.CancellationToken);
            Assert.AreNotEqual(0, result.ExitCode);
            Assert.Contains("s390x", result.Error);
        }
        finally
        {
            layout.Delete(recursive: true);
        }
    }

    /// <summary>An OCI layout whose "multi" ref is an index of config-only images, one per platform, plus an attestation.</summary>
    private static ImageIndex WriteLayout(string root)
    {
        var blobs = Directory.CreateDirectory(Path.Combine(root, "blobs", "sha256")).FullName;
        Descriptor WriteBlob(string mediaType, byte[] content)
        {
            var descriptor = Descriptor.For(mediaType, content);
            File.WriteAllBytes(Path.Combine(blobs, descriptor.Digest.Hex), content);
            return descriptor;
        }

        var manifests = new List<Descriptor>();
        foreach (var (architecture, variant) in IndexPlatforms.Append(("unknown", null)))
        {
            var os = architecture == "unknown" ? "unknown" : "linux";
            var config = new ImageConfig
            {
                OS = os,
                Architecture = architecture,
                Variant = variant,
                RootFs = new RootFs { Type = "layers", DiffIds = [] },
            };
            var configDescriptor = WriteBlob(MediaTypes.OciConfig, OciJson.Serialize(config));
            var manifest = new ImageManifest { MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = [] };
            var descriptor = WriteBlob(MediaTypes.OciManifest, OciJson.Serialize(manifest)) with
            {
                Platform = new Platform { OS = os, Architecture = architecture, Variant = variant },
            };
            manifests.Add(os == "unknown"
                ? descriptor with { Annotations = new Dictionary<string, string> { [PlatformMatching.ReferenceTypeAnnotation] = PlatformMatching.AttestationManifestType } }
                : descriptor);
        }

        // The attestation goes first: a selection that ignored the annotation could still be fooled by order.
        manifests.Insert(0, manifests[^1]);
        manifests.RemoveAt(manifests.Count - 1);
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests };
        var indexDescriptor = WriteBlob(MediaTypes.OciIndex, OciJson.Serialize(index)) with
        {
            Annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = "multi" },
        };
        var top = new ImageIndex { Manifests = [indexDescriptor] };
        File.WriteAllBytes(Path.Combine(root, "index.json"), OciJson.Serialize(top));
        File.WriteAllText(Path.Combine(root, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        return index;
    }

    private static string FindTool(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, name);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Inconclusive($"requires {name} (apt-get install {name})");
        return name;
    }

    private static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunUncheckedAsync(fileName, arguments, cancellationToken);
        Assert.AreEqual(0, result.ExitCode, $"{fileName} failed: {result.Error}");
        return result.Output;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunUncheckedAsync(
        string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
