using System.Diagnostics;
using System.Globalization;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// <see cref="DetachedProcess.Start"/> (how <c>dotnet container run -d</c> starts its supervisor): one posix_spawn into a
/// session of its own, with the same surroundings the shell chain it replaced gave. What a detached program must find:
/// its own session, stdin from /dev/null, stdout and stderr appended to the file, working directory /, no signal ignored
/// or blocked (this test process ignores SIGPIPE, as .NET does), and a stamp that says it is alive exactly while it is,
/// also when it ends before its starter (no zombie taken for alive).
/// </summary>
[TestClass]
public sealed class DetachedProcessTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task A_detached_program_runs_in_its_own_session_with_its_output_in_the_file_and_default_signals()
    {
        var directory = Directory.CreateTempSubdirectory("detached-process-").FullName;
        try
        {
            var output = Path.Combine(directory, "output.log");
            var stamp = Path.Combine(directory, "stamp");
            await File.WriteAllTextAsync(output, "before\n", TestContext.CancellationToken);

            DetachedProcess.Start(["sh", "-c", "echo out; echo err >&2; exec sleep 60"], output, stamp);

            Assert.IsTrue(DetachedProcess.IsRunning(stamp), "the stamp names a live process");
            var pid = int.Parse((await File.ReadAllTextAsync(stamp, TestContext.CancellationToken)).Split(' ')[0], CultureInfo.InvariantCulture);
            try
            {
                await WaitUntilAsync(() => File.ReadAllText(output).Contains("err", StringComparison.Ordinal), "its output");
                Assert.AreEqual("before\nout\nerr\n", await File.ReadAllTextAsync(output, TestContext.CancellationToken), "stdout and stderr are appended to the file");

                // /proc/PID/stat: "pid (comm) state ppid pgrp session ...".
                var stat = await File.ReadAllTextAsync($"/proc/{pid}/stat", TestContext.CancellationToken);
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                Assert.AreEqual(pid.ToString(CultureInfo.InvariantCulture), fields[3], "it leads a session of its own");
                Assert.AreEqual("/dev/null", new FileInfo($"/proc/{pid}/fd/0").LinkTarget, "stdin is /dev/null");
                Assert.AreEqual("/", new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget, "it runs in /");
                var status = await File.ReadAllLinesAsync($"/proc/{pid}/status", TestContext.CancellationToken);
                Assert.AreEqual("SigIgn:\t0000000000000000", status.Single(line => line.StartsWith("SigIgn:", StringComparison.Ordinal)), "no signal is ignored");
                Assert.AreEqual("SigBlk:\t0000000000000000", status.Single(line => line.StartsWith("SigBlk:", StringComparison.Ordinal)), "no signal is blocked");
            }
            finally
            {
                Process.GetProcessById(pid).Kill();
            }

            // The starter (this process) outlives it: the stamp says it ended as soon as it is a zombie, and the
            // starter's waiting thread then reaps it, a moment later, so no zombie is left behind.
            await WaitUntilAsync(() => !DetachedProcess.IsRunning(stamp), "the stamp to say it ended");
            await WaitUntilAsync(() => !Directory.Exists($"/proc/{pid}"), "the ended program to be reaped (no zombie left)");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void A_program_that_cannot_be_started_is_an_IOException_naming_it()
    {
        var directory = Directory.CreateTempSubdirectory("detached-process-").FullName;
        try
        {
            var missing = Path.Combine(directory, "no-such-program");
            var exception = Assert.ThrowsExactly<IOException>(() => DetachedProcess.Start([missing], Path.Combine(directory, "output.log"), Path.Combine(directory, "stamp")));
            StringAssert.Contains(exception.Message, missing);
            Assert.IsFalse(File.Exists(Path.Combine(directory, "stamp")), "no stamp for a process that never ran");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.IsLessThan(10, clock.Elapsed.TotalSeconds, $"waited 10 s for {what}");
            await Task.Delay(10, TestContext.CancellationToken);
        }
    }
}
