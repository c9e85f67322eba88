using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>Where the layer cache goes when nothing sets it (docs/caches.md).</summary>
public sealed partial class PublishContainerTests
{
    [TestMethod]
    public async Task The_default_layer_cache_is_in_the_users_data_directory_even_before_that_exists()
    {
        var project = TestProject.Create("CacheDefault");
        var dataHome = Path.Combine(PackageFeed.NewWorkDirectory("data-home"), "not-made-yet");

        // A fresh CI user: XDG_DATA_HOME (or ~/.local/share) not made yet. The cache must not fall back to a relative path.
        var result = await project.DotnetAsync(
            ["msbuild", project.ProjectFile, "-restore", "-nologo", "-t:ComputeContainerBaseImage", "-getProperty:ContainerLayerCacheDirectory"],
            new Dictionary<string, string> { ["ContainerLayerCacheDirectory"] = "", ["XDG_DATA_HOME"] = dataHome },
            TestContext.CancellationToken);

        Assert.AreEqual(0, result.ExitCode, result.StandardOutput + result.StandardError);
        Assert.AreEqual(Path.Combine(dataHome, "containers-sdk", "layers") + "/", result.StandardOutput.Trim());
    }
}
