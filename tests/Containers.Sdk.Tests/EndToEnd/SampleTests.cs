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
    private async Task<string> PublishSampleAsync(string sample)
    {
        var root = PackageFeed.NewWorkDirectory("sample");
        var samples = Path.Combine(PackageFeed.RepositoryRoot, "samples");
        File.Copy(Path.Combine(samples, "Directory.Build.props"), Path.Combine(root, "Directory.Build.props"));
        CopyDirectory(Path.Combine(samples, sample), Path.Combine(root, sample));
        TestProject.WriteNuGetConfig(root);
        var sampleProject = Path.Combine(root, sample, sample + ".csproj");

        var result = await TestProject.RunDotnetAsync(
            ["publish", sampleProject, "-t:PublishContainer", "-nologo", $"-p:ContainersSdkVersion={PackageFeed.PackageVersion}", $"-p:ContainerRegistry={Registry.Host}", $"-p:ContainerBaseRegistry={Registry.Host}"],
            root,
            TestContext.CancellationToken);
        Assert.AreEqual(0, result.ExitCode, result.StandardOutput + result.StandardError);
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
        var root = await PublishSampleAsync("WebApi");
        var port = FreePort();

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
