using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Containers.TestSupport;

namespace Containers.Host.Tests.Rootless;

/// <summary>
/// ContainerHost as a non-root user: a small program built against Containers.Host runs as <c>nobody</c> and
/// starts containers with the OCI runtime and the namespaces backends, both rootless (a user namespace mapping
/// nobody to the container's root, the host's network). Checked: it starts, its port answers, it stops, the
/// cached image cannot be changed from inside, and nothing is left behind.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class RootlessTests
{
    private const int Nobody = 65534;

    private const string Probe = """"
        using Containers.Host.Images;
        using Containers.Host.Lifecycle;
        using Containers.Host.Readiness;
        using Containers.Host.Runtimes;

        var (layout, tag, port, cache, backend) = (args[0], args[1], int.Parse(args[2]), args[3], Enum.Parse<ContainerBackendKind>(args[4]));
        var server = $$"""
            use IO::Socket::INET; $| = 1;
            my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => {{port}}, Listen => 10, ReuseAddr => 1) or die "listen: $!";
            print "listening\n";
            while (my $c = $s->accept) {
              my $req = <$c>; my ($path) = $req =~ m{^\w+ (\S+)};
              while (my $l = <$c>) { last if $l =~ /^\r?\n$/ }
              my $body = "ok $path uid=$<\n";
              print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body"; close $c;
            }
            """;
        var options = new ContainerStartOptions
        {
            Backend = backend,
            Image = ContainerImageSource.FromOciLayout(layout, tag),
            Command = ["perl", "-e", server],
            CacheDirectory = cache,
            StopGracePeriod = TimeSpan.FromSeconds(1),
            Log = line => Console.WriteLine("log: " + line),
        };
        options.PublishedPorts.Add(port);
        options.WaitStrategies.Add(Wait.ForHttp("/ready"));
        try
        {
            await using var container = await ContainerHost.StartAsync(options);
            using var http = container.CreateHttpClient();
            Console.WriteLine("answer: " + (await http.GetStringAsync("/hello")).Trim());
            Console.WriteLine("backend: " + container.BackendName);
            Console.WriteLine("published: " + container.GetPublishedPort(port));
        }
        catch (Exception ex)
        {
            Console.WriteLine("failed: " + ex);
            return 1;
        }

        Console.WriteLine("disposed");

        // Without overlayfs the container root links the cached files: a write must not reach the cache.
        async Task<string> RunJobAsync(string script)
        {
            var job = new ContainerStartOptions
            {
                Backend = backend,
                Image = ContainerImageSource.FromOciLayout(layout, tag),
                Command = ["/bin/sh", "-c", script],
                CacheDirectory = cache,
            };
            job.WaitStrategies.Add(Wait.ForExit(0));
            await using var container = await ContainerHost.StartAsync(job);
            return string.Join(" ", container.Logs.StandardOutput.Concat(container.Logs.StandardError));
        }

        try
        {
            Console.WriteLine("writer: " + await RunJobAsync("echo changed > /etc/debian_version; echo in-place=$?; echo new > /etc/added; echo replaced > /etc/hostname.new && mv /etc/hostname.new /etc/hostname; echo replace=$?"));
            Console.WriteLine("reader: " + await RunJobAsync("cat /etc/debian_version /etc/hostname; test -e /etc/added && echo leaked || echo clean"));
        }
        catch (Exception ex)
        {
            Console.WriteLine("failed: " + ex);
            return 1;
        }

        return 0;
        """";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("OciRuntime", "runc")]
    [DataRow("Namespaces", "namespaces (unshare)")]
    public async Task A_non_root_user_runs_a_container_rootless_and_leaves_nothing_behind(string backend, string backendName)
    {
        var setpriv = TestTools.Require("setpriv", "util-linux");
        TestTools.Require("runc", "runc");
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("the test switches to the nobody user, which needs root");
        }

        var userNamespaces = await TestTools.RunAsync(setpriv, [$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "unshare", "--user", "--map-root-user", "true"], cancellationToken: TestContext.CancellationToken);
        if (userNamespaces.ExitCode != 0)
        {
            Assert.Inconclusive("rootless mode cannot work on this machine: unprivileged user namespaces are disabled (" + userNamespaces.StandardError.Trim() + ")");
        }

        var work = Directory.CreateTempSubdirectory("host-rootless-").FullName;
        try
        {
            File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
            var program = await BuildProbeAsync(work);
            var cache = Directory.CreateDirectory(Path.Combine(work, "cache")).FullName;
            var home = Directory.CreateDirectory(Path.Combine(work, "home")).FullName;
            await TestTools.RunCheckedAsync("chown", [$"{Nobody}:{Nobody}", cache, home], cancellationToken: TestContext.CancellationToken);
            var port = FreePort();

            var run = await TestTools.RunAsync(
                setpriv,
                [$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "DOTNET_CLI_TELEMETRY_OPTOUT=1",
                 "dotnet", program, TestBaseImages.LayoutDirectory, "runtime-deps-10.0", port.ToString(CultureInfo.InvariantCulture), cache, backend],
                cancellationToken: TestContext.CancellationToken);
            TestContext.WriteLine(run.StandardOutput + run.StandardError);

            Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
            StringAssert.Contains(run.StandardOutput, "answer: ok /hello uid=0", "the app runs as the container's root, which is nobody on the host");
            StringAssert.Contains(run.StandardOutput, "backend: " + backendName);
            StringAssert.Contains(run.StandardOutput, "published: " + port.ToString(CultureInfo.InvariantCulture));
            StringAssert.Contains(run.StandardOutput, "shares the host's network", "the fallback is said in the log");
            StringAssert.Contains(run.StandardOutput, "disposed");
            StringAssert.Contains(run.StandardOutput, "replace=0", "replacing an image file inside the container works");
            StringAssert.DoesNotMatch(run.StandardOutput, new System.Text.RegularExpressions.Regex("in-place=0"), "an in-place write to a linked file is refused");
            var reader = run.StandardOutput.Split('\n').Single(line => line.StartsWith("reader: ", StringComparison.Ordinal));
            Assert.DoesNotContain("changed", reader, "the cached image is unchanged");
            Assert.DoesNotContain("replaced", reader);
            StringAssert.Contains(reader, "clean");
            Assert.IsEmpty(Directory.GetDirectories(Path.Combine(cache, "containers")), "no container directory is left");
            var state = Path.Combine(cache, "runtime", "runc");
            Assert.IsTrue(!Directory.Exists(state) || Directory.GetDirectories(state).Length == 0, "runc keeps no state");
            using var probe = new TcpClient();
            await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port, TestContext.CancellationToken).AsTask(), "the container's server is gone");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // A console program referencing this build's Containers.Host, built as root into a directory nobody can read.
    private async Task<string> BuildProbeAsync(string work)
    {
        var source = Directory.CreateDirectory(Path.Combine(work, "probe")).FullName;
        var output = Path.Combine(work, "probe-bin");
        string Reference(string name) => $"""<Reference Include="{name}" HintPath="{Path.Combine(AppContext.BaseDirectory, name + ".dll")}" />""";
        await File.WriteAllTextAsync(Path.Combine(source, "Probe.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                {Reference("Containers.Host")}
                {Reference("Containers.Oci")}
                {Reference("ZstdSharp")}
              </ItemGroup>
            </Project>
            """, TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(source, "Program.cs"), Probe, TestContext.CancellationToken);
        await TestTools.RunCheckedAsync(
            "dotnet",
            ["build", source, "-c", "Release", "-o", output, "-nologo", "-v:q", "-nodeReuse:false"],
            environment: new Dictionary<string, string> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" },
            cancellationToken: TestContext.CancellationToken);
        foreach (var path in Directory.EnumerateFileSystemEntries(work, "*", SearchOption.AllDirectories).Prepend(work))
        {
            File.SetUnixFileMode(path, Directory.Exists(path) ? (UnixFileMode)0b111_101_101 : File.GetUnixFileMode(path) | UnixFileMode.OtherRead | UnixFileMode.GroupRead);
        }

        return Path.Combine(output, "Probe.dll");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
