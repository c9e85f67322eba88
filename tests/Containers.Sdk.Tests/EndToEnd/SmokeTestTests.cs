using System.Globalization;
using System.Text.RegularExpressions;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// The samples' smoke-test projects, run with `dotnet test` against the freshly packed Containers.Sdk and
/// Containers.Testing: building each builds its app's image (ContainerUnderTest), the tests start it under
/// runc and call it. The crashing sample's test must fail, quickly, with the app's own exception.
/// </summary>
public sealed partial class PublishContainerTests
{
    private async Task<(ToolResult Result, string Output, string Root)> RunSmokeTestsAsync(string sample, string backend = "", params string[] environment)
    {
        var root = PackageFeed.NewWorkDirectory("smoke");
        var samples = Path.Combine(PackageFeed.RepositoryRoot, "samples");
        File.Copy(Path.Combine(samples, "Directory.Build.props"), Path.Combine(root, "Directory.Build.props"));
        File.Copy(Path.Combine(samples, "Directory.Build.targets"), Path.Combine(root, "Directory.Build.targets"));
        CopyDirectory(Path.Combine(samples, sample), Path.Combine(root, sample));
        CopyDirectory(Path.Combine(samples, sample + ".SmokeTests"), Path.Combine(root, sample + ".SmokeTests"));
        TestProject.WriteNuGetConfig(root);

        var result = await TestProject.RunDotnetAsync(
            [
                "test", Path.Combine(root, sample + ".SmokeTests", sample + ".SmokeTests.csproj"), "-nologo",
                $"-p:ContainersSdkVersion={PackageFeed.PackageVersion}", $"-p:ContainerBaseRegistry={Registry.Host}",
                "--logger", "console;verbosity=detailed",
                .. (backend.Length > 0 ? new[] { "-e", "CONTAINERS_HOST_BACKEND=" + backend } : []),
                .. environment.SelectMany(variable => new[] { "-e", variable }),
            ],
            root,
            TestContext.CancellationToken);
        var output = result.StandardOutput + result.StandardError;
        TestContext.WriteLine(output);
        return (result, FailuresFirst(output), root);
    }

    // CI logs keep the start and the end of a long assertion message: the inner run's failures go first.
    private static string FailuresFirst(string output)
    {
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        var failures = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (Regex.IsMatch(lines[i], @"^\s*(Failed \S|Error Message:)|: error [A-Z]+\d+:"))
            {
                failures.AddRange(lines.Skip(i).Take(12));
                i += 11;
            }
        }

        return failures.Count == 0 ? output : "Inner failures:\n" + string.Join("\n", failures) + "\n--- whole output ---\n" + output;
    }

    [TestMethod]
    [DataRow("WebApi", 2, "")]
    [DataRow("ConsoleApp", 1, "")]
    [DataRow("Worker", 1, "")]
    [DataRow("WebApi", 2, "Namespaces")]
    [DataRow("Worker", 1, "Namespaces")]
    [DataRow("WebApi", 2, "Cli")]
    [DataRow("Worker", 1, "Cli")]
    public async Task Sample_smoke_tests_build_the_image_and_pass_in_dotnet_test(string sample, int tests, string backend)
    {
        RuncRunner.RequireRunc();
        if (backend == "Cli")
        {
            TestTools.Require("podman", "podman");
        }

        var (result, output, _) = await RunSmokeTestsAsync(sample, backend);

        Assert.AreEqual(0, result.ExitCode, output);
        StringAssert.Contains(output, "Test Run Successful.");
        StringAssert.Matches(output, new Regex($@"Total tests: {tests}\s+Passed: {tests}\s"));
        StringAssert.Contains(output, "into OCI layout", "building the test project built the app's image");
        if (backend.Length > 0)
        {
            StringAssert.Contains(output, backend == "Cli" ? "started with podman" : "started with namespaces (unshare)", "the smoke tests ran on the backend asked for");
        }
    }

    /// <summary>
    /// The app graph sample: PostgreSQL and Redis images (eng/dependency-images.sh) pushed to the test registry as
    /// library/postgres:15 and library/redis:7, which the smoke tests name as postgres:15 and redis:7 (Docker Hub) and
    /// get through the host's registry mirror setting; the app and both run on one private network.
    /// </summary>
    [TestMethod]
    [DataRow("")]
    [DataRow("Namespaces")]
    [DataRow("Cli")]
    public async Task TodoApi_smoke_tests_start_the_app_with_postgres_and_redis_and_pass(string backend)
    {
        RuncRunner.RequireRunc();
        if (backend == "Cli")
        {
            TestTools.Require("podman", "podman");
        }

        await TestDependencyImages.PushAsync(Registry.Registry, TestContext.CancellationToken);

        var (result, output, _) = await RunSmokeTestsAsync("TodoApi", backend, "CONTAINERS_HOST_REGISTRY_MIRRORS=docker.io=" + Registry.Host);

        Assert.AreEqual(0, result.ExitCode, output);
        StringAssert.Matches(output, new Regex(@"Total tests: 3\s+Passed: 3\s"));
        StringAssert.Contains(output, "Pulling docker.io/library/postgres:15 from the mirror", "the dependency came from the registry, through the mirror");
        StringAssert.Contains(output, "Graph todoapi.smoketests ready after", "the graph said when it was ready");

        // Nothing of the run is left: no container or network directory, namespace, veth, mount, process or runtime state.
        var ids = HostLeftovers.IdsInLog(output);
        Assert.IsGreaterThanOrEqualTo(7, ids.Count, "three tests of three containers and a network each: " + string.Join(", ", ids));
        var left = await HostLeftovers.FindAsync("/var/tmp/containers-sdk-host", ids, TestContext.CancellationToken);
        Assert.IsEmpty(left, string.Join("\n", left));
    }

    [TestMethod]
    [DataRow("WebApi", 2, "OciRuntime")]
    [DataRow("Worker", 1, "OciRuntime")]
    [DataRow("ConsoleApp", 1, "OciRuntime")]
    [DataRow("Worker", 1, "Namespaces")]
    public async Task Sample_smoke_tests_pass_as_a_non_root_user_rootless(string sample, int tests, string backend)
    {
        RuncRunner.RequireRunc();
        var setpriv = TestTools.Require("setpriv", "util-linux");
        const string nobody = "65534";
        var userNamespaces = await TestTools.RunAsync(setpriv, ["--reuid=" + nobody, "--regid=" + nobody, "--clear-groups", "unshare", "--user", "--map-root-user", "true"], cancellationToken: TestContext.CancellationToken);
        if (userNamespaces.ExitCode != 0)
        {
            Assert.Inconclusive("rootless mode cannot work on this machine: unprivileged user namespaces are disabled (" + userNamespaces.StandardError.Trim() + ")");
        }

        // Built (and run once) as root; then the built smoke tests run as nobody, whose containers run rootless.
        var (built, builtOutput, root) = await RunSmokeTestsAsync(sample);
        Assert.AreEqual(0, built.ExitCode, builtOutput);
        var assembly = Directory.GetFiles(Path.Combine(root, sample + ".SmokeTests", "bin"), sample + ".SmokeTests.dll", SearchOption.AllDirectories).Single();
        var home = Directory.CreateDirectory(Path.Combine(root, "nobody-home")).FullName;
        await TestTools.RunCheckedAsync("chown", [nobody + ":" + nobody, home], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync("chmod", ["-R", "a+rX", root], cancellationToken: TestContext.CancellationToken);
        for (var directory = Path.GetDirectoryName(root); directory is not null && directory != "/"; directory = Path.GetDirectoryName(directory))
        {
            await TestTools.RunCheckedAsync("chmod", ["a+x", directory], cancellationToken: TestContext.CancellationToken);
        }

        var run = await TestTools.RunAsync(
            setpriv,
            ["--reuid=" + nobody, "--regid=" + nobody, "--clear-groups", "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "DOTNET_CLI_HOME=" + home,
             "DOTNET_NOLOGO=1", "DOTNET_CLI_TELEMETRY_OPTOUT=1", "DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1", "CONTAINERS_HOST_BACKEND=" + backend,
             "dotnet", "vstest", assembly, "--logger:console;verbosity=detailed"],
            home,
            cancellationToken: TestContext.CancellationToken);
        var output = run.StandardOutput + run.StandardError;
        TestContext.WriteLine(output);
        output = FailuresFirst(output);

        Assert.AreEqual(0, run.ExitCode, output);
        StringAssert.Matches(output, new Regex($@"Total tests: {tests}\s+Passed: {tests}\s"));
        StringAssert.Contains(output, backend == "OciRuntime" ? "started with runc" : "started with namespaces (unshare)", "the host ran the container itself");
        StringAssert.Contains(output, "Rootless:", "as nobody, in rootless mode, and said so");
    }

    [TestMethod]
    public async Task An_app_that_crashes_at_startup_fails_its_smoke_test_fast_with_its_own_exception()
    {
        RuncRunner.RequireRunc();

        var (result, output, _) = await RunSmokeTestsAsync("CrashingApp");

        Assert.AreNotEqual(0, result.ExitCode, output);
        // .NET aborts on the unhandled exception; as the container's first process that ends in SIGSEGV, and the message says so.
        StringAssert.Contains(output, "The container exited with code 139 (killed by signal SIGSEGV — a crash; also how a .NET app ends on an unhandled exception when it is the container's first process (PID 1)");
        StringAssert.Contains(output, "System.InvalidOperationException: Missing configuration 'Database:ConnectionString'");
        StringAssert.Contains(output, "/_/Program.cs", "the app was built as dotnet publish builds it, with the deterministic path map");
        var duration = Regex.Match(output, @"Failed Starts_and_answers_healthz \[(\d+) (ms|s)\]");
        Assert.IsTrue(duration.Success, output);
        var seconds = int.Parse(duration.Groups[1].Value, CultureInfo.InvariantCulture) / (duration.Groups[2].Value == "ms" ? 1000.0 : 1.0);
        // The bound separates "at once" from "after the 60 s startup timeout" with room for a loaded CI machine (17 s seen there).
        Assert.IsLessThan(45, seconds, "fails fast, not after the 60 s startup timeout");
    }
}
