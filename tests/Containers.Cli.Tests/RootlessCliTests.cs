using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Containers.Cli.Tests;

/// <summary>
/// The installed tool as a user who is not root (<c>nobody</c>, through <c>setpriv</c>): <c>run -d</c> of samples/WebApi
/// runs rootless (runc in a user namespace, the app's port forwarded from its private network), answers through -p,
/// exec runs as the container's root, and stop and rm leave nothing in that user's cache or state directory.
/// </summary>
[TestClass]
public sealed class RootlessCliTests
{
    private const int Nobody = 65534;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Detached_run_as_nobody_is_rootless_answers_through_p_and_stop_and_rm_leave_nothing()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Inconclusive("the test switches to nobody with setpriv, which needs root");
        }

        var setpriv = TestTools.Require("setpriv", "util-linux");
        TestTools.Require("runc", "runc");
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);

        // A home of nobody's own, and the run's directories (made 0700 by the temporary-directory API) opened to it.
        var home = CliTool.NewWorkDirectory("nobody");
        foreach (var directory in new[] { home, Path.GetDirectoryName(Path.GetDirectoryName(home))!, Path.GetDirectoryName(home)! })
        {
            File.SetUnixFileMode(directory, File.GetUnixFileMode(directory) | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        await TestTools.RunCheckedAsync("chown", ["-R", $"{Nobody}:{Nobody}", home], cancellationToken: TestContext.CancellationToken);

        // Root installed the tool; opened to other users as docs/cli.md says (the precompiled executable is extracted rwxr--r--).
        await TestTools.RunCheckedAsync("chmod", ["-R", "a+rX", CliTool.ToolPath], cancellationToken: TestContext.CancellationToken);
        var cache = Path.Combine(home, ".cache");
        var state = Path.Combine(home, "state");
        var port = FreePort();
        var name = "nobody-" + Guid.NewGuid().ToString("N")[..8];
        Task<ToolResult> AsNobodyAsync(params string[] arguments) => TestTools.RunAsync(
            setpriv,
            [
                $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "env", $"HOME={home}", $"XDG_CACHE_HOME={cache}",
                $"CONTAINERS_CLI_STATE_DIRECTORY={state}",

                // podman is installed here but cannot run images as nobody (no subordinate ids): the host's own rootless runtime.
                "CONTAINERS_HOST_BACKEND=OciRuntime",
                CliTool.Command, .. arguments,
            ],
            home,
            cancellationToken: TestContext.CancellationToken);

        var run = await AsNobodyAsync("run", "-d", "--verbose", "--name", name, "-p", $"{port}:8080", image.Layout);
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var id = run.StandardOutput.Trim();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            Assert.AreEqual("ok", await GetWhenUpAsync(http, "/healthz"));
            var record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(state, id, "container.json"), TestContext.CancellationToken)).RootElement;
            var hostId = record.GetProperty("hostId").GetString()!;
            StringAssert.Contains(await File.ReadAllTextAsync(Path.Combine(state, id, "supervisor.log"), TestContext.CancellationToken), $"Rootless: container {hostId} has a private network", "the host's log (--verbose) says it runs rootless");

            var exec = await AsNobodyAsync("exec", name, "--", "/bin/sh", "-c", "id -u");
            Assert.AreEqual(0, exec.ExitCode, exec.ToString());
            Assert.AreEqual("0", exec.StandardOutput.Trim(), "the command runs as the container's root, which is nobody on the host");

            var stop = await AsNobodyAsync("stop", name);
            Assert.AreEqual(0, stop.ExitCode, stop.ToString());
            var removed = await AsNobodyAsync("rm", name);
            Assert.AreEqual(0, removed.ExitCode, removed.ToString());

            Assert.IsFalse(Directory.Exists(Path.Combine(state, id)), "rm deletes its state");
            var left = await HostLeftovers.FindAsync(Path.Combine(cache, "containers-sdk-host"), [hostId], TestContext.CancellationToken);
            Assert.IsEmpty(left, string.Join(Environment.NewLine, left));
            using var client = new TcpClient();
            await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port, TestContext.CancellationToken).AsTask(), "the port is closed");
        }
        finally
        {
            await AsNobodyAsync("rm", "-f", name);
        }
    }

    private async Task<string> GetWhenUpAsync(HttpClient http, string path)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await http.GetStringAsync(path, TestContext.CancellationToken);
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100, TestContext.CancellationToken);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
