using System.Diagnostics;
using Containers.Host.Storage;
using Containers.TestSupport;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>Exec, files, mounts, volumes and limits on each backend.</summary>
public abstract partial class ContainerHostTests
{
    private ContainerStartOptions Sleeper(string script = "echo up; while :; do sleep 0.2; done")
    {
        var options = Options(command: ["/bin/sh", "-c", script]);
        options.WaitStrategies.Add(Wait.ForLogLine("^up$"));
        return options;
    }

    [TestMethod]
    public async Task Exec_returns_the_exit_code_and_both_outputs_with_the_containers_environment()
    {
        var options = Sleeper();
        options.Environment["GREETING"] = "hello";
        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        var result = await container.ExecAsync(["/bin/sh", "-c", "echo out-$GREETING-$EXTRA; echo err >&2; exit 3"], new Dictionary<string, string> { ["EXTRA"] = "more" }, cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(3, result.ExitCode);
        Assert.AreEqual("out-hello-more\n", result.StandardOutput);
        Assert.AreEqual("err\n", result.StandardError);
        var user = await container.ExecAsync(["id", "-u"], user: "app", cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("1654\n", user.StandardOutput, "as the image's app user");
        var asImage = await container.ExecAsync(["id", "-u"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("0\n", asImage.StandardOutput, "the image's user (root here) by default");
    }

    [TestMethod]
    public async Task A_cancelled_exec_is_killed_inside_the_container()
    {
        await using var container = await ContainerHost.StartAsync(Sleeper(), TestContext.CancellationToken);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(700));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<OperationCanceledException>(() => container.ExecAsync(["sleep", "37"], cancellationToken: cancel.Token));

        Assert.IsLessThan(30_000, clock.ElapsedMilliseconds, "cancelled, not run to the end of its 37 s");
        string processes = "";
        for (var attempt = 0; attempt < 20; attempt++)
        {
            processes = (await container.ExecAsync(["/bin/sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"], cancellationToken: TestContext.CancellationToken)).StandardOutput;
            if (!processes.Contains("sleep 37", StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(250, TestContext.CancellationToken);
        }

        Assert.DoesNotContain("sleep 37", processes, "the exec'd process is gone from the container");
    }

    [TestMethod]
    public async Task Files_copied_in_are_visible_inside_and_read_back_while_running_and_after_the_stop()
    {
        var source = Directory.CreateTempSubdirectory("host-files-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(source, "sub"));
            await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "from a", TestContext.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(source, "sub", "b.txt"), "from b", TestContext.CancellationToken);
            var options = Sleeper("cat /etc/app/settings.json /srv/data/a.txt /srv/data/sub/b.txt > /var/result; stat -c '%a %u' /etc/app/secret >> /var/result; echo up; while :; do sleep 0.2; done");
            options.Files.Add(ContainerFile.FromText("/etc/app/settings.json", "{\"mode\":\"test\"}\n"));
            options.Files.Add(ContainerFile.FromText("/etc/app/secret", "s3cret", (UnixFileMode)Convert.ToInt32("600", 8)) with { Uid = 1654, Gid = 1654 });
            options.Files.Add(ContainerFile.FromHostPath(source, "/srv/data"));
            // An image file replaced: the cached image keeps its own.
            options.Files.Add(ContainerFile.FromText("/etc/debian_version", "replaced\n"));

            byte[] running;
            await using (var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken))
            {
                running = await container.ReadFileAsync("/var/result", TestContext.CancellationToken);
                Assert.AreEqual("replaced\n", System.Text.Encoding.UTF8.GetString(await container.ReadFileAsync("/etc/debian_version", TestContext.CancellationToken)));
                await container.StopAsync(TestContext.CancellationToken);
                CollectionAssert.AreEqual(running, await container.ReadFileAsync("/var/result", TestContext.CancellationToken), "the same after the stop");
                await Assert.ThrowsAsync<FileNotFoundException>(() => container.ReadFileAsync("/no/such/file", TestContext.CancellationToken));
            }

            Assert.AreEqual("{\"mode\":\"test\"}\nfrom afrom b600 1654\n", System.Text.Encoding.UTF8.GetString(running));
            var next = Options(command: ["cat", "/etc/debian_version"]);
            next.WaitStrategies.Add(Wait.ForExit(0));
            await using var fresh = await ContainerHost.StartAsync(next, TestContext.CancellationToken);
            StringAssert.StartsWith(fresh.Logs.StandardOutput.Single(), "12.", "the next container has the image's file");
        }
        finally
        {
            Directory.Delete(source, recursive: true);
        }
    }

    [TestMethod]
    public async Task Bind_mounts_write_through_read_only_ones_refuse_and_a_tmpfs_is_the_containers_own()
    {
        var readWrite = Directory.CreateTempSubdirectory("host-bind-rw-").FullName;
        var readOnly = Directory.CreateTempSubdirectory("host-bind-ro-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(readWrite, "from-host"), "host says hi", TestContext.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(readOnly, "fixed"), "fixed", TestContext.CancellationToken);
            var options = Sleeper("cat /mnt/rw/from-host > /mnt/rw/from-container; echo tmp > /scratch/t; if echo x > /mnt/ro/new 2>/dev/null; then echo ro-writable; else echo ro-refused; fi; cat /mnt/ro/fixed; echo; echo up; while :; do sleep 0.2; done");
            options.Mounts.Add(ContainerMount.Bind(readWrite, "/mnt/rw"));
            options.Mounts.Add(ContainerMount.Bind(readOnly, "/mnt/ro", readOnly: true));
            options.Mounts.Add(ContainerMount.Tmpfs("/scratch", sizeBytes: 8 * 1024 * 1024));
            await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

            Assert.AreEqual("host says hi", await File.ReadAllTextAsync(Path.Combine(readWrite, "from-container"), TestContext.CancellationToken), "written through to the host");
            CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "ro-refused");
            CollectionAssert.Contains(container.Logs.StandardOutput.ToList(), "fixed");
            Assert.IsFalse(File.Exists(Path.Combine(readOnly, "new")));
            Assert.AreEqual("tmp\n", System.Text.Encoding.UTF8.GetString(await container.ReadFileAsync("/scratch/t", TestContext.CancellationToken)));
        }
        finally
        {
            Directory.Delete(readWrite, recursive: true);
            Directory.Delete(readOnly, recursive: true);
        }
    }

    [TestMethod]
    public async Task A_volume_outlives_its_container_gets_the_images_content_first_and_a_kept_one_is_found_again()
    {
        var name = "v" + Guid.NewGuid().ToString("N")[..8];
        var volumeOptions = new ContainerVolumeOptions { CacheDirectory = Cache, Log = TestContext.WriteLine };
        await using (var volume = await ContainerVolume.CreateAsync(name, volumeOptions, TestContext.CancellationToken))
        {
            var writer = Options(command: ["/bin/sh", "-c", "echo kept > /etc/apt/written-by-writer"]);
            writer.Mounts.Add(ContainerMount.Volume(volume, "/etc/apt"));
            writer.WaitStrategies.Add(Wait.ForExit(0));
            await using (await ContainerHost.StartAsync(writer, TestContext.CancellationToken))
            {
            }

            var reader = Options(command: ["/bin/sh", "-c", "cat /etc/apt/written-by-writer; test -d /etc/apt/apt.conf.d && echo image-content-there"]);
            reader.Mounts.Add(ContainerMount.Volume(volume, "/etc/apt", readOnly: true));
            reader.WaitStrategies.Add(Wait.ForExit(0));
            await using var read = await ContainerHost.StartAsync(reader, TestContext.CancellationToken);
            CollectionAssert.AreEqual(new[] { "kept", "image-content-there" }, read.Logs.StandardOutput.ToList());
        }

        Assert.IsFalse(Directory.Exists(Path.Combine(Cache, "volumes", name)), "a volume that is not kept goes when disposed");

        var kept = new ContainerVolumeOptions { CacheDirectory = Cache, Keep = true };
        await using (var first = await ContainerVolume.CreateAsync(name, kept, TestContext.CancellationToken))
        {
            var job = Options(command: ["/bin/sh", "-c", "echo across-runs > /data/note"]);
            job.Mounts.Add(ContainerMount.Volume(first, "/data"));
            job.WaitStrategies.Add(Wait.ForExit(0));
            await using (await ContainerHost.StartAsync(job, TestContext.CancellationToken))
            {
            }
        }

        try
        {
            await using var again = await ContainerVolume.CreateAsync(name, kept, TestContext.CancellationToken);
            var job = Options(command: ["cat", "/data/note"]);
            job.Mounts.Add(ContainerMount.Volume(again, "/data"));
            job.WaitStrategies.Add(Wait.ForExit(0));
            await using var read = await ContainerHost.StartAsync(job, TestContext.CancellationToken);
            Assert.AreEqual("across-runs", read.Logs.StandardOutput.Single());
        }
        finally
        {
            await ContainerVolume.RemoveAsync(name, kept, TestContext.CancellationToken);
        }

        Assert.IsFalse(Directory.Exists(Path.Combine(Cache, "volumes", name)));
        if (Backend == ContainerBackendKind.Cli)
        {
            var volumes = await TestTools.RunCheckedAsync("podman", ["volume", "ls", "--format", "{{.Name}}"], cancellationToken: TestContext.CancellationToken);
            Assert.DoesNotContain(ContainerVolume.CliNamePrefix + name, volumes.StandardOutput);
        }
    }

    [TestMethod]
    public async Task A_memory_limit_stops_a_container_that_uses_more_where_the_backend_can_apply_it()
    {
        var log = new List<string>();
        var options = new ContainerStartOptions
        {
            Backend = Backend,
            Image = ContainerImageSource.FromOciLayout(TestBaseImages.LayoutDirectory, "runtime-deps-10.0"),
            Command = ["perl", "-e", "my $x = 'a' x (256 * 1024 * 1024); print qq(allocated\\n);"],
            CacheDirectory = Cache,
            MemoryLimitBytes = 64 * 1024 * 1024,
            CpuLimit = 0.5,
            Log = line => { log.Add(line); TestContext.WriteLine(line); },
        };
        options.WaitStrategies.Add(Wait.ForExit(null));
        await using var container = await ContainerHost.StartAsync(options, TestContext.CancellationToken);

        var code = await container.Exited;
        if (Backend == ContainerBackendKind.Namespaces)
        {
            Assert.AreEqual(0, code, "no limit: the allocation succeeds");
            Assert.IsTrue(log.Any(l => l.StartsWith("Memory and CPU limits are not applied", StringComparison.Ordinal)), "and the log says the limits were not applied");
        }
        else
        {
            Assert.AreEqual(137, code, "killed by the kernel's OOM killer inside the limit: " + container.Logs);
            CollectionAssert.DoesNotContain(container.Logs.StandardOutput.ToList(), "allocated");
        }
    }
}
