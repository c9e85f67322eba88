using System.Net;
using System.Net.Sockets;
using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// The apps in samples/, copied out of the repository, published to the local registry against the
/// test base images and run with umoci + runc: the console app prints, the web API answers /healthz,
/// the worker logs heartbeats.
/// </summary>
public sealed partial class PublishContainerTests
{
    private async Task<string> PublishSampleAsync(string sample, params string[] properties)
    {
        var root = PackageFeed.NewWorkDirectory("sample");
        var samples = Path.Combine(PackageFeed.RepositoryRoot, "samples");
        File.Copy(Path.Combine(samples, "Directory.Build.props"), Path.Combine(root, "Directory.Build.props"));
        CopyDirectory(Path.Combine(samples, sample), Path.Combine(root, sample));
        TestProject.WriteNuGetConfig(root);
        var sampleProject = Path.Combine(root, sample, sample + ".csproj");

        // The registry is the destination unless the caller names another (LocalRegistry=containerd).
        var destination = properties.Any(p => p.StartsWith("LocalRegistry=", StringComparison.Ordinal)) ? [] : new[] { $"-p:ContainerRegistry={Registry.Host}" };
        var result = await TestProject.RunDotnetAsync(
            ["publish", sampleProject, "-t:PublishContainer", "-nologo", $"-p:ContainersSdkVersion={PackageFeed.PackageVersion}", .. destination, $"-p:ContainerBaseRegistry={Registry.Host}", .. properties.Select(p => "-p:" + p)],
            root,
            TestContext.CancellationToken);
        Assert.AreEqual(0, result.ExitCode, result.StandardOutput + result.StandardError);
        LastSamplePublishOutput = result.StandardOutput;
        return root;
    }

    [TestMethod]
    public async Task ConsoleApp_sample_prints_from_the_container()
    {
        RuncRunner.RequireRunc();
        var root = await PublishSampleAsync("ConsoleApp");

        var layout = await Registry.CopyToLayoutAsync("samples/console-app:latest", root, TestContext.CancellationToken);
        var bundle = await RuncRunner.UnpackAsync(layout, "image", root, TestContext.CancellationToken);
        var run = await RuncRunner.RunToCompletionAsync(bundle, TestContext.CancellationToken);

        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        Assert.Contains("Hello from ConsoleApp on", run.StandardOutput);
        Assert.Contains("Working directory: /app", run.StandardOutput);
    }

    [TestMethod]
    public async Task WebApi_sample_answers_healthz_from_the_container()
    {
        RuncRunner.RequireRunc();
        var root = await PublishSampleAsync("WebApi", "ContainerImageReferencesFile=deploy/image-refs.txt");
        var port = FreePort();

        // The references file names the pushed manifest by digest, as a Kubernetes manifest would.
        var digest = await Registry.DigestAsync("samples/web-api:latest", TestContext.CancellationToken);
        Assert.AreEqual($"{Registry.Host}/samples/web-api@{digest}\n", await File.ReadAllTextAsync(Path.Combine(root, "WebApi", "deploy", "image-refs.txt"), TestContext.CancellationToken));

        var layout = await Registry.CopyToLayoutAsync("samples/web-api:latest", root, TestContext.CancellationToken);
        var bundle = await RuncRunner.UnpackAsync(layout, "image", root, TestContext.CancellationToken, new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await using var container = await RuncRunner.StartDetachedAsync(bundle, TestContext.CancellationToken);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string? answer = null;
        for (var attempt = 0; attempt < 120 && answer is null; attempt++)
        {
            try
            {
                answer = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz"), TestContext.CancellationToken);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(500, TestContext.CancellationToken);
            }
        }

        Assert.AreEqual("ok", answer, container.ReadLog());
        var todos = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/todos/1"), TestContext.CancellationToken);
        Assert.Contains("Publish an image without Docker", todos);
    }

    [TestMethod]
    public async Task Worker_sample_logs_heartbeats_in_the_container()
    {
        RuncRunner.RequireRunc();
        var root = await PublishSampleAsync("Worker");

        var layout = await Registry.CopyToLayoutAsync("samples/worker:latest", root, TestContext.CancellationToken);
        var bundle = await RuncRunner.UnpackAsync(layout, "image", root, TestContext.CancellationToken);
        await using var container = await RuncRunner.StartDetachedAsync(bundle, TestContext.CancellationToken);
        for (var attempt = 0; attempt < 120 && !container.ReadLog().Contains("Worker heartbeat 2", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(500, TestContext.CancellationToken);
        }

        Assert.Contains("Worker heartbeat 2", container.ReadLog());
    }

    // What the last PublishSampleAsync printed, for tests that check the build's own lines.
    private string LastSamplePublishOutput { get; set; } = "";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
