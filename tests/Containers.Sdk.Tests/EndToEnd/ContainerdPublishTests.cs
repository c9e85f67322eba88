using System.Globalization;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// LocalRegistry=containerd: the WebApi sample published into a real containerd (Debian's, started on its own
/// socket) and run from there with <c>ctr run</c>, answering /healthz; and the errors for a containerd that is not there.
/// </summary>
public sealed partial class PublishContainerTests
{
    private const string KubernetesNamespace = "k8s.io";

    [TestMethod]
    public async Task WebApi_sample_published_into_containerd_runs_with_ctr_run()
    {
        RuncRunner.RequireRunc();
        TestTools.Require("containerd-shim-runc-v2", "containerd");
        var runDirectoryExisted = Directory.Exists("/run/containerd");
        await using var containerd = await TestContainerd.StartAsync(TestContext.CancellationToken);
        var image = "docker.io/samples/web-api:latest";
        var containerId = "webapi-" + Guid.NewGuid().ToString("N")[..8];

        var root = await PublishSampleAsync("WebApi", "LocalRegistry=containerd", $"ContainerContainerdAddress={containerd.Address}", "ContainerImageReferencesFile=refs.txt");

        Assert.Contains($"Published {image} (for containerd at {containerd.Address} (namespace {KubernetesNamespace}))", LastSamplePublishOutput);
        var digest = (await containerd.CtrAsync(KubernetesNamespace, ["images", "ls"], TestContext.CancellationToken))
            .Split('\n').Single(l => l.StartsWith(image, StringComparison.Ordinal))
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[2];
        Assert.AreEqual($"docker.io/samples/web-api@{digest}\n", await File.ReadAllTextAsync(Path.Combine(root, "WebApi", "refs.txt"), TestContext.CancellationToken));

        // Publishing again changes nothing and sends nothing.
        await PublishSampleAsync("WebApi", "LocalRegistry=containerd", $"ContainerContainerdAddress={containerd.Address}");
        Assert.Contains(", sent 0 B, already in containerd", LastSamplePublishOutput);

        var port = FreePort().ToString(CultureInfo.InvariantCulture);
        try
        {
            // ctr run unpacks the image into a snapshot first, as a Kubernetes node does when it starts a pod.
            await containerd.CtrAsync(KubernetesNamespace, ["run", "-d", "--net-host", "--env", $"ASPNETCORE_HTTP_PORTS={port}", image, containerId], TestContext.CancellationToken);
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

            Assert.AreEqual("ok", answer, containerd.ReadLog());
        }
        finally
        {
            await RemoveContainerAsync(containerd, containerId);
        }

        // The image's unpacked layers stay (as on a node); the container's own snapshot is gone.
        Assert.DoesNotContain(containerId, await containerd.CtrAsync(KubernetesNamespace, ["snapshots", "ls"], TestContext.CancellationToken));
        var address = containerd.Address;
        var directory = containerd.Directory;
        await containerd.DisposeAsync();
        Assert.AreEqual(0, TestContainerd.ProcessesMentioning(address).Count, "no containerd or shim is left");
        Assert.AreEqual(0, TestContainerd.MountsUnder(directory).Count, "no mount is left");
        Assert.IsFalse(Directory.Exists(directory), "containerd's directory is gone");
        if (!runDirectoryExisted)
        {
            Assert.IsFalse(Directory.Exists("/run/containerd"), "nothing is left in /run/containerd either");
        }
    }

    [TestMethod]
    public async Task LocalRegistry_containerd_without_containerd_and_an_unknown_LocalRegistry_fail_with_coded_errors()
    {
        var project = TestProject.Create("NoContainerd", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry>");
        var socket = Path.Combine(project.Directory, "containerd.sock");

        var missing = await PublishAsync(project, "LocalRegistry=containerd", $"ContainerContainerdAddress={socket}", "ContainerImageReferencesFile=refs.txt");

        Assert.AreNotEqual(0, missing.ExitCode);
        Assert.Contains($"error CONTAINER8062: containerd is not running at {socket}: there is no socket there.", missing.StandardOutput);
        Assert.Contains("set ContainerContainerdAddress", missing.StandardOutput);
        Assert.DoesNotContain("   at ", missing.StandardOutput, "no stack trace");
        Assert.IsFalse(File.Exists(Path.Combine(project.Directory, "refs.txt")), "a failed publish writes no references file");

        var badNamespace = await PublishAsync(project, "LocalRegistry=containerd", "ContainerContainerdNamespace=not a namespace");
        Assert.Contains("error CONTAINER8061: ContainerContainerdNamespace is 'not a namespace'", badNamespace.StandardOutput);

        var unknown = await PublishAsync(project, "LocalRegistry=cri-o");
        Assert.AreNotEqual(0, unknown.ExitCode);
        Assert.Contains("error CONTAINER8060: LocalRegistry is 'cri-o'; expected docker, podman (or the absolute path of either CLI) or containerd.", unknown.StandardOutput);
    }

    private async Task RemoveContainerAsync(TestContainerd containerd, string containerId)
    {
        string[] prefix = ["-a", containerd.Address, "-n", KubernetesNamespace];
        await TestTools.RunAsync(containerd.CtrPath, [.. prefix, "task", "kill", "-s", "SIGKILL", containerId], cancellationToken: CancellationToken.None);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            // Deleting the task succeeds once it has stopped.
            var deleted = await TestTools.RunAsync(containerd.CtrPath, [.. prefix, "task", "delete", containerId], cancellationToken: CancellationToken.None);
            if (deleted.ExitCode == 0 || deleted.StandardError.Contains("not found", StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(200, CancellationToken.None);
        }

        await TestTools.RunAsync(containerd.CtrPath, [.. prefix, "container", "delete", containerId], cancellationToken: CancellationToken.None);
    }
}
