using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.Host.Lifecycle;

namespace Containers.Cli.Tests;

/// <summary>
/// run, ps, logs, exec, stop and rm end to end: the installed tool runs samples/WebApi's image (from a layout, a
/// registry and both archive kinds) with the runtime host, the app answers through -p on 127.0.0.1, and what a container
/// was leaves nothing behind: no process, mount, network namespace or directory.
/// </summary>
[TestClass]
public sealed partial class ContainerCommandsTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Run_in_the_foreground_streams_the_output_answers_through_a_fixed_port_and_ctrl_c_stops_it_gracefully()
    {
        RequireRunnableHost();
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var port = FreePort();
        var name = "fg-" + Guid.NewGuid().ToString("N")[..8];
        var start = new ProcessStartInfo(CliTool.Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "run", "--verbose", "--name", name, "-p", $"{port}:8080", "-e", "GREETING=hello", image.Layout })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in CliTool.Environment)
        {
            start.Environment[key] = value;
        }

        using var tool = Process.Start(start)!;
        var output = new List<string>();
        tool.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.Add(e.Data); } } };
        tool.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.Add(e.Data); } } };
        tool.BeginOutputReadLine();
        tool.BeginErrorReadLine();
        try
        {
            Assert.AreEqual("ok", await GetAsync(port, "/healthz"), Joined(output));
            var listed = await CliTool.RunCheckedAsync(["ps"], TestContext.CancellationToken);
            StringAssert.Matches(listed.StandardOutput, new Regex($@"{name}\s+oci:\S+\s+running\s+127\.0\.0\.1:{port}->8080/tcp"), "a foreground container is listed too");
            var exec = await CliTool.RunAsync(["exec", name, "--", "/bin/sh", "-c", "echo $GREETING"], TestContext.CancellationToken);
            Assert.AreEqual(0, exec.ExitCode, exec.ToString());
            Assert.AreEqual("hello", exec.StandardOutput.Trim(), "exec runs in the container with its environment");

            var clock = Stopwatch.StartNew();
            Assert.AreEqual(0, Kill(tool.Id, 2), "SIGINT, as Ctrl+C in its terminal");
            await tool.WaitForExitAsync(TestContext.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.CancellationToken);
            tool.WaitForExit();
            TestContext.WriteLine(Joined(output));
            Assert.AreEqual(0, tool.ExitCode, "the app stopped on its stop signal and exited 0 (not 137: no SIGKILL after the grace period)");
            Assert.IsLessThan(10_000, clock.ElapsedMilliseconds, "within the grace period");
            StringAssert.Contains(Joined(output), "Now listening on: http://[::]:8080", "the app's output is streamed");
            StringAssert.Contains(Joined(output), "Application is shutting down", "the app got the stop signal");
        }
        finally
        {
            if (!tool.HasExited)
            {
                tool.Kill(entireProcessTree: true);
            }
        }

        var record = ReadRecord(name);
        Assert.AreEqual("exited", record.GetProperty("status").GetString());
        Assert.AreEqual(0, record.GetProperty("exitCode").GetInt32());
        await AssertHostLeftNothingAsync(record.GetProperty("hostId").GetString()!);
        await AssertPortClosedAsync(port);
        await CliTool.RunCheckedAsync(["rm", name], TestContext.CancellationToken);
        Assert.IsFalse(Directory.Exists(Path.Combine(CliTool.StateDirectory, record.GetProperty("id").GetString()!)), "rm deletes its state");
    }

    [TestMethod]
    public async Task Detached_run_from_a_registry_is_listed_logged_exec_d_into_stopped_and_removed_leaving_nothing()
    {
        RequireRunnableHost();
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var name = "bg-" + Guid.NewGuid().ToString("N")[..8];

        var run = await CliTool.RunCheckedAsync(["run", "-d", "--name", name, "-p", "8080", image.Registry], TestContext.CancellationToken);
        var id = run.StandardOutput.Trim();
        StringAssert.Matches(id, new Regex("^[0-9a-f]{12}$"), "-d prints the id");
        try
        {
            var listed = await CliTool.RunCheckedAsync(["ps"], TestContext.CancellationToken);
            var row = listed.StandardOutput.Split('\n').Single(line => line.Contains(name, StringComparison.Ordinal));
            StringAssert.StartsWith(row, id);
            StringAssert.Contains(row, image.Registry);
            StringAssert.Contains(row, "running");
            var port = int.Parse(PublishedPort().Match(row).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.AreEqual("ok", await GetAsync(port, "/healthz"), "the app answers on the free port -p 8080 took, which ps shows");

            var logs = await CliTool.RunCheckedAsync(["logs", id[..5]], TestContext.CancellationToken);
            StringAssert.Contains(logs.StandardOutput, "Now listening on: http://[::]:8080", "logs by an id prefix");

            var exec = await CliTool.RunAsync(["exec", "-e", "CODE=7", name, "--", "/bin/sh", "-c", "echo out; echo err >&2; exit $CODE"], TestContext.CancellationToken);
            Assert.AreEqual(7, exec.ExitCode, exec.ToString());
            Assert.AreEqual("out", exec.StandardOutput.Trim());
            Assert.AreEqual("err", exec.StandardError.Trim());

            var duplicate = await CliTool.RunAsync(["run", "-d", "--name", name, image.Registry], TestContext.CancellationToken);
            AssertOneCodedLine(duplicate, 2, "CONTAINER6006", name);

            var refused = await CliTool.RunAsync(["rm", name], TestContext.CancellationToken);
            AssertOneCodedLine(refused, 125, "CONTAINER6010", "stop");

            var record = ReadRecord(name);
            var supervisor = int.Parse((await File.ReadAllTextAsync(Path.Combine(CliTool.StateDirectory, id, "supervisor"), TestContext.CancellationToken)).Split(' ')[0], CultureInfo.InvariantCulture);
            Assert.IsTrue(Directory.Exists($"/proc/{supervisor}"), "the supervisor runs");

            var stop = await CliTool.RunCheckedAsync(["stop", "-t", "20", name], TestContext.CancellationToken);
            Assert.AreEqual(name, stop.StandardOutput.Trim());
            var all = await CliTool.RunCheckedAsync(["ps", "-a"], TestContext.CancellationToken);
            StringAssert.Matches(all.StandardOutput, new Regex($@"{name}\s+\S+\s+exited \(0\)"), "a stopped container is listed with -a, with its exit code");
            Assert.IsFalse((await CliTool.RunCheckedAsync(["ps"], TestContext.CancellationToken)).StandardOutput.Contains(name, StringComparison.Ordinal), "but not without");
            await AssertPortClosedAsync(port);
            await AssertHostLeftNothingAsync(record.GetProperty("hostId").GetString()!);
            await WaitUntilGoneAsync(supervisor);

            var removed = await CliTool.RunCheckedAsync(["rm", name], TestContext.CancellationToken);
            Assert.AreEqual(name, removed.StandardOutput.Trim());
            Assert.IsFalse(Directory.Exists(Path.Combine(CliTool.StateDirectory, id)), "rm deletes its state directory");
            Assert.IsFalse((await CliTool.RunCheckedAsync(["ps", "-a"], TestContext.CancellationToken)).StandardOutput.Contains(name, StringComparison.Ordinal));
        }
        finally
        {
            await CliTool.RunAsync(["rm", "-f", name], CancellationToken.None);
        }
    }

    [TestMethod]
    public async Task Run_of_a_project_directory_publishes_it_first_then_runs_its_image()
    {
        RequireRunnableHost();
        var forms = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var port = FreePort();
        var environment = new Dictionary<string, string>(forms.ProjectEnvironment);
        foreach (var (key, value) in CliTool.Environment)
        {
            environment[key] = value;
        }

        var run = await TestTools.RunAsync(CliTool.Command, ["run", "-d", "--rm", "-p", $"{port}:8080", forms.ProjectDirectory], forms.ProjectDirectory, environment, TestContext.CancellationToken);
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        var id = run.StandardOutput.Trim();
        StringAssert.Matches(id, new Regex("^[0-9a-f]{12}$"), "stdout has the id only; the publish's output goes to stderr");
        try
        {
            StringAssert.Contains(run.StandardError, "dotnet publish -c Release -t:PublishContainer");
            Assert.IsTrue(File.Exists(Path.Combine(forms.ProjectDirectory, "obj", "dotnet-container", "image.tar")), "the image is published under the project's obj/");
            Assert.AreEqual("ok", await GetAsync(port, "/healthz"));
            var row = (await CliTool.RunCheckedAsync(["ps"], TestContext.CancellationToken)).StandardOutput.Split('\n').Single(line => line.StartsWith(id, StringComparison.Ordinal));
            StringAssert.Contains(row, "WebApi", "ps names the project it was given");
        }
        finally
        {
            await CliTool.RunAsync(["rm", "-f", id], CancellationToken.None);
        }
    }

    [TestMethod]
    public async Task A_project_that_does_not_build_or_an_ambiguous_directory_is_a_coded_error_and_nothing_runs()
    {
        var broken = CliTool.NewWorkDirectory("broken");
        await File.WriteAllTextAsync(Path.Combine(broken, "Broken.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>", TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(broken, "Program.cs"), "this is not C#", TestContext.CancellationToken);

        var failed = await CliTool.RunAsync(["run", broken], TestContext.CancellationToken);

        Assert.AreEqual(125, failed.ExitCode, failed.ToString());
        StringAssert.Contains(failed.StandardError, "CONTAINER6030");
        StringAssert.Contains(failed.StandardError, "Broken.csproj -t:PublishContainer failed");
        Assert.IsFalse(failed.StandardError.Contains("   at ", StringComparison.Ordinal), "no stack trace");

        await File.WriteAllTextAsync(Path.Combine(broken, "Other.fsproj"), "<Project />", TestContext.CancellationToken);
        var ambiguous = await CliTool.RunAsync(["run", broken], TestContext.CancellationToken);
        Assert.AreEqual(2, ambiguous.ExitCode, ambiguous.ToString());
        StringAssert.Contains(ambiguous.StandardError, "CONTAINER6004");
        StringAssert.Contains(ambiguous.StandardError, "Broken.csproj, Other.fsproj");
    }

    [TestMethod]
    [DataRow("OciArchive")]
    [DataRow("DockerArchive")]
    public async Task Detached_run_from_an_archive_named_relative_to_the_working_directory_with_rm_answers_and_is_gone_after_stop(string form)
    {
        RequireRunnableHost();
        var forms = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var image = form == "OciArchive" ? forms.OciArchive : forms.DockerArchive;
        var port = FreePort();

        // The archive as a user in its directory names it: relative. The supervisor runs in /, so the tool makes it absolute.
        var (transport, path) = (image[..image.IndexOf(':', StringComparison.Ordinal)], image[(image.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        var run = await TestTools.RunAsync(CliTool.Command, ["run", "-d", "--rm", "-p", $"{port}:8080", $"{transport}:{Path.GetFileName(path)}"], Path.GetDirectoryName(path)!, CliTool.Environment, TestContext.CancellationToken);
        Assert.AreEqual(0, run.ExitCode, run.StandardError);
        var id = run.StandardOutput.Trim();
        try
        {
            Assert.AreEqual("ok", await GetAsync(port, "/healthz"));
            var hostId = ReadRecord(id).GetProperty("hostId").GetString()!;

            await CliTool.RunCheckedAsync(["stop", id], TestContext.CancellationToken);
            Assert.IsFalse(Directory.Exists(Path.Combine(CliTool.StateDirectory, id)), "--rm removed it as it exited");
            await AssertHostLeftNothingAsync(hostId);
            await AssertPortClosedAsync(port);
        }
        finally
        {
            await CliTool.RunAsync(["rm", "-f", id], CancellationToken.None);
        }
    }

    [TestMethod]
    public async Task Run_in_the_foreground_applies_entrypoint_workdir_user_and_environment_and_exits_with_the_containers_code()
    {
        RequireRunnableHost();
        var environmentFile = Path.Combine(CliTool.NewWorkDirectory("env"), "app.env");
        await File.WriteAllLinesAsync(environmentFile, ["# settings", "", "FROM_FILE=file", "OVERRIDDEN=file"], TestContext.CancellationToken);

        var result = await CliTool.RunAsync(
            [
                "run", "--rm", "--entrypoint", "/bin/sh", "--workdir", "/srv/work", "--user", "1000:1000", "--env-file", environmentFile, "-e", "OVERRIDDEN=option",
                $"oci:{TestBaseImages.LayoutDirectory}:runtime-deps-10.0", "--", "-c", "echo \"$(pwd) $(id -u):$(id -g) $FROM_FILE $OVERRIDDEN\"; echo to-stderr >&2; exit 5",
            ],
            TestContext.CancellationToken);

        Assert.AreEqual(5, result.ExitCode, result.ToString());
        Assert.AreEqual("/srv/work 1000:1000 file option", result.StandardOutput.Trim());
        Assert.AreEqual("to-stderr", result.StandardError.Trim(), "the container's stderr is the tool's");
        Assert.IsFalse((await CliTool.RunCheckedAsync(["ps", "-a"], TestContext.CancellationToken)).StandardOutput.Contains("runtime-deps-10.0", StringComparison.Ordinal), "--rm removed it");
    }

    [TestMethod]
    public async Task Rm_f_kills_a_running_container_and_removes_it()
    {
        RequireRunnableHost();
        var image = await WebApiImage.GetAsync(TestContext.CancellationToken);
        var name = "rmf-" + Guid.NewGuid().ToString("N")[..8];
        var id = (await CliTool.RunCheckedAsync(["run", "-d", "--name", name, image.Layout], TestContext.CancellationToken)).StandardOutput.Trim();
        var hostId = ReadRecord(id).GetProperty("hostId").GetString()!;

        var removed = await CliTool.RunCheckedAsync(["rm", "-f", name], TestContext.CancellationToken);

        Assert.AreEqual(name, removed.StandardOutput.Trim());
        Assert.IsFalse(Directory.Exists(Path.Combine(CliTool.StateDirectory, id)));
        await AssertHostLeftNothingAsync(hostId);
    }

    private static void RequireRunnableHost()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Inconclusive("these tests run containers as root (runc); the non-root case is RootlessCliTests");
        }

        TestTools.Require("runc", "runc");
    }

    private JsonElement ReadRecord(string nameOrId)
    {
        foreach (var directory in Directory.GetDirectories(CliTool.StateDirectory))
        {
            var file = Path.Combine(directory, "container.json");
            if (File.Exists(file))
            {
                var record = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
                if (record.GetProperty("name").GetString() == nameOrId || record.GetProperty("id").GetString() == nameOrId)
                {
                    return record;
                }
            }
        }

        Assert.Fail($"no container {nameOrId} in {CliTool.StateDirectory}");
        return default;
    }

    private async Task AssertHostLeftNothingAsync(string hostId)
    {
        StringAssert.StartsWith(hostId, ContainerHost.IdPrefix);
        var left = await HostLeftovers.FindAsync(ContainerHost.DefaultCacheDirectory, [hostId], TestContext.CancellationToken);
        Assert.IsEmpty(left, string.Join(Environment.NewLine, left));
    }

    private async Task WaitUntilGoneAsync(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (Directory.Exists($"/proc/{pid}") && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50, TestContext.CancellationToken);
        }

        Assert.IsFalse(Directory.Exists($"/proc/{pid}"), $"the supervisor (pid {pid}) exited with its container");
    }

    private async Task AssertPortClosedAsync(int port)
    {
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port, TestContext.CancellationToken).AsTask(), $"nothing listens on 127.0.0.1:{port} any more");
    }

    // Polls: the app needs a moment after start (and longer on a loaded machine).
    private async Task<string> GetAsync(int port, string path)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
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

    internal static void AssertOneCodedLine(ToolResult result, int exitCode, string code, string mentions)
    {
        Assert.AreEqual(exitCode, result.ExitCode, result.ToString());
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, result.StandardError);
        StringAssert.StartsWith(lines[0], $"dotnet container: error {code}: ");
        StringAssert.Contains(lines[0], mentions);
        Assert.DoesNotContain("   at ", result.StandardError, "no stack trace");
    }

    private static string Joined(List<string> lines)
    {
        lock (lines)
        {
            return string.Join(Environment.NewLine, lines);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"127\.0\.0\.1:(\d+)->8080/tcp")]
    private static partial Regex PublishedPort();
}
