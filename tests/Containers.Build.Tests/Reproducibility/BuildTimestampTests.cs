using System.Diagnostics;
using Containers.Build.Reproducibility;
using Containers.Oci;

namespace Containers.Build.Tests.Reproducibility;

[TestClass]
public sealed class BuildTimestampTests
{
    [TestMethod]
    public void Source_date_epoch_wins()
    {
        var stamp = BuildTimestamp.Resolve(Path.GetTempPath(), "1700000000");

        Assert.AreEqual(DateTimeOffset.FromUnixTimeSeconds(1700000000), stamp.Value);
        Assert.AreEqual("SOURCE_DATE_EPOCH", stamp.Source);
    }

    [TestMethod]
    [DataRow("yesterday")]
    [DataRow("-5")]
    [DataRow("1.5")]
    public void A_malformed_source_date_epoch_is_an_error_naming_it(string value)
    {
        var error = Assert.ThrowsExactly<OciException>(() => BuildTimestamp.Resolve(Path.GetTempPath(), value));

        Assert.Contains("SOURCE_DATE_EPOCH", error.Message);
        Assert.Contains(value, error.Message);
    }

    [TestMethod]
    public void Git_commit_time_of_the_project_is_used_when_no_epoch_is_set()
    {
        var repo = Path.Combine(Path.GetTempPath(), "cs-git-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(repo);
        try
        {
            Git(repo, "init", "-q");
            File.WriteAllText(Path.Combine(repo, "a.txt"), "a");
            Git(repo, "add", "a.txt");
            Git(repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", "x", "--date=@1600000000");

            var stamp = BuildTimestamp.Resolve(repo, null);

            Assert.AreEqual(DateTimeOffset.FromUnixTimeSeconds(1600000000), stamp.Value);
            StringAssert.StartsWith(stamp.Source, "git commit ");
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }
    }

    [TestMethod]
    public void Outside_git_the_fixed_epoch_is_used()
    {
        var dir = Directory.CreateTempSubdirectory("cs-nogit-").FullName;
        try
        {
            // /tmp is not inside a git work tree on a normal machine; guard in case it is.
            if (Git(dir, "rev-parse", "--is-inside-work-tree", check: false) == 0)
            {
                Assert.Inconclusive("the temp directory is inside a git work tree");
            }

            Assert.AreEqual(BuildTimestamp.FixedEpoch, BuildTimestamp.Resolve(dir, null));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int Git(string dir, params string[] args) => Git(dir, args, check: true);

    private static int Git(string dir, string a, string b, bool check) => Git(dir, [a, b], check);

    private static int Git(string dir, string[] args, bool check)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["GIT_COMMITTER_DATE"] = "@1600000000";
        using var process = Process.Start(start)!;
        var err = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (check && process.ExitCode != 0)
        {
            Assert.Fail($"git {string.Join(' ', args)} failed: {err}");
        }

        return process.ExitCode;
    }
}
