namespace Containers.Cli.Tests;

/// <summary>
/// samples/WebApi as an image, built once per test run on first use: published with <c>dotnet publish
/// -t:PublishContainer</c> and the freshly packed Containers.Sdk onto the test base image dotnet/aspnet:10.0 (pushed with
/// skopeo to a TestRegistry), into that registry; then copied with skopeo, an independent tool, into an OCI layout, an
/// OCI archive and a docker-archive — the four forms <c>run</c> takes.
/// </summary>
public static class WebApiImage
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TestRegistry? s_registry;
    private static Forms? s_forms;

    /// <summary>Where the image is, in each form, as <c>run</c> takes it.</summary>
    /// <param name="Registry">A registry reference.</param>
    /// <param name="Layout"><c>oci:DIR:TAG</c>.</param>
    /// <param name="OciArchive"><c>oci-archive:FILE</c>.</param>
    /// <param name="DockerArchive"><c>docker-archive:FILE</c>.</param>
    public sealed record Forms(string Registry, string Layout, string OciArchive, string DockerArchive);

    /// <summary>The image, built on first use.</summary>
    public static async Task<Forms> GetAsync(CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            return s_forms ??= await BuildAsync(cancellationToken);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Stops the registry.</summary>
    public static async Task DisposeAsync()
    {
        if (s_registry is not null)
        {
            await s_registry.DisposeAsync();
        }
    }

    private static async Task<Forms> BuildAsync(CancellationToken cancellationToken)
    {
        var baseImages = TestBaseImages.LayoutDirectory;
        TestTools.Require("skopeo", "skopeo");
        s_registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, cancellationToken);
        var registry = s_registry.Host;
        await TestTools.RunCheckedAsync("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", $"oci:{baseImages}:aspnet-10.0", $"docker://{registry}/dotnet/aspnet:10.0"], cancellationToken: cancellationToken);

        // The sample as a user has it: its directory and the samples' build files, the feed in a NuGet.config.
        var root = CliTool.NewWorkDirectory("webapi");
        var samples = Path.Combine(LocalPackageFeed.RepositoryRoot, "samples");
        File.Copy(Path.Combine(samples, "Directory.Build.props"), Path.Combine(root, "Directory.Build.props"));
        File.Copy(Path.Combine(samples, "Directory.Build.targets"), Path.Combine(root, "Directory.Build.targets"));
        CopyDirectory(Path.Combine(samples, "WebApi"), Path.Combine(root, "WebApi"));
        await File.WriteAllTextAsync(Path.Combine(root, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="containers-cli-tests" value="{CliTool.PackageFeed.FeedDirectory}" />
              </packageSources>
            </configuration>
            """, cancellationToken);
        var environment = CliTool.Quiet();
        environment["NUGET_PACKAGES"] = CliTool.PackageFeed.PackagesDirectory;
        environment["ContainerLayerCacheDirectory"] = Path.Combine(root, "layer-cache");
        environment["ContainerUseBuildServer"] = "false";
        await TestTools.RunCheckedAsync(
            "dotnet",
            ["publish", Path.Combine(root, "WebApi"), "-c", "Release", "-t:PublishContainer", "-nologo", "-v:q", $"-p:ContainersSdkVersion={CliTool.Version}", $"-p:ContainerRegistry={registry}", $"-p:ContainerBaseRegistry={registry}", "-p:ContainerImageTag=test"],
            root,
            environment,
            cancellationToken);

        var reference = $"{registry}/samples/web-api:test";
        var layout = Path.Combine(root, "layout");
        var ociArchive = Path.Combine(root, "web-api.oci.tar");
        var dockerArchive = Path.Combine(root, "web-api.docker.tar");
        await TestTools.RunCheckedAsync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", $"docker://{reference}", $"oci:{layout}:test"], cancellationToken: cancellationToken);
        await TestTools.RunCheckedAsync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", $"docker://{reference}", $"oci-archive:{ociArchive}:test"], cancellationToken: cancellationToken);
        await TestTools.RunCheckedAsync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", $"docker://{reference}", $"docker-archive:{dockerArchive}:samples/web-api:test"], cancellationToken: cancellationToken);
        return new Forms(reference, $"oci:{layout}:test", $"oci-archive:{ociArchive}", $"docker-archive:{dockerArchive}");
    }

    private static void CopyDirectory(string source, string destination)
    {
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories).Where(d => !IsBuildOutput(source, d)))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, directory)));
        }

        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories).Where(f => !IsBuildOutput(source, f)))
        {
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
        }
    }

    private static bool IsBuildOutput(string root, string path) =>
        Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj";
}
