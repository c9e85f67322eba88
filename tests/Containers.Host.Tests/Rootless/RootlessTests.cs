using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Containers.TestSupport;

namespace Containers.Host.Tests.Rootless;

/// <summary>
/// ContainerHost as a non-root user: a small program built against Containers.Host runs as <c>nobody</c> (no subordinate
/// ids) or as a throwaway user with a range in /etc/subuid and /etc/subgid, and starts containers with the OCI runtime
/// and the namespaces backends, both rootless: a user namespace kept by the host's forwarder process, each container in a
/// network namespace of its own in it. Checked: it starts, its port answers only through the published port, it stops,
/// exec works, members of a rootless network reach each other by alias and nothing else, the image's user is the
/// process's user where subordinate ids exist, the cached image cannot be changed from inside, and nothing is left
/// behind — after dispose, and after the program is killed (the next start reaps it).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class RootlessTests
{
    private const int Nobody = 65534;

    private const string Probe = """"
        using System.Net.Sockets;
        using Containers.Host.Images;
        using Containers.Host.Lifecycle;
        using Containers.Host.Networking;
        using Containers.Host.Readiness;
        using Containers.Host.Runtimes;

        // Answers every request with "hello from <NAME> <path> uid=<uid>"; the arguments after the port are only a marker.
        const string Server = """
            use IO::Socket::INET; $| = 1;
            my ($addr, $port) = @ARGV;
            my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Listen => 10, ReuseAddr => 1) or die "listen: $!";
            print "listening\n";
            while (my $c = $s->accept) {
              my $req = <$c> // ""; my ($path) = $req =~ m{^\w+ (\S+)}; $path //= "/";
              while (my $l = <$c>) { last if $l =~ /^\r?\n$/ }
              my $body = "hello from $ENV{NAME} $path uid=$<\n";
              print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body"; close $c;
            }
            """;

        // Asks each host:port for "/", prints "<target> -> <answer>" or "<target> -> unreachable".
        const string Client = """
            use IO::Socket::INET; $| = 1;
            for my $t (@ARGV) {
              my $c = IO::Socket::INET->new(PeerAddr => $t, Timeout => 2);
              if (!$c) { print "$t -> unreachable\n"; next; }
              print $c "GET / HTTP/1.0\r\n\r\n"; my @lines = <$c>; print "$t -> $lines[-1]";
            }
            """;

        var (mode, layout, tag, cache, backend, marker) = (args[0], args[1], args[2], args[3], Enum.Parse<ContainerBackendKind>(args[4]), args[5]);

        ContainerStartOptions Options(string name, IReadOnlyList<string> command, string? user = null)
        {
            var options = new ContainerStartOptions
            {
                Backend = backend,
                Image = ContainerImageSource.FromOciLayout(layout, tag),
                Command = command,
                User = user,
                CacheDirectory = cache,
                StopGracePeriod = TimeSpan.FromSeconds(1),
                Log = line => Console.WriteLine("log: " + line),
            };
            options.Environment["NAME"] = name;
            return options;
        }

        ContainerStartOptions ServerOptions(string name, string address, int port, string? user, params (ContainerNetwork Network, string[] Aliases)[] networks)
        {
            var options = Options(name, ["perl", "-e", Server, address, port.ToString(), marker], user);
            options.PublishedPorts.Add(port);
            options.WaitStrategies.Add(Wait.ForTcpPort(port));
            foreach (var (network, aliases) in networks)
            {
                options.Networks.Add(new ContainerNetworkAttachment(network, aliases));
            }

            return options;
        }

        async Task<string> RunJobAsync(IReadOnlyList<string> command, params (ContainerNetwork Network, string[] Aliases)[] networks)
        {
            var job = Options("job", command);
            job.WaitStrategies.Add(Wait.ForExit(0));
            foreach (var (network, aliases) in networks)
            {
                job.Networks.Add(new ContainerNetworkAttachment(network, aliases));
            }

            await using var container = await ContainerHost.StartAsync(job);
            return string.Join("\n", container.Logs.StandardOutput.Concat(container.Logs.StandardError));
        }

        async Task<string> ExecAsync(RunningContainer container, params string[] command)
        {
            var result = await container.ExecAsync(command);
            return $"{result.ExitCode} {result.StandardOutput.Trim().ReplaceLineEndings(" ")} {result.StandardError.Trim().ReplaceLineEndings(" ")}".Trim();
        }

        try
        {
            switch (mode)
            {
                case "single":
                {
                    var (port, user) = (int.Parse(args[6]), args[7] == "-" ? null : args[7]);
                    var options = ServerOptions("single", "127.0.0.1", port, user);
                    options.WaitStrategies.Add(Wait.ForHttp("/ready", port));
                    await using (var container = await ContainerHost.StartAsync(options))
                    {
                        using var http = container.CreateHttpClient();
                        Console.WriteLine("answer: " + (await http.GetStringAsync("/hello")).Trim());
                        Console.WriteLine("backend: " + container.BackendName);
                        Console.WriteLine("published: " + container.GetPublishedPort(port));
                        try
                        {
                            using var direct = new TcpClient();
                            await direct.ConnectAsync("127.0.0.1", port);
                            Console.WriteLine("direct: connected");
                        }
                        catch (SocketException ex)
                        {
                            Console.WriteLine("direct: " + ex.SocketErrorCode);
                        }

                        Console.WriteLine("exec-id: " + await ExecAsync(container, "id", "-u"));
                        Console.WriteLine("exec-interfaces: " + await ExecAsync(container, "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' '"));
                    }

                    Console.WriteLine("disposed");

                    // Without overlayfs the container root links the cached files: a write must not reach the cache.
                    Console.WriteLine("writer: " + (await RunJobAsync(["/bin/sh", "-c", "echo changed > /etc/debian_version; echo in-place=$?; echo new > /etc/added; echo replaced > /etc/hostname.new && mv /etc/hostname.new /etc/hostname; echo replace=$?"])).ReplaceLineEndings(" "));
                    Console.WriteLine("reader: " + (await RunJobAsync(["/bin/sh", "-c", "cat /etc/debian_version /etc/hostname; test -e /etc/added && echo leaked || echo clean"])).ReplaceLineEndings(" "));
                    break;
                }

                case "networks":
                {
                    var networkOptions = new ContainerNetworkOptions { Backend = backend, CacheDirectory = cache, Log = line => Console.WriteLine("log: " + line) };
                    await using var backendNetwork = await ContainerNetwork.CreateAsync("backend", networkOptions);
                    await using var otherNetwork = await ContainerNetwork.CreateAsync("other", networkOptions);
                    await using var db = await ContainerHost.StartAsync(ServerOptions("db", "0.0.0.0", 7000, null, (backendNetwork, ["db", "postgres"])));
                    await using var stranger = await ContainerHost.StartAsync(ServerOptions("stranger", "0.0.0.0", 7000, null, (otherNetwork, ["stranger"])));
                    var strangerAddress = otherNetwork.Members.Single().Address;
                    Console.WriteLine("subnets: " + backendNetwork.Subnet + " " + otherNetwork.Subnet);
                    foreach (var line in (await RunJobAsync(["perl", "-e", Client, "db:7000", "postgres:7000", "stranger:7000", strangerAddress + ":7000"], (backendNetwork, ["app"]))).Split('\n'))
                    {
                        Console.WriteLine("client: " + line.Replace(strangerAddress, "<stranger address>", StringComparison.Ordinal));
                    }

                    foreach (var line in (await RunJobAsync(["perl", "-e", Client, "db:7000", "stranger:7000"], (backendNetwork, ["gateway"]), (otherNetwork, ["gateway"]))).Split('\n'))
                    {
                        Console.WriteLine("both: " + line);
                    }

                    Console.WriteLine("exec-resolve: " + await ExecAsync(stranger, "getent", "hosts", "db"));
                    Console.WriteLine("exec-hosts: " + await ExecAsync(db, "getent", "hosts", "postgres"));
                    using var http = db.CreateHttpClient(7000);
                    Console.WriteLine("db-published: " + (await http.GetStringAsync("/from-host")).Trim());
                    break;
                }

                case "hold":
                {
                    // Everything a run makes (keeper, network, namespaces, containers), then wait to be killed.
                    var network = await ContainerNetwork.CreateAsync("held", new ContainerNetworkOptions { Backend = backend, CacheDirectory = cache });
                    var member = await ContainerHost.StartAsync(ServerOptions("member", "0.0.0.0", 7000, null, (network, ["member"])));
                    var alone = await ContainerHost.StartAsync(ServerOptions("alone", "127.0.0.1", 7001, null));
                    using var http = member.CreateHttpClient(7000);
                    Console.WriteLine("answer: " + (await http.GetStringAsync("/held")).Trim());
                    Console.WriteLine("holding");
                    await Task.Delay(Timeout.Infinite);
                    break;
                }

                case "reap":
                {
                    // The next start reaps what a killed run left.
                    Console.WriteLine("job: " + await RunJobAsync(["true"]));
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            Console.WriteLine("failed: " + ex);
            return 1;
        }

        Console.WriteLine("done");
        return 0;
        """";

    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private static string? s_work;
    private static string? s_program;

    public TestContext TestContext { get; set; } = null!;

    [ClassCleanup]
    public static void RemoveProbe()
    {
        if (s_work is not null)
        {
            Directory.Delete(s_work, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("OciRuntime", "runc")]
    [DataRow("Namespaces", "namespaces (unshare)")]
    public async Task A_non_root_user_runs_a_container_rootless_on_a_private_network_and_leaves_nothing_behind(string backend, string backendName)
    {
        var user = await RequireRootlessAsync(Nobody);
        var cache = CreateCache(user);
        var port = FreePort();

        var run = await RunProbeAsync(user, cache, ["single", .. Image(cache, backend), port.ToString(CultureInfo.InvariantCulture), "-"]);

        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        StringAssert.Contains(run.StandardOutput, "answer: hello from single /hello uid=0", "the app runs as the container's root, which is nobody on the host");
        StringAssert.Contains(run.StandardOutput, "backend: " + backendName);
        StringAssert.Contains(run.StandardOutput, "has a private network", "the log says how the container is networked");
        StringAssert.Contains(run.StandardOutput, "only your own user is mapped (uid 65534 as the container's root): nobody has no range in /etc/subuid and /etc/subgid", "the log says why the image's user is not used");
        var published = int.Parse(Line(run, "published: "), CultureInfo.InvariantCulture);
        Assert.AreNotEqual(port, published, "the port is published on a port of its own, not shared with the host");
        Assert.AreEqual(nameof(SocketError.ConnectionRefused), Line(run, "direct: "), "the app's 127.0.0.1 is the container's own: nothing listens on the host's");
        Assert.AreEqual("0 0", Line(run, "exec-id: "), "exec runs in the container as its root");
        Assert.AreEqual("0 lo", Line(run, "exec-interfaces: "), "the container's network namespace has only its loopback");
        StringAssert.Contains(run.StandardOutput, "replace=0", "replacing an image file inside the container works");
        StringAssert.DoesNotMatch(run.StandardOutput, new Regex("in-place=0"), "an in-place write to a linked file is refused");
        var reader = Line(run, "reader: ");
        Assert.DoesNotContain("changed", reader, "the cached image is unchanged");
        Assert.DoesNotContain("replaced", reader);
        StringAssert.Contains(reader, "clean");
        await AssertNothingLeftAsync(cache);
        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, published, TestContext.CancellationToken).AsTask(), "the published port is closed");
    }

    [TestMethod]
    public async Task Where_no_private_network_can_be_made_a_rootless_container_shares_the_host_network_and_says_why()
    {
        var user = await RequireRootlessAsync(Nobody);
        var cache = CreateCache(user);
        var port = FreePort();

        // A PATH with what the run needs but nsenter, which the private network cannot do without.
        var bin = Directory.CreateDirectory(Path.Combine(s_work!, "bin-without-nsenter-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        foreach (var tool in new[] { "dotnet", "runc", "unshare", "setpriv", "env", "ip", "slirp4netns", "pasta" })
        {
            if (TestTools.FindOnPath(tool) is { } path)
            {
                File.CreateSymbolicLink(Path.Combine(bin, tool), path);
            }
        }

        var run = await RunProbeAsync(user, cache, ["single", .. Image(cache, "OciRuntime"), port.ToString(CultureInfo.InvariantCulture), "-"], path: bin);

        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        StringAssert.Contains(run.StandardOutput, "shares the host's network (no private network: nsenter (util-linux) is not on PATH; ", "the log says why");
        StringAssert.Matches(Line(run, "log: Rootless: container "), new Regex(@"(slirp4netns|pasta)"), "and why pasta and slirp4netns are no way out either");
        Assert.AreEqual(port, int.Parse(Line(run, "published: "), CultureInfo.InvariantCulture), "the container's ports are the host's");
        Assert.AreEqual("connected", Line(run, "direct: "));
        StringAssert.Contains(run.StandardOutput, "answer: hello from single /hello uid=0");
        Assert.AreEqual("0 0", Line(run, "exec-id: "));
        await AssertNothingLeftAsync(cache);
    }

    [TestMethod]
    [DataRow("OciRuntime")]
    [DataRow("Namespaces")]
    public async Task Rootless_network_members_reach_each_other_by_alias_and_other_networks_are_unreachable(string backend)
    {
        var user = await RequireRootlessAsync(Nobody);
        var cache = CreateCache(user);

        var run = await RunProbeAsync(user, cache, ["networks", .. Image(cache, backend)]);

        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        var client = Lines(run, "client: ");
        CollectionAssert.Contains(client, "db:7000 -> hello from db / uid=0");
        CollectionAssert.Contains(client, "postgres:7000 -> hello from db / uid=0", "every alias resolves");
        CollectionAssert.Contains(client, "stranger:7000 -> unreachable", "another network's alias does not resolve here");
        CollectionAssert.Contains(client, "<stranger address>:7000 -> unreachable", "nor is its address reachable");
        CollectionAssert.AreEqual(new[] { "db:7000 -> hello from db / uid=0", "stranger:7000 -> hello from stranger / uid=0" }, Lines(run, "both: "), "a container on both networks reaches both");
        var subnets = Line(run, "subnets: ").Split(' ');
        Assert.AreNotEqual(subnets[0], subnets[1]);
        StringAssert.StartsWith(Line(run, "exec-resolve: "), "2", "getent finds no 'db' on the stranger's network");
        StringAssert.Matches(Line(run, "exec-hosts: "), new Regex(@"^0 10\.89\.\d+\.\d+\s+db postgres"), "exec in a member sees its network's hosts file");
        Assert.AreEqual("hello from db /from-host uid=0", Line(run, "db-published: "), "ports of network members are published on 127.0.0.1 too");
        await AssertNothingLeftAsync(cache);
    }

    [TestMethod]
    [DataRow("OciRuntime", "runc")]
    [DataRow("Namespaces", "namespaces (unshare)")]
    public async Task With_subordinate_ids_the_image_user_is_the_process_user_inside(string backend, string backendName)
    {
        await RequireRootlessAsync(Nobody);
        TestTools.Require("newuidmap", "uidmap");
        TestTools.Require("newgidmap", "uidmap");
        await using var user = await ThrowawayUser.CreateAsync(TestContext.CancellationToken);
        var cache = CreateCache(user.Ids);
        var port = FreePort();

        var run = await RunProbeAsync(user.Ids, cache, ["single", .. Image(cache, backend), port.ToString(CultureInfo.InvariantCulture), "999:999"]);

        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        StringAssert.Contains(run.StandardOutput, "backend: " + backendName);
        StringAssert.Contains(run.StandardOutput, "answer: hello from single /hello uid=999", "the image's user runs the app");
        Assert.AreEqual("0 999", Line(run, "exec-id: "), "exec runs as the image's user too");
        StringAssert.Contains(run.StandardOutput, $"uid {user.SubordinateStart + 998} on the host", "the log says who the app is outside");
        StringAssert.Contains(run.StandardOutput, $"container uids 1-65536 are your subordinate uids {user.SubordinateStart}-{user.SubordinateStart + 65535} (/etc/subuid)");
        Assert.AreEqual(nameof(SocketError.ConnectionRefused), Line(run, "direct: "));
        await AssertNothingLeftAsync(cache);
        Assert.IsEmpty(await ProcessesOfAsync(user.Ids.Uid, user.SubordinateStart, 65536), "no process of the user or its subordinate ids is left");
    }

    [TestMethod]
    [DataRow("OciRuntime")]
    [DataRow("Namespaces")]
    public async Task A_killed_run_leaves_nothing_once_the_next_start_reaps(string backend)
    {
        var user = await RequireRootlessAsync(Nobody);
        var cache = CreateCache(user);
        using (var held = Process.Start(ProbeStart(user, cache, ["hold", .. Image(cache, backend)]))!)
        {
            var output = new List<string>();
            while (await held.StandardOutput.ReadLineAsync(TestContext.CancellationToken) is { } line)
            {
                output.Add(line);
                if (line == "holding" || line.StartsWith("failed", StringComparison.Ordinal))
                {
                    break;
                }
            }

            TestContext.WriteLine(string.Join("\n", output));
            CollectionAssert.Contains(output, "holding", string.Join("\n", output));
            CollectionAssert.Contains(output, "answer: hello from member /held uid=0");
            Assert.IsNotEmpty(Processes(cache), "the run has its processes");

            // SIGKILL: no dispose, no finally.
            held.Kill();
            await held.WaitForExitAsync(TestContext.CancellationToken);
        }

        // The keeper and the namespace holders see their stdin close and end by themselves, before anything reaps them.
        var helpers = Processes(cache).Where(p => p.Contains(" --port-forwarder ", StringComparison.Ordinal) || p.Contains(" containers-sdk-netns ", StringComparison.Ordinal)).ToList();
        for (var attempt = 0; attempt < 100 && helpers.Count > 0; attempt++)
        {
            await Task.Delay(100, TestContext.CancellationToken);
            helpers = Processes(cache).Where(p => p.Contains(" --port-forwarder ", StringComparison.Ordinal) || p.Contains(" containers-sdk-netns ", StringComparison.Ordinal)).ToList();
        }

        Assert.IsEmpty(helpers, "the keeper and holders of a killed run end with it: " + string.Join("; ", helpers));

        var reap = await RunProbeAsync(user, cache, ["reap", .. Image(cache, backend)]);

        Assert.AreEqual(0, reap.ExitCode, reap.StandardOutput + reap.StandardError);
        Assert.AreEqual(2, Regex.Matches(reap.StandardOutput, "Removed container containers-sdk-").Count, "the killed run's two containers are reaped");
        StringAssert.Contains(reap.StandardOutput, "Removed network containers-sdk-net-");
        await AssertNothingLeftAsync(cache);
    }

    // Skips (naming the tool) only where a tool is really absent; CI runs as root with all of them.
    private async Task<(int Uid, int Gid)> RequireRootlessAsync(int uid)
    {
        var setpriv = TestTools.Require("setpriv", "util-linux");
        TestTools.Require("runc", "runc");
        TestTools.Require("nsenter", "util-linux");
        TestTools.Require("ip", "iproute2");
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("the test switches to the nobody user, which needs root");
        }

        var userNamespaces = await TestTools.RunAsync(setpriv, [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "unshare", "--user", "--map-root-user", "--net", "true"], cancellationToken: TestContext.CancellationToken);
        if (userNamespaces.ExitCode != 0)
        {
            Assert.Inconclusive("rootless mode cannot work on this machine: unprivileged user namespaces are disabled (" + userNamespaces.StandardError.Trim() + ")");
        }

        await BuildProbeAsync();
        return (uid, uid);
    }

    // The image, the cache, the backend, and the marker the containers' commands carry: the cache's path too, so the
    // processes of a run all name it.
    private static string[] Image(string cache, string backend) => [TestBaseImages.LayoutDirectory, "runtime-deps-10.0", cache, backend, cache];

    // A cache (and home) of the user's own under the class's work directory.
    private string CreateCache((int Uid, int Gid) user)
    {
        var directory = Directory.CreateDirectory(Path.Combine(s_work!, "cache-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        Directory.CreateDirectory(Path.Combine(directory, "home"));
        foreach (var path in new[] { directory, Path.Combine(directory, "home") })
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
            TestTools.RunCheckedAsync("chown", [$"{user.Uid}:{user.Gid}", path]).GetAwaiter().GetResult();
        }

        return directory;
    }

    private static ProcessStartInfo ProbeStart((int Uid, int Gid) user, string cache, IReadOnlyList<string> arguments, string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    {
        var start = new ProcessStartInfo(TestTools.FindOnPath("setpriv")!) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])[
            $"--reuid={user.Uid}", $"--regid={user.Gid}", "--clear-groups", TestTools.FindOnPath("env")!, "-i", "PATH=" + path,
            "HOME=" + Path.Combine(cache, "home"), "DOTNET_CLI_TELEMETRY_OPTOUT=1", "dotnet", s_program!, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private async Task<ToolResult> RunProbeAsync((int Uid, int Gid) user, string cache, IReadOnlyList<string> arguments, string? path = null)
    {
        var start = path is null ? ProbeStart(user, cache, arguments) : ProbeStart(user, cache, arguments, path);
        var run = await TestTools.RunAsync(start.FileName, start.ArgumentList, cancellationToken: TestContext.CancellationToken);
        TestContext.WriteLine(run.StandardOutput + run.StandardError);
        return run;
    }

    // Nothing of the run: no container, network or keeper record, no runc state, no process that names the cache (runc,
    // unshare, the keeper, the namespace holders, and the containers' apps, whose commands carry it as a marker).
    private async Task AssertNothingLeftAsync(string cache)
    {
        foreach (var records in new[] { "containers", "networks", "rootless" })
        {
            var directory = Path.Combine(cache, records);
            Assert.IsEmpty(Directory.Exists(directory) ? Directory.GetDirectories(directory) : [], $"nothing is left in {records}/");
        }

        var state = Path.Combine(cache, "runtime", "runc");
        Assert.IsTrue(!Directory.Exists(state) || Directory.GetDirectories(state).Length == 0, "runc keeps no state");

        // A killed process may take a moment to go.
        var left = Processes(cache);
        for (var attempt = 0; attempt < 50 && left.Count > 0; attempt++)
        {
            await Task.Delay(100, TestContext.CancellationToken);
            left = Processes(cache);
        }

        Assert.IsEmpty(left, "no process of the run is left: " + string.Join("; ", left));
    }

    private static List<string> Processes(string needle)
    {
        var found = new List<string>();
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(needle, StringComparison.Ordinal))
                {
                    found.Add(pid.ToString(CultureInfo.InvariantCulture) + " " + commandLine.Trim());
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return found;
    }

    private static async Task<List<string>> ProcessesOfAsync(int uid, int subordinateStart, int count)
    {
        var ps = await TestTools.RunCheckedAsync("ps", ["-e", "-o", "uid=,pid=,args="]);
        return ps.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => int.TryParse(line.Split(' ')[0], out var owner) && (owner == uid || (owner >= subordinateStart && owner < subordinateStart + count)))
            .ToList();
    }

    private static string Line(ToolResult run, string prefix) =>
        run.StandardOutput.Split('\n').Select(line => line.TrimEnd('\r')).FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..]
        ?? throw new AssertFailedException($"no '{prefix}' line in:\n{run.StandardOutput}");

    private static List<string> Lines(ToolResult run, string prefix) =>
        run.StandardOutput.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.StartsWith(prefix, StringComparison.Ordinal)).Select(line => line[prefix.Length..]).ToList();

    // A console program referencing this build's Containers.Host, built once as root into a directory everyone can read.
    private async Task BuildProbeAsync()
    {
        await BuildGate.WaitAsync(TestContext.CancellationToken);
        try
        {
            if (s_program is not null)
            {
                return;
            }

            var work = Directory.CreateTempSubdirectory("host-rootless-").FullName;
            File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
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
            foreach (var path in Directory.EnumerateFileSystemEntries(work, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(path, Directory.Exists(path) ? (UnixFileMode)0b111_101_101 : File.GetUnixFileMode(path) | UnixFileMode.OtherRead | UnixFileMode.GroupRead);
            }

            s_work = work;
            s_program = Path.Combine(output, "Probe.dll");
        }
        finally
        {
            BuildGate.Release();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A system user made for one test, with 65536 subordinate uids and gids, removed again afterwards.</summary>
    private sealed class ThrowawayUser : IAsyncDisposable
    {
        private readonly string _name;

        private ThrowawayUser(string name, (int Uid, int Gid) ids, int subordinateStart)
        {
            _name = name;
            Ids = ids;
            SubordinateStart = subordinateStart;
        }

        public (int Uid, int Gid) Ids { get; }

        public int SubordinateStart { get; }

        public static async Task<ThrowawayUser> CreateAsync(CancellationToken cancellationToken)
        {
            TestTools.Require("useradd", "passwd");
            var name = "csdkrl" + Guid.NewGuid().ToString("N")[..8];
            await TestTools.RunCheckedAsync("useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name], cancellationToken: cancellationToken);

            // A range far above the ones useradd hands out (100000 up), different for every test user.
            var start = 1_500_000_000 + Random.Shared.Next(0, 10_000) * 65536;
            foreach (var file in new[] { "/etc/subuid", "/etc/subgid" })
            {
                await File.AppendAllTextAsync(file, $"{name}:{start}:65536\n", cancellationToken);
            }

            var uid = int.Parse((await TestTools.RunCheckedAsync("id", ["-u", name], cancellationToken: cancellationToken)).StandardOutput.Trim(), CultureInfo.InvariantCulture);
            var gid = int.Parse((await TestTools.RunCheckedAsync("id", ["-g", name], cancellationToken: cancellationToken)).StandardOutput.Trim(), CultureInfo.InvariantCulture);
            return new ThrowawayUser(name, (uid, gid), start);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var file in new[] { "/etc/subuid", "/etc/subgid" })
            {
                var kept = (await File.ReadAllLinesAsync(file)).Where(line => !line.StartsWith(_name + ":", StringComparison.Ordinal));
                await File.WriteAllLinesAsync(file, kept);
            }

            // Fails while a process of the user runs: then the test leaves something behind, and says so.
            await TestTools.RunCheckedAsync("userdel", [_name]);
        }
    }
}
