using Containers.Oci.Platforms;

namespace Containers.Oci.Tests.Platforms;

[TestClass]
public sealed class RuntimeIdentifierPlatformsTests
{
    [TestMethod]
    [DataRow("linux-x64", "linux/amd64")]
    [DataRow("linux-arm64", "linux/arm64/v8")]
    [DataRow("linux-arm", "linux/arm/v7")]
    [DataRow("linux-x86", "linux/386")]
    [DataRow("linux-musl-x64", "linux/amd64")]
    [DataRow("linux-musl-arm64", "linux/arm64/v8")]
    [DataRow("linux-musl-arm", "linux/arm/v7")]
    [DataRow("linux-s390x", "linux/s390x")]
    [DataRow("linux-ppc64le", "linux/ppc64le")]
    [DataRow("linux-loongarch64", "linux/loong64")]
    [DataRow("linux-riscv64", "linux/riscv64")]
    [DataRow("win-x64", "windows/amd64")]
    [DataRow("win-x86", "windows/386")]
    [DataRow("win-arm64", "windows/arm64/v8")]
    [DataRow("osx-x64", "darwin/amd64")]
    [DataRow("osx-arm64", "darwin/arm64/v8")]
    public void Runtime_identifier_maps_to_its_platform(string runtimeIdentifier, string platform)
    {
        var mapped = RuntimeIdentifierPlatforms.ToPlatform(runtimeIdentifier);

        Assert.AreEqual(platform, PlatformMatching.Format(mapped));
        Assert.AreEqual(mapped, PlatformMatching.Normalize(mapped));
        Assert.IsTrue(RuntimeIdentifierPlatforms.TryToPlatform(runtimeIdentifier, out var tried));
        Assert.AreEqual(mapped, tried);
        Assert.AreNotSame(mapped, tried, "callers get their own copy, so setting AdditionalProperties cannot change the table");
    }

    [TestMethod]
    public void Every_known_runtime_identifier_maps_back_to_itself()
    {
        foreach (var runtimeIdentifier in RuntimeIdentifierPlatforms.KnownRuntimeIdentifiers)
        {
            var platform = RuntimeIdentifierPlatforms.ToPlatform(runtimeIdentifier);
            var musl = runtimeIdentifier.StartsWith("linux-musl-", StringComparison.Ordinal);

            Assert.AreEqual(runtimeIdentifier, RuntimeIdentifierPlatforms.ToRuntimeIdentifier(platform, musl));
        }
    }

    [TestMethod]
    [DataRow("linux", "aarch64", null, false, "linux-arm64")]
    [DataRow("linux", "x86_64", null, true, "linux-musl-x64")]
    [DataRow("linux", "arm", null, false, "linux-arm")]
    [DataRow("windows", "amd64", null, false, "win-x64")]
    [DataRow("macos", "arm64", null, false, "osx-arm64")]
    [DataRow("linux", "arm", "v6", false, null)]
    [DataRow("linux", "mips64le", null, false, null)]
    [DataRow("windows", "amd64", null, true, null)]
    public void Platform_maps_to_its_runtime_identifier(string os, string architecture, string? variant, bool musl, string? expected)
    {
        var platform = new Platform { OS = os, Architecture = architecture, Variant = variant };

        Assert.AreEqual(expected, RuntimeIdentifierPlatforms.ToRuntimeIdentifier(platform, musl));
    }

    [TestMethod]
    public void Unknown_runtime_identifier_is_named_and_the_known_ones_listed()
    {
        var error = Assert.ThrowsExactly<UnsupportedRuntimeIdentifierException>(() => RuntimeIdentifierPlatforms.ToPlatform("linux-mips64"));

        Assert.StartsWith("The runtime identifier 'linux-mips64' does not map to a container platform; known runtime identifiers are linux-x64, linux-arm64, ", error.Message);
        Assert.Contains("osx-arm64.", error.Message);
        Assert.AreEqual("linux-mips64", error.RuntimeIdentifier);
        Assert.Contains("win-arm64", error.KnownRuntimeIdentifiers);
        Assert.IsFalse(RuntimeIdentifierPlatforms.TryToPlatform("linux-mips64", out _));
        Assert.IsFalse(RuntimeIdentifierPlatforms.TryToPlatform(null, out _));
    }

    [TestMethod]
    public void Runtime_identifiers_are_case_sensitive_with_a_hint()
    {
        var error = Assert.ThrowsExactly<UnsupportedRuntimeIdentifierException>(() => RuntimeIdentifierPlatforms.ToPlatform("Linux-X64"));

        Assert.Contains("did you mean 'linux-x64'?", error.Message);
    }

    [TestMethod]
    public void Version_specific_runtime_identifier_gets_a_hint()
    {
        var error = Assert.ThrowsExactly<UnsupportedRuntimeIdentifierException>(() => RuntimeIdentifierPlatforms.ToPlatform("ubuntu.22.04-x64"));

        Assert.Contains("Version-specific runtime identifiers are not supported; use the portable one", error.Message);
    }
}
