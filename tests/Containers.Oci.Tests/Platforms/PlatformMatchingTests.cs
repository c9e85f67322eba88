using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.Models;
using Containers.Oci.Platforms;

namespace Containers.Oci.Tests.Platforms;

[TestClass]
public sealed class PlatformMatchingTests
{
    [TestMethod]
    [DataRow("linux", "amd64", null, "linux/amd64")]
    [DataRow("Linux", "AMD64", null, "linux/amd64")]
    [DataRow("linux", "x86_64", null, "linux/amd64")]
    [DataRow("linux", "x86-64", null, "linux/amd64")]
    [DataRow("linux", "amd64", "v1", "linux/amd64")]
    [DataRow("linux", "amd64", "v3", "linux/amd64/v3")]
    [DataRow("linux", "aarch64", null, "linux/arm64/v8")]
    [DataRow("linux", "arm64", null, "linux/arm64/v8")]
    [DataRow("linux", "arm64", "8", "linux/arm64/v8")]
    [DataRow("linux", "arm64", "v8.0", "linux/arm64/v8")]
    [DataRow("linux", "arm64", "V9", "linux/arm64/v9")]
    [DataRow("linux", "armhf", null, "linux/arm/v7")]
    [DataRow("linux", "armel", null, "linux/arm/v6")]
    [DataRow("linux", "arm", null, "linux/arm/v7")]
    [DataRow("linux", "arm", "7", "linux/arm/v7")]
    [DataRow("linux", "arm", "6", "linux/arm/v6")]
    [DataRow("linux", "arm", "v5", "linux/arm/v5")]
    [DataRow("linux", "i386", null, "linux/386")]
    [DataRow("linux", "i686", null, "linux/386")]
    [DataRow("linux", "x86", null, "linux/386")]
    [DataRow("macos", "arm64", null, "darwin/arm64/v8")]
    [DataRow("Windows", "AMD64", null, "windows/amd64")]
    [DataRow("linux", "s390x", null, "linux/s390x")]
    [DataRow("linux", "riscv64", "", "linux/riscv64")]
    public void Normalize_resolves_aliases_and_default_variants(string os, string architecture, string? variant, string expected)
    {
        var normalized = PlatformMatching.Normalize(new Platform { OS = os, Architecture = architecture, Variant = variant });

        Assert.AreEqual(expected, PlatformMatching.Format(normalized));
        Assert.AreEqual(normalized, PlatformMatching.Normalize(normalized));
    }

    [TestMethod]
    public void Normalize_keeps_os_version_and_features()
    {
        var platform = new Platform { OS = "Windows", Architecture = "x86_64", OSVersion = "10.0.20348.2227", OSFeatures = ["win32k"] };

        var normalized = PlatformMatching.Normalize(platform);

        Assert.AreEqual("windows", normalized.OS);
        Assert.AreEqual("amd64", normalized.Architecture);
        Assert.AreEqual("10.0.20348.2227", normalized.OSVersion);
        CollectionAssert.AreEqual(new[] { "win32k" }, normalized.OSFeatures!.ToArray());
    }

    [TestMethod]
    [DataRow("linux/amd64", "linux/amd64")]
    [DataRow("linux/arm64", "linux/arm64/v8")]
    [DataRow("linux/arm64/v8", "linux/arm64/v8")]
    [DataRow("linux/aarch64", "linux/arm64/v8")]
    [DataRow("linux/arm/v6", "linux/arm/v6")]
    [DataRow("linux/arm", "linux/arm/v7")]
    [DataRow("LINUX/X86_64", "linux/amd64")]
    [DataRow("windows(10.0.20348.2227)/amd64", "windows(10.0.20348.2227)/amd64")]
    public void Parse_reads_os_architecture_variant_and_os_version(string value, string expected)
    {
        var platform = PlatformMatching.Parse(value);

        Assert.AreEqual(expected, PlatformMatching.Format(platform));
        Assert.AreEqual(platform, PlatformMatching.Parse(PlatformMatching.Format(platform)));
    }

    [TestMethod]
    [DataRow("", "the platform is empty")]
    [DataRow("linux", "it has no architecture")]
    [DataRow("linux/", "the architecture is empty")]
    [DataRow("/amd64", "the operating system is empty")]
    [DataRow("linux/arm/", "the variant is empty")]
    [DataRow("linux/arm/v7/extra", "it has 4 parts")]
    [DataRow("linux/amd 64", "the architecture 'amd 64' must be letters, digits, '_' and '-'")]
    [DataRow("li.nux/amd64", "the operating system 'li.nux'")]
    [DataRow("windows(10.0/amd64", "has '(' without a closing ')'")]
    [DataRow("windows()/amd64", "the os.version '' must be")]
    public void Parse_refuses_malformed_platforms_saying_why(string value, string expected)
    {
        var error = Assert.ThrowsExactly<PlatformFormatException>(() => PlatformMatching.Parse(value));

        Assert.Contains(expected, error.Message);
        Assert.StartsWith($"'{value}' is not a valid platform: ", error.Message);
        Assert.AreEqual(value, error.Value);
        Assert.IsFalse(PlatformMatching.TryParse(value, out _, out _));
    }

    [TestMethod]
    [DataRow("linux/arm64", "linux/arm64/v8", true)]
    [DataRow("linux/arm64/v8", "linux/aarch64", true)]
    [DataRow("linux/arm", "linux/arm/v7", true)]
    [DataRow("linux/armhf", "linux/arm/v7", true)]
    [DataRow("linux/amd64", "linux/x86_64", true)]
    [DataRow("linux/amd64", "linux/amd64/v1", true)]
    [DataRow("linux/arm/v7", "linux/arm/v6", false)]
    [DataRow("linux/arm64", "linux/arm/v7", false)]
    [DataRow("linux/arm64", "linux/arm64/v9", false)]
    [DataRow("linux/amd64", "linux/386", false)]
    [DataRow("linux/amd64", "linux/amd64/v3", false)]
    [DataRow("linux/amd64", "windows/amd64", false)]
    [DataRow("windows(10.0.17763.1)/amd64", "windows(10.0.20348.1)/amd64", true)]
    public void Matches_compares_os_architecture_and_variant_after_normalization(string wanted, string candidate, bool expected)
    {
        var wantedPlatform = PlatformMatching.Parse(wanted);
        var candidatePlatform = PlatformMatching.Parse(candidate);

        Assert.AreEqual(expected, PlatformMatching.Matches(wantedPlatform, candidatePlatform));
        Assert.AreEqual(expected, PlatformMatching.Matches(candidatePlatform, wantedPlatform));
    }

    [TestMethod]
    public void Matches_normalizes_unparsed_platforms_too()
    {
        var raw = new Platform { OS = "Linux", Architecture = "aarch64" };

        Assert.IsTrue(PlatformMatching.Matches(Platform.LinuxArm64, raw));
        Assert.IsFalse(PlatformMatching.Matches(Platform.LinuxAmd64, raw));
    }

    [TestMethod]
    public void SelectManifest_picks_the_platform_and_never_an_attestation()
    {
        var index = BuildxIndex();

        var amd64 = PlatformMatching.SelectManifest(index.Manifests, Platform.LinuxAmd64);
        var arm64 = PlatformMatching.SelectManifest(index.Manifests, PlatformMatching.Parse("linux/arm64"));
        var unknown = PlatformMatching.SelectManifest(index.Manifests, new Platform { OS = "unknown", Architecture = "unknown" });

        Assert.AreEqual(Digest.Compute("amd64"u8), amd64?.Digest);
        Assert.AreEqual(Digest.Compute("arm64"u8), arm64?.Digest);
        Assert.IsNull(unknown);
    }

    [TestMethod]
    public void SelectManifest_skips_entries_without_platform_and_entries_that_are_not_image_manifests()
    {
        Descriptor[] manifests =
        [
            Entry("no platform", null),
            Entry("nested index", "linux/amd64", MediaTypes.OciIndex),
            Entry("config", "linux/amd64", MediaTypes.OciConfig),
            Entry("docker manifest", "linux/amd64", MediaTypes.DockerManifest),
        ];

        var selected = PlatformMatching.SelectManifest(manifests, Platform.LinuxAmd64);

        Assert.AreEqual(Digest.Compute("docker manifest"u8), selected?.Digest);
        Assert.IsNull(PlatformMatching.SelectManifest(manifests[..3], Platform.LinuxAmd64));
    }

    [TestMethod]
    public void SelectManifest_prefers_the_entry_whose_variant_is_spelled_like_the_request()
    {
        Descriptor[] manifests = [Entry("implicit", "linux/arm64", raw: true), Entry("explicit", "linux/arm64/v8", raw: true)];

        Assert.AreEqual(Digest.Compute("explicit"u8), PlatformMatching.SelectManifest(manifests, PlatformMatching.Parse("linux/arm64"))?.Digest);
        Assert.AreEqual(Digest.Compute("explicit"u8), PlatformMatching.SelectManifest(manifests, Platform.LinuxArm64)?.Digest);
        Assert.AreEqual(Digest.Compute("implicit"u8), PlatformMatching.SelectManifest(manifests, new Platform { OS = "linux", Architecture = "arm64" })?.Digest);
        Assert.AreEqual(Digest.Compute("explicit"u8), PlatformMatching.SelectManifest(manifests[1..], new Platform { OS = "linux", Architecture = "arm64" })?.Digest);
        Assert.AreEqual(Digest.Compute("implicit"u8), PlatformMatching.SelectManifest(manifests[..1], Platform.LinuxArm64)?.Digest);
    }

    [TestMethod]
    public void SelectManifest_does_not_fall_back_to_a_compatible_variant()
    {
        Descriptor[] manifests = [Entry("v6", "linux/arm/v6"), Entry("v8", "linux/arm64/v8")];

        Assert.IsNull(PlatformMatching.SelectManifest(manifests, PlatformMatching.Parse("linux/arm/v7")));
    }

    [TestMethod]
    [DataRow("10.0.20348.2227", "ltsc2022 exact")]
    // Both ltsc2022 entries share the build; the first in index order wins.
    [DataRow("10.0.20348.9999", "ltsc2022 other revision")]
    [DataRow("10.0.17763.5458", "ltsc2019")]
    [DataRow("10.0.26100.1", "unversioned")]
    [DataRow(null, "ltsc2019")]
    public void SelectManifest_prefers_the_exact_os_version_then_the_same_build_then_an_unversioned_one(string? osVersion, string expected)
    {
        Descriptor[] manifests =
        [
            Entry("ltsc2019", "windows(10.0.17763.5458)/amd64"),
            Entry("ltsc2022 other revision", "windows(10.0.20348.100)/amd64"),
            Entry("ltsc2022 exact", "windows(10.0.20348.2227)/amd64"),
            Entry("unversioned", "windows/amd64"),
            Entry("linux", "linux/amd64"),
        ];
        var wanted = new Platform { OS = "windows", Architecture = "amd64", OSVersion = osVersion };

        var selected = PlatformMatching.SelectManifest(manifests, wanted);

        Assert.AreEqual(Digest.Compute(Encoding.UTF8.GetBytes(expected)), selected?.Digest);
    }

    [TestMethod]
    public void SelectManifest_falls_back_to_another_os_version_when_nothing_closer_exists()
    {
        Descriptor[] manifests = [Entry("ltsc2019", "windows(10.0.17763.5458)/amd64")];

        var selected = PlatformMatching.SelectManifest(manifests, PlatformMatching.Parse("windows(10.0.20348.1)/amd64"));

        Assert.AreEqual(Digest.Compute("ltsc2019"u8), selected?.Digest);
    }

    [TestMethod]
    public void SelectManifestOrThrow_lists_the_platforms_the_image_offers()
    {
        var index = BuildxIndex();
        var wanted = PlatformMatching.Parse("linux/s390x");

        var error = Assert.ThrowsExactly<PlatformNotFoundException>(
            () => PlatformMatching.SelectManifestOrThrow(index.Manifests, wanted, "localhost:5000/base:1.0"));

        Assert.AreEqual(
            "The image 'localhost:5000/base:1.0' has no manifest for platform linux/s390x; it offers linux/amd64, linux/arm64/v8, linux/arm/v7. " +
            "Choose a platform the image offers, or a base image that supports linux/s390x.",
            error.Message);
        Assert.AreEqual("localhost:5000/base:1.0", error.ImageName);
        Assert.AreEqual(wanted, error.WantedPlatform);
        CollectionAssert.AreEqual(
            new[] { "linux/amd64", "linux/arm64/v8", "linux/arm/v7" },
            error.AvailablePlatforms.Select(PlatformMatching.Format).ToArray());
        Assert.IsInstanceOfType<OciException>(error);
    }

    [TestMethod]
    public void SelectManifestOrThrow_says_when_the_index_has_no_platform_manifests()
    {
        Descriptor[] manifests = [Entry("attestation", "unknown/unknown")];

        var error = Assert.ThrowsExactly<PlatformNotFoundException>(
            () => PlatformMatching.SelectManifestOrThrow(manifests, Platform.LinuxAmd64, "img"));

        Assert.Contains("its index lists no platform-specific image manifests", error.Message);
        Assert.IsEmpty(error.AvailablePlatforms);
    }

    [TestMethod]
    public void SelectManifestOrThrow_returns_the_match()
    {
        var index = BuildxIndex();

        var selected = PlatformMatching.SelectManifestOrThrow(index.Manifests, PlatformMatching.Parse("linux/armhf"), "img");

        Assert.AreEqual(Digest.Compute("arm"u8), selected.Digest);
    }

    [TestMethod]
    public void Attestations_are_recognized_by_annotation_or_unknown_platform()
    {
        var index = BuildxIndex();

        Assert.AreEqual(2, index.Manifests.Count(PlatformMatching.IsAttestation));
        Assert.IsTrue(PlatformMatching.IsAttestation(Entry("x", "unknown/unknown")));
        Assert.IsFalse(PlatformMatching.IsAttestation(Entry("x", "linux/amd64")));
    }

    /// <summary>An index shaped like the ones buildx pushes: images plus attestation manifests.</summary>
    private static ImageIndex BuildxIndex()
    {
        var amd64 = Digest.Compute("amd64"u8);
        var arm64 = Digest.Compute("arm64"u8);
        var arm = Digest.Compute("arm"u8);
        var attestation1 = Digest.Compute("attestation1"u8);
        var attestation2 = Digest.Compute("attestation2"u8);
        var json = $$$"""
            {
              "schemaVersion": 2,
              "mediaType": "application/vnd.oci.image.index.v1+json",
              "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{{{attestation1}}}", "size": 840,
                 "annotations": {"vnd.docker.reference.digest": "{{{amd64}}}", "vnd.docker.reference.type": "attestation-manifest"},
                 "platform": {"architecture": "unknown", "os": "unknown"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{{{amd64}}}", "size": 1200,
                 "platform": {"architecture": "amd64", "os": "linux"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{{{arm64}}}", "size": 1200,
                 "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{{{arm}}}", "size": 1200,
                 "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{{{attestation2}}}", "size": 840,
                 "annotations": {"vnd.docker.reference.digest": "{{{arm64}}}", "vnd.docker.reference.type": "attestation-manifest"},
                 "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
              ]
            }
            """;
        return OciJson.DeserializeIndex(Encoding.UTF8.GetBytes(json));
    }

    private static Descriptor Entry(string name, string? platform, string mediaType = MediaTypes.OciManifest, bool raw = false)
    {
        Platform? parsed = null;
        if (platform is not null)
        {
            if (raw)
            {
                var parts = platform.Split('/');
                parsed = new Platform { OS = parts[0], Architecture = parts[1], Variant = parts.Length > 2 ? parts[2] : null };
            }
            else
            {
                parsed = PlatformMatching.Parse(platform);
            }
        }

        return new Descriptor { MediaType = mediaType, Digest = Digest.Compute(Encoding.UTF8.GetBytes(name)), Size = 1, Platform = parsed };
    }
}
