using Containers.Oci.Models;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>Entrypoint, working directory, stop signal and labels replaced from the options, and the exec wait, on each backend.</summary>
public abstract partial class ContainerHostTests
{
    [TestMethod]
    public async Task An_entrypoint_and_a_working_directory_from_the_options_replace_the_images()
    {
        // podman 4.3 refuses a working directory the image lacks (docker and the other backends create it).
        var workingDirectory = Backend == ContainerBackendKind.Cli ? "/usr/share" : "/srv/not-in-the-image";
        var options = new ContainerStartOptions
        {
            Backend = Backend,
            Image = ContainerImageSource.FromOciLayout(TestSupport.TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
            CacheDirectory = Cache,
            Log = line => TestContext.WriteLine(line),
            Entrypoint = ["/bin/sh", "-c", "echo \"in $(pwd) with $0 $1\"", "first"],
            Command = ["second"],
            WorkingDirectory = workingDirectory,
        };
        options.Labels["com.example.role"] = "test";
        options.WaitStrategies.Add(Wait.ForExit(0));

        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        CollectionAssert.AreEqual(new[] { $"in {workingDirectory} with first second" }, container.Logs.StandardOutput.ToList());
    }

    [TestMethod]
    public async Task The_stop_signal_from_the_options_is_sent_first()
    {
        var withSignal = new ContainerStartOptions
        {
            Backend = Backend,
            Image = ContainerImageSource.FromOciLayout(TestSupport.TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
            Command = ["perl", "-e", "$| = 1; $SIG{USR1} = sub { print qq(got USR1\\n); exit 0 }; print qq(up\\n); sleep 1 while 1;"],
            CacheDirectory = Cache,
            Log = line => TestContext.WriteLine(line),
            StopSignal = "SIGUSR1",
            StopGracePeriod = TimeSpan.FromSeconds(60),
        };
        withSignal.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        await using var container = await ContainerHost.StartAsync(withSignal, TestContext.CancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await container.StopAsync(TestContext.CancellationToken);

        Assert.IsLessThan(45_000, clock.ElapsedMilliseconds, "stopped by USR1, not by SIGKILL after the 60 s grace period");
        Assert.AreEqual(0, await container.Exited);
        CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "got USR1");
    }

    [TestMethod]
    public async Task A_command_wait_runs_inside_until_the_command_succeeds_and_fails_with_its_output_after_the_retries()
    {
        var ready = Options(command: ["/bin/sh", "-c", "sleep 1; touch /tmp/ready; while :; do sleep 0.2; done"]);
        ready.WaitStrategies.Add(Wait.ForCommand(["test", "-e", "/tmp/ready"], interval: TimeSpan.FromMilliseconds(200)));
        await using (var container = await ContainerHost.StartAsync(ready, TestContext.CancellationToken))
        {
            var check = await container.ExecAsync(["test", "-e", "/tmp/ready"], cancellationToken: TestContext.CancellationToken);
            Assert.AreEqual(0, check.ExitCode, "the wait passed only once the file was there");
        }

        var never = Options(command: ["/bin/sh", "-c", "while :; do sleep 0.2; done"]);
        never.WaitStrategies.Add(Wait.ForCommand(["/bin/sh", "-c", "echo not yet; exit 3"], interval: TimeSpan.FromMilliseconds(100), retries: 3));
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainerHost.StartAsync(never, TestContext.CancellationToken));

        StringAssert.Contains(error.Message, "Waiting for the command '/bin/sh -c echo not yet; exit 3' to exit 0 inside the container failed");
        StringAssert.Contains(error.Message, "failed 3 time(s) in a row, the last with exit code 3: not yet");
        Assert.AreEqual(ContainerWaitKind.Command, Wait.ForCommand(["true"]).Kind);
    }
}

[TestClass]
public sealed class ProcessArgumentsTests
{
    private static readonly ImageConfig Image = new()
    {
        Architecture = "amd64",
        OS = "linux",
        RootFs = new RootFs { DiffIds = [] },
        Config = new ContainerConfig { Entrypoint = ["/entrypoint.sh"], Cmd = ["postgres"] },
    };

    [TestMethod]
    public void A_replaced_entrypoint_drops_the_images_cmd_as_docker_does()
    {
        ContainerStartOptions Options(IReadOnlyList<string>? entrypoint, IReadOnlyList<string>? command) =>
            new() { Image = ContainerImageSource.FromArchive("unused.tar"), Entrypoint = entrypoint, Command = command };

        CollectionAssert.AreEqual(new[] { "/entrypoint.sh", "postgres" }, Bundle.ProcessArguments(Options(null, null), Image).ToList());
        CollectionAssert.AreEqual(new[] { "/entrypoint.sh", "-c", "fsync=off" }, Bundle.ProcessArguments(Options(null, ["-c", "fsync=off"]), Image).ToList());
        CollectionAssert.AreEqual(new[] { "sh" }, Bundle.ProcessArguments(Options(["sh"], null), Image).ToList());
        CollectionAssert.AreEqual(new[] { "sh", "-c", "true" }, Bundle.ProcessArguments(Options(["sh"], ["-c", "true"]), Image).ToList());
        CollectionAssert.AreEqual(new[] { "postgres" }, Bundle.ProcessArguments(Options([], ["postgres"]), Image).ToList());
    }
}
