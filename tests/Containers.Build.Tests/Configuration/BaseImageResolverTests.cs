using Containers.Build.Configuration;

namespace Containers.Build.Tests.Configuration;

[TestClass]
public sealed class BaseImageResolverTests
{
    // kind: console | web | self-contained | aot | aot-invariant | trimmed
    [TestMethod]
    [DataRow("console", "10.0", "", "", "", "mcr.microsoft.com/dotnet/runtime:10.0")]
    [DataRow("web", "10.0", "", "", "", "mcr.microsoft.com/dotnet/aspnet:10.0")]
    [DataRow("self-contained", "10.0", "", "", "", "mcr.microsoft.com/dotnet/runtime-deps:10.0")]
    [DataRow("aot", "10.0", "", "", "", "mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled-extra")]
    [DataRow("aot-invariant", "10.0", "", "", "", "mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled")]
    [DataRow("trimmed", "10.0", "", "", "", "mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled-extra")]
    [DataRow("console", "9.0", "", "", "", "mcr.microsoft.com/dotnet/runtime:9.0")]
    [DataRow("web", "9.0", "", "", "", "mcr.microsoft.com/dotnet/aspnet:9.0")]
    [DataRow("web", "8.0", "", "", "", "mcr.microsoft.com/dotnet/aspnet:8.0")]
    [DataRow("aot", "8.0", "", "", "", "mcr.microsoft.com/dotnet/runtime-deps:8.0-noble-chiseled-extra")]
    [DataRow("console", "10.0", "noble-chiseled", "", "", "mcr.microsoft.com/dotnet/runtime:10.0-noble-chiseled-extra")]
    [DataRow("aot-invariant", "10.0", "noble-chiseled", "", "", "mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled")]
    [DataRow("web", "9.0", "alpine", "", "", "mcr.microsoft.com/dotnet/aspnet:9.0-alpine")]
    [DataRow("web", "8.0", "azurelinux3.0-distroless", "", "", "mcr.microsoft.com/dotnet/aspnet:8.0-azurelinux3.0-distroless")]
    [DataRow("console", "10.0", "", "linux-musl-x64", "", "mcr.microsoft.com/dotnet/runtime:10.0-alpine")]
    [DataRow("aot", "10.0", "", "linux-musl-arm64", "", "mcr.microsoft.com/dotnet/runtime-deps:10.0-alpine-extra")]
    [DataRow("console", "10.0", "noble-chiseled", "linux-musl-x64", "", "mcr.microsoft.com/dotnet/runtime:10.0-noble-chiseled")]
    [DataRow("console", "10.0", "", "", "127.0.0.1:5000", "127.0.0.1:5000/dotnet/runtime:10.0")]
    [DataRow("web", "9.0", "", "", "mirror.example.com/mcr", "mirror.example.com/mcr/dotnet/aspnet:9.0")]
    [DataRow("aot", "10.0", "noble-chiseled", "", "localhost:5000/", "localhost:5000/dotnet/runtime-deps:10.0-noble-chiseled-extra")]
    [DataRow("web", "8.0", "alpine", "", "registry.example.com:443/a/b", "registry.example.com:443/a/b/dotnet/aspnet:8.0-alpine")]
    public void Infers_the_base_image_like_the_sdk(string kind, string tfm, string family, string rid, string baseRegistry, string expected)
    {
        var project = Project(kind, tfm);
        var settings = new ContainerSettings { ContainerFamily = family, ContainerBaseRegistry = baseRegistry, ContainerRuntimeIdentifier = rid };

        var resolved = TestProjects.Resolve(settings, project);

        Assert.AreEqual(expected, resolved.BaseImage.ToString());
        Assert.AreEqual(expected, resolved.BaseImageName);
        Assert.IsTrue(resolved.IsBaseImageInferred);
    }

    [TestMethod]
    [DataRow("10.0.100-preview.7.25380.108", "10.0", "", "mcr.microsoft.com/dotnet/runtime:10.0.0-preview.7")]
    [DataRow("10.0.100-rc.1.25451.107", "10.0", "", "mcr.microsoft.com/dotnet/runtime:10.0.0-rc.1")]
    [DataRow("10.0.100-rc.1.25451.107", "10.0", "noble-chiseled", "mcr.microsoft.com/dotnet/runtime:10.0.0-rc.1-noble-chiseled")]
    [DataRow("10.0.100-alpha.1.25077.2", "10.0", "", "mcr.microsoft.com/dotnet/runtime:10.0-preview")]
    [DataRow("10.0.100-rtm.25512.1", "10.0", "", "mcr.microsoft.com/dotnet/runtime:10.0")]
    [DataRow("10.0.200-preview.1.26055.1", "10.0", "", "mcr.microsoft.com/dotnet/runtime:10.0")]
    [DataRow("10.0.100-preview.7.25380.108", "9.0", "", "mcr.microsoft.com/dotnet/runtime:9.0")]
    [DataRow("8.0.204", "8.0", "", "mcr.microsoft.com/dotnet/runtime:8.0")]
    public void Preview_sdks_pick_the_preview_tags_as_the_sdk_does(string sdk, string tfm, string family, string expected)
    {
        var resolved = TestProjects.Resolve(new ContainerSettings { ContainerFamily = family }, TestProjects.Console(tfm, sdk));

        Assert.AreEqual(expected, resolved.BaseImage.ToString());
    }

    [TestMethod]
    [DataRow("8.0.204", "mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled-extra")]
    [DataRow("8.0.300", "mcr.microsoft.com/dotnet/runtime-deps:8.0-noble-chiseled-extra")]
    [DataRow("8.0.300-preview.1.24172.1", "mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled-extra")]
    public void Aot_images_use_jammy_before_sdk_8_0_300_and_noble_after(string sdk, string expected)
    {
        var resolved = TestProjects.Resolve(new ContainerSettings(), TestProjects.Aot("8.0", sdk));

        Assert.AreEqual(expected, resolved.BaseImage.ToString());
    }

    [TestMethod]
    [DataRow("aot", "", "mcr.microsoft.com/dotnet/runtime-deps:7.0")]
    [DataRow("console", "linux-musl-x64", "mcr.microsoft.com/dotnet/runtime:7.0-alpine")]
    public void Frameworks_before_8_have_no_variants(string kind, string rid, string expected)
    {
        var resolved = TestProjects.Resolve(new ContainerSettings { ContainerRuntimeIdentifier = rid }, Project(kind, "7.0"));

        Assert.AreEqual(expected, resolved.BaseImage.ToString());
    }

    [TestMethod]
    public void An_explicit_base_image_is_used_as_given_and_named_as_given()
    {
        var resolved = TestProjects.Resolve(new ContainerSettings { ContainerBaseImage = "ubuntu:22.04" });

        Assert.AreEqual("docker.io/library/ubuntu:22.04", resolved.BaseImage.ToString());
        Assert.AreEqual("ubuntu:22.04", resolved.BaseImageName);
        Assert.IsFalse(resolved.IsBaseImageInferred);
    }

    [TestMethod]
    public void ContainerBaseRegistry_with_an_explicit_base_image_is_ignored_with_a_warning()
    {
        var resolution = ContainerSettingsResolver.Resolve(
            new ContainerSettings { ContainerBaseImage = "127.0.0.1:5000/base/runtime:10.0", ContainerBaseRegistry = "mirror.example.com" },
            TestProjects.Console());

        Assert.AreEqual("127.0.0.1:5000/base/runtime:10.0", resolution.GetSettingsOrThrow().BaseImage.ToString());
        var warning = resolution.Diagnostics.Single(d => d.Severity != ContainerDiagnosticSeverity.Info);
        Assert.AreEqual(ContainerDiagnosticCodes.BaseRegistryIgnored.Code, warning.Code);
        Assert.AreEqual(ContainerDiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("ContainerBaseRegistry", warning.Message);
    }

    [TestMethod]
    [DataRow("Ubuntu:22.04", "ContainerBaseImage", "CONTAINER7006")]
    [DataRow("mcr.microsoft.com/dotnet/runtime:10 0", "ContainerBaseImage", "CONTAINER7006")]
    public void An_invalid_base_image_is_an_error_naming_it(string baseImage, string property, string code)
    {
        var error = TestProjects.SingleError(new ContainerSettings { ContainerBaseImage = baseImage });

        Assert.AreEqual(code, error.Code);
        Assert.AreEqual(property, error.Property);
        Assert.Contains(baseImage, error.Message);
    }

    [TestMethod]
    [DataRow("https://mirror.example.com")]
    [DataRow("mirror.example.com/UPPER")]
    [DataRow("mirror example")]
    public void An_invalid_base_registry_is_an_error_naming_it(string baseRegistry)
    {
        var error = TestProjects.SingleError(new ContainerSettings { ContainerBaseRegistry = baseRegistry });

        Assert.AreEqual(ContainerDiagnosticCodes.InvalidBaseRegistry.Code, error.Code);
        Assert.Contains("ContainerBaseRegistry", error.Message);
        Assert.Contains(baseRegistry, error.Message);
    }

    [TestMethod]
    public void A_family_that_makes_an_invalid_tag_is_an_error_naming_ContainerFamily()
    {
        var error = TestProjects.SingleError(new ContainerSettings { ContainerFamily = "noble chiseled" });

        Assert.AreEqual(ContainerDiagnosticCodes.InvalidContainerFamily.Code, error.Code);
        Assert.Contains("ContainerFamily 'noble chiseled'", error.Message);
    }

    [TestMethod]
    public void Musl_and_glibc_rids_together_cannot_share_an_inferred_base()
    {
        var error = TestProjects.SingleError(new ContainerSettings { ContainerRuntimeIdentifiers = ["linux-musl-x64", "linux-arm64"] });

        Assert.AreEqual(ContainerDiagnosticCodes.MixedMuslRuntimeIdentifiers.Code, error.Code);
        Assert.Contains("linux-musl-x64;linux-arm64", error.Message);
    }

    [TestMethod]
    [DataRow("banana")]
    [DataRow("10.0.100-beta.1")]
    [DataRow("10.0.100-preview")]
    public void An_sdk_version_the_tags_cannot_follow_is_an_error(string sdk)
    {
        var error = TestProjects.SingleError(new ContainerSettings(), TestProjects.Console("10.0", sdk));

        Assert.AreEqual(ContainerDiagnosticCodes.InvalidSdkVersion.Code, error.Code);
        Assert.Contains(sdk, error.Message);
        Assert.Contains("ContainerBaseImage", error.Message);
    }

    private static ProjectFacts Project(string kind, string tfm) => kind switch
    {
        "console" => TestProjects.Console(tfm),
        "web" => TestProjects.Web(tfm),
        "self-contained" => TestProjects.SelfContained(tfm),
        "aot" => TestProjects.Aot(tfm),
        "aot-invariant" => TestProjects.Aot(tfm) with { UsesInvariantGlobalization = true },
        "trimmed" => TestProjects.SelfContained(tfm) with { IsTrimmed = true },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown kind"),
    };
}
