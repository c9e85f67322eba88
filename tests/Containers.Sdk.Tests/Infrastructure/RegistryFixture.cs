using Containers.TestSupport;

namespace Containers.Sdk.Tests.Infrastructure;

/// <summary>
/// One local distribution registry for the end-to-end tests, holding the test base images as
/// <c>&lt;host&gt;/dotnet/{runtime,aspnet,runtime-deps,multiarch}:10.0</c> (copied with skopeo from the
/// OCI layout eng/base-images.sh makes). Projects point the inferred base image at it with
/// ContainerBaseRegistry.
/// </summary>
public sealed class RegistryFixture : IAsyncDisposable
{
    private static readonly (string LayoutReference, string Repository)[] BaseImages =
    [
        ("runtime-10.0", "dotnet/runtime"),
        ("aspnet-10.0", "dotnet/aspnet"),
        ("runtime-deps-10.0", "dotnet/runtime-deps"),
        ("multiarch-10.0", "dotnet/multiarch"),
    ];

    private RegistryFixture(TestRegistry registry) => Registry = registry;

    /// <summary>The registry.</summary>
    public TestRegistry Registry { get; }

    /// <summary>host:port.</summary>
    public string Host => Registry.Host;

    /// <summary>Starts the registry and pushes the base images (with <paramref name="onlyRuntime"/>, only dotnet/runtime).</summary>
    public static async Task<RegistryFixture> StartAsync(CancellationToken cancellationToken, RegistryAuthMode mode = RegistryAuthMode.Anonymous, bool onlyRuntime = false)
    {
        var layout = TestBaseImages.LayoutDirectory;
        TestTools.Require("skopeo", "skopeo");
        var registry = await TestRegistry.StartAsync(mode, cancellationToken);
        try
        {
            foreach (var (reference, repository) in onlyRuntime ? BaseImages.Take(1) : BaseImages)
            {
                string[] credentials = mode == RegistryAuthMode.Anonymous ? [] : ["--dest-creds", $"{registry.Username}:{registry.Password}"];
                await TestTools.RunCheckedAsync(
                    "skopeo",
                    ["copy", "--quiet", "--all", "--dest-tls-verify=false", .. credentials, $"oci:{layout}:{reference}", $"docker://{registry.Host}/{repository}:10.0"],
                    cancellationToken: cancellationToken);
            }

            return new RegistryFixture(registry);
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>skopeo inspect</c> (config view, or the raw manifest/index with <paramref name="raw"/>).</summary>
    public Task<ToolResult> InspectAsync(string repositoryAndTag, bool raw, CancellationToken cancellationToken) =>
        TestTools.RunCheckedAsync(
            "skopeo",
            raw ? ["inspect", "--raw", "--tls-verify=false", $"docker://{Host}/{repositoryAndTag}"] : ["inspect", "--tls-verify=false", $"docker://{Host}/{repositoryAndTag}"],
            cancellationToken: cancellationToken);

    /// <summary>The digest of what <paramref name="repositoryAndTag"/> names, as <c>skopeo inspect</c> reports it.</summary>
    public async Task<string> DigestAsync(string repositoryAndTag, CancellationToken cancellationToken)
    {
        var inspected = await InspectAsync(repositoryAndTag, raw: false, cancellationToken);
        return System.Text.Json.JsonDocument.Parse(inspected.StandardOutput).RootElement.GetProperty("Digest").GetString()!;
    }

    /// <summary>Copies an image from the registry into an OCI layout (for umoci).</summary>
    public async Task<string> CopyToLayoutAsync(string repositoryAndTag, string directory, CancellationToken cancellationToken)
    {
        var layout = Path.Combine(directory, "pulled-" + Guid.NewGuid().ToString("N")[..8]);
        await TestTools.RunCheckedAsync(
            "skopeo",
            ["copy", "--quiet", "--src-tls-verify=false", $"docker://{Host}/{repositoryAndTag}", $"oci:{layout}:image"],
            cancellationToken: cancellationToken);
        return layout;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Registry.DisposeAsync();
}
