using System.Collections.Concurrent;
using System.Diagnostics;
using Containers.TestSupport;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// What a start says while and when it fails: an app that says it listens elsewhere than the wait looks fails at once,
/// a long wait says what it waits for, and an exit by a signal names the signal.
/// </summary>
public abstract partial class ContainerHostTests
{
    [TestMethod]
    public async Task A_wait_on_a_port_the_app_says_it_does_not_listen_on_fails_at_once_naming_both_ports()
    {
        // As Kestrel writes it once it listens, with ASPNETCORE_HTTP_PORTS=9090 and the wait on the base image's 8080.
        var options = Options(command: ["/bin/sh", "-c", "echo 'info: Microsoft.Hosting.Lifetime[14]'; echo '      Now listening on: http://[::]:9090'; sleep 60"]);
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(Wait.ForTcpPort(8080));
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(options, TestContext.CancellationToken));

        // Well before the 60 s startup timeout; the start itself (podman loading the image on a busy machine) can take 20 s.
        Assert.IsLessThan(45_000, clock.ElapsedMilliseconds, "at once, not after the 60 s startup timeout");
        StringAssert.StartsWith(error.Message, "The app listens on port 9090 (its output: 'Now listening on: http://[::]:9090'), not on port 8080 that the wait is for (TCP port 8080 to accept connections).");
        StringAssert.Contains(error.Message, "<ContainerPort Include=\"9090\" />");
        StringAssert.Contains(error.Message, "Wait=\"tcp:9090\"");
        StringAssert.Contains(error.Message, "Wait.ForTcpPort(9090)");
    }

    [TestMethod]
    public async Task A_wait_that_passes_is_not_failed_by_a_listening_line_for_another_port()
    {
        // An app listening on two ports (a second one of its own, say) passes a wait on either.
        var options = Options(command: ["/bin/sh", "-c", "echo '      Now listening on: http://localhost:9091'; exec perl -e \"$0\"", PerlServer]);
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(Wait.ForLogLine("^listening$"));
        options.WaitStrategies.Add(Wait.ForTcpPort(8080));

        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "listening");
    }

    [TestMethod]
    public async Task A_long_wait_says_every_few_seconds_what_it_waits_for()
    {
        var lines = new ConcurrentQueue<string>();
        var options = new ContainerStartOptions
        {
            Backend = Backend,
            Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
            Command = ["/bin/sh", "-c", "echo starting up; sleep 60"],
            CacheDirectory = _cache,
            StartupTimeout = TimeSpan.FromSeconds(7),
            StopGracePeriod = TimeSpan.FromSeconds(1),
            Log = line =>
            {
                lines.Enqueue(line);
                TestContext.WriteLine(line);
            },
        };
        options.WaitStrategies.Add(Wait.ForTcpPort(9999));

        await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(options, TestContext.CancellationToken));

        var progress = lines.Where(line => line.StartsWith("Waiting for ", StringComparison.Ordinal)).ToList();
        Assert.HasCount(1, progress, string.Join(Environment.NewLine, lines));
        StringAssert.Matches(progress[0], new System.Text.RegularExpressions.Regex(@"^Waiting for TCP port 9999 to accept connections of OCI layout .+ \(5 s of 7 s\)\.$"));
    }

    [TestMethod]
    [DataRow(134, "exited with code 134 (killed by signal SIGABRT — abort(); how a .NET app ends on an unhandled exception (shown in the output))")]
    [DataRow(139, "exited with code 139 (killed by signal SIGSEGV — a crash; also how a .NET app ends on an unhandled exception when it is the container's first process (PID 1)")]
    [DataRow(3, "exited with code 3 after ")]
    public async Task An_exit_by_a_signal_names_the_signal(int code, string expected)
    {
        var options = Options(command: ["/bin/sh", "-c", $"echo 'Unhandled exception. System.InvalidOperationException: the connection string is missing' >&2; exit {code}"]);
        options.PublishedPorts.Add(8080);
        options.WaitStrategies.Add(Wait.ForTcpPort(8080));

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(options, TestContext.CancellationToken));

        StringAssert.Contains(error.Message, expected);
    }
}
