using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;

namespace Containers.Host.Runtimes;

/// <summary>
/// The built-in backend for machines with no OCI runtime: util-linux <c>unshare</c> creates the pid, mount,
/// uts, ipc and network namespaces; a host shell in them mounts <c>/proc</c>, a minimal <c>/dev</c>, <c>/dev/shm</c>,
/// <c>/tmp</c> and <c>/sys</c> into the container root and brings loopback up; <c>unshare --root --wd --setgid --setuid</c>
/// then enters the root and runs the process with the bundle's environment. Weaker than an OCI runtime: no
/// capability bounding, seccomp, masked paths or supplementary groups — for running tests where nothing
/// else is installed. As root, or rootless: nsenter then first joins the user namespace (and the container's network
/// namespace in it) that the <see cref="Networking.UserNamespaceKeeper"/> keeps.
/// </summary>
/// <param name="containersDirectory">The cache's <c>containers</c> directory (to find a container's pid file).</param>
/// <param name="rootless">Not root: a user namespace maps the caller to the container's root (and subordinate ids where there are); a private network where one can be made.</param>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class NamespacesRuntime(string containersDirectory, bool rootless = false) : IContainerRuntime
{
    private const string UnshareTool = "unshare";

    private static readonly string[] Devices = ["null", "zero", "full", "random", "urandom", "tty"];

    public string Name => "namespaces (unshare)";

    public bool SupportsReuse => !rootless;

    /// <summary>Why the backend cannot run here: util-linux unshare (2.38+, --root/--wd/--setuid) and, as root, ip; rootless, setpriv.</summary>
    public static string? Unavailable(bool rootless = false)
    {
        if (Find(UnshareTool) is null)
        {
            return "util-linux unshare is not on PATH";
        }

        if (rootless)
        {
            return Find("setpriv") is null ? "util-linux setpriv is not on PATH" : null;
        }

        return Find("ip") is null ? "ip (iproute2) is not on PATH" : null;
    }

    public Task PrepareAsync(ContainerLaunch launch, CancellationToken cancellationToken) => Bundle.PrepareAsync(launch, rootless, applyLimits: false, cancellationToken);

    public async Task<ContainerExecResult> ExecAsync(RunningContainer container, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? user, CancellationToken cancellationToken)
    {
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(container.Directory.Path, "config.json"), cancellationToken).ConfigureAwait(false))!;
        var process = spec["process"]!;
        var execUser = Bundle.ExecUser(container, user, rootless);

        // nsenter joins every namespace of the container's process and its root; the environment is the container's, plus the caller's.
        // Rootless it joins the user namespace first, and the network namespace only when the container has its own (the
        // host's would need privilege this user lacks).
        var arguments = new List<string> { "--target", container.Pid.ToString(CultureInfo.InvariantCulture) };
        arguments.AddRange(!rootless ? ["--mount", "--uts", "--ipc", "--net", "--pid"]
            : RuntimeSpec.NetworkNamespacePath(spec) is not null ? ["--user", "--mount", "--uts", "--ipc", "--net", "--pid"]
            : ["--user", "--mount", "--uts", "--ipc", "--pid"]);
        // --wd opens its directory before entering the root: named through the container's root, it lies inside it.
        arguments.AddRange(["--root", "--wd=" + $"/proc/{container.Pid.ToString(CultureInfo.InvariantCulture)}/root" + (string)process["cwd"]!]);
        if (rootless && !RootlessIdMapping.SpecHasRanges(spec))
        {
            // Only the caller is mapped, as the container's root: keeping its credentials it is that root. Switching ids
            // would call setgroups, which such a user namespace denies.
            arguments.Add("--preserve-credentials");
        }
        else
        {
            arguments.AddRange(["--setgid", execUser.Gid.ToString(CultureInfo.InvariantCulture), "--setuid", execUser.Uid.ToString(CultureInfo.InvariantCulture)]);
        }

        arguments.Add("--");
        arguments.AddRange(command);
        var start = HostTools.StartInfo(Find("nsenter") ?? throw new Oci.OciException("exec with the namespaces backend needs util-linux nsenter; install util-linux."), arguments);
        start.Environment.Clear();
        foreach (var variable in process["env"]!.AsArray().Select(v => (string)v!))
        {
            var (name, value) = Oci.Models.ContainerConfig.SplitEnvironmentVariable(variable);
            start.Environment[name] = value;
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var (code, stdout, stderr) = await HostTools.RunSeparatelyAsync(start, null, cancellationToken).ConfigureAwait(false);
        return new ContainerExecResult(code, stdout, stderr);
    }

    public Task<byte[]> ReadFileAsync(RunningContainer container, string path, CancellationToken cancellationToken) =>
        Bundle.ReadFileAsync(container, path, cancellationToken);

    public Task<int> ReapOrphansAsync(CancellationToken cancellationToken) => Task.FromResult(0);

    public Task<INetworkDriver> CreateNetworkAsync(string id, string cacheDirectory, string directory, Action<string> log, CancellationToken cancellationToken) =>
        Bundle.CreateNetworkAsync(id, cacheDirectory, directory, rootless, log, cancellationToken);

    public Task<IPublishedPorts> PublishPortsAsync(RunningContainer container, ContainerLaunch launch, CancellationToken cancellationToken) =>
        Bundle.PublishPortsAsync(container, launch, rootless, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    public Process StartRun(ContainerLaunch launch, string pidFile)
    {
        var id = launch.Id;
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(launch.Directory.Path, "config.json")))!;
        var process = spec["process"]!;

        // Rootless: a user namespace mapping the caller to root (and subordinate ids, where there are), as for a rootless OCI
        // runtime: the keeper's, with the container's network namespace made in it, or a new one on the host's network.
        var root = (string)spec["root"]!["path"]!;
        var setIds = !rootless || RootlessIdMapping.SpecHasRanges(spec);
        var script = new StringBuilder("set -e\n");
        script.Append("R=").Append(Quote(root)).Append('\n');
        script.Append("mkdir -p \"$R/proc\" \"$R/dev\" \"$R/tmp\" \"$R/sys\"\n");
        script.Append("mount -t proc -o nosuid,noexec,nodev proc \"$R/proc\"\n");
        script.Append("mount -t tmpfs -o nosuid,mode=755,size=65536k tmpfs \"$R/dev\"\n");
        foreach (var device in Devices)
        {
            script.Append("touch \"$R/dev/").Append(device).Append("\" && mount --bind /dev/").Append(device).Append(" \"$R/dev/").Append(device).Append("\"\n");
        }

        script.Append("mkdir -p \"$R/dev/shm\" \"$R/dev/pts\" && mount -t tmpfs -o nosuid,nodev,mode=1777 shm \"$R/dev/shm\"\n");
        script.Append("ln -s /proc/self/fd \"$R/dev/fd\"; ln -s /proc/self/fd/0 \"$R/dev/stdin\"; ln -s /proc/self/fd/1 \"$R/dev/stdout\"; ln -s /proc/self/fd/2 \"$R/dev/stderr\"\n");
        script.Append("mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs \"$R/tmp\"\n");
        script.Append("mount -t sysfs -o ro,nosuid,noexec,nodev sysfs \"$R/sys\" 2>/dev/null || mount --rbind /sys \"$R/sys\" 2>/dev/null || true\n");
        AppendAddedMounts(script, spec, root);

        // A network namespace made by the host (container networks) already has loopback up; otherwise unshare makes one.
        var networkNamespace = RuntimeSpec.NetworkNamespacePath(spec);
        if (!rootless && networkNamespace is null)
        {
            script.Append("ip link set lo up\n");
        }

        script.Append("hostname ").Append(Quote((string?)spec["hostname"] ?? id)).Append('\n');
        // The app runs as a child of this shell (pid 1 of the namespace), which forwards SIGTERM/SIGINT and
        // exits with the app's status: unshare reports a child killed by a signal only as a failure of its own.
        script.Append("env -i");
        foreach (var variable in process["env"]!.AsArray())
        {
            script.Append(' ').Append(Quote((string)variable!));
        }

        if (rootless)
        {
            // Root of a user namespace holds every capability there: without CAP_DAC_OVERRIDE (and the others a
            // container process never gets) the app cannot change the read-only, hard-linked cached image in place.
            script.Append(' ').Append(Quote(Find("setpriv")!)).Append(" --bounding-set=-all,+chown,+fowner,+setuid,+setgid,+sys_chroot,+kill,+net_bind_service,+audit_write --");
        }

        script.Append(' ').Append(Quote(Find(UnshareTool)!))
            .Append(" --root=\"$R\" --wd=").Append(Quote((string)process["cwd"]!));
        if (setIds)
        {
            // Rootless with only the caller mapped, the process already is the namespace's root (0:0, the only ids), and
            // --setgid would call setgroups, which a user namespace mapped by an unprivileged user must deny (one mapped
            // by newgidmap allows it).
            script.Append(" --setgid=").Append(((uint)process["user"]!["gid"]!).ToString(CultureInfo.InvariantCulture))
                .Append(" --setuid=").Append(((uint)process["user"]!["uid"]!).ToString(CultureInfo.InvariantCulture));
        }

        script.Append(" --");
        foreach (var argument in process["args"]!.AsArray())
        {
            script.Append(' ').Append(Quote((string)argument!));
        }

        // From here on the shell runs only builtins, so its one child is the app: the marker says when to look.
        script.Append(" &\nchild=$!\n: > ").Append(Quote(pidFile + ".started")).Append("\ntrap 'kill -TERM $child 2>/dev/null' TERM\ntrap 'kill -INT $child 2>/dev/null' INT\n");
        script.Append("status=0\nwait $child || status=$?\nwhile kill -0 $child 2>/dev/null; do wait $child && status=0 || status=$?; done\nexit $status\n");

        var userNamespace = RuntimeSpec.UserNamespacePath(spec);
        string[] namespaces = rootless && userNamespace is null
            ? [.. RootlessIdMapping.Current.UnshareArguments(), "--pid", "--fork", "--kill-child", "--mount", "--uts", "--ipc"]
            : ["--pid", "--fork", "--kill-child", "--mount", "--uts", "--ipc", .. (networkNamespace is null && !rootless ? new[] { "--net" } : [])];
        string[] unshareCommand = [Find(UnshareTool)!, .. namespaces, "--propagation", "private", "--", "/bin/sh", "-c", script.ToString()];

        // nsenter joins the prepared namespaces (the user namespace first: it owns the network namespace) and then execs
        // unshare (no fork: the process tree stays the same). Keeping its credentials, the caller is the root of a
        // rootless user namespace, with that namespace's capabilities.
        string[] enter = [
            .. userNamespace is null ? [] : new[] { "--user=" + userNamespace, "--preserve-credentials" },
            .. networkNamespace is null ? [] : new[] { "--net=" + networkNamespace }];
        var start = enter.Length == 0
            ? HostTools.StartInfo(unshareCommand[0], unshareCommand[1..])
            : HostTools.StartInfo(Find("nsenter") ?? throw new Oci.OciException("The namespaces backend needs util-linux nsenter for container networks; install util-linux."), [.. enter, "--", .. unshareCommand]);

        var unshare = launch.StartProcess(start);

        // The app is the child of unshare's forked shell; its host pid is what setns and kill need.
        _ = Task.Run(async () =>
        {
            for (var attempt = 0; attempt < 5000 && !unshare.HasExited; attempt++)
            {
                if (File.Exists(pidFile + ".started") && AppProcess(unshare.Id, root) is { } app)
                {
                    File.WriteAllText(pidFile, app.ToString(CultureInfo.InvariantCulture));
                    return;
                }

                await Task.Delay(2).ConfigureAwait(false);
            }
        });
        return unshare;
    }

    // Bind mounts and tmpfs the caller asked for, at destinations resolved inside the root as a chroot would (an image's
    // symbolic link must not send a mount onto a host path).
    private static void AppendAddedMounts(StringBuilder script, JsonNode spec, string root)
    {
        foreach (var mount in RuntimeSpec.AddedMounts(spec))
        {
            var destination = RootPath.ResolveFully(root, (string)mount["destination"]!, createDirectories: false);
            var options = mount["options"]!.AsArray().Select(o => (string)o!).ToList();
            if ((string?)mount["type"] == "tmpfs")
            {
                script.Append("mkdir -p ").Append(Quote(destination)).Append(" && mount -t tmpfs -o ")
                    .Append(Quote(string.Join(',', options))).Append(" tmpfs ").Append(Quote(destination)).Append('\n');
                continue;
            }

            var source = (string)mount["source"]!;
            script.Append("if [ -d ").Append(Quote(source)).Append(" ]; then mkdir -p ").Append(Quote(destination))
                .Append("; else mkdir -p ").Append(Quote(Path.GetDirectoryName(destination)!)).Append(" && { [ -e ").Append(Quote(destination)).Append(" ] || : > ").Append(Quote(destination)).Append("; }; fi\n");
            script.Append("mount --rbind ").Append(Quote(source)).Append(' ').Append(Quote(destination)).Append('\n');
            if (options.Contains("ro"))
            {
                script.Append("mount -o remount,bind,ro ").Append(Quote(destination)).Append('\n');
            }
        }
    }

    public Task<(int ExitCode, string Output)> KillAsync(string id, string signal, CancellationToken cancellationToken)
    {
        var pid = ContainerPid(id);
        if (pid is null)
        {
            return Task.FromResult((1, "no such container process"));
        }

        var name = signal.Trim().ToUpperInvariant();
        var number = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var given) ? given : (name.StartsWith("SIG", StringComparison.Ordinal) ? name[3..] : name) switch
        {
            "KILL" => 9,
            "INT" => 2,
            "QUIT" => 3,
            "HUP" => 1,
            "USR1" => 10,
            "USR2" => 12,
            "WINCH" => 28,
            _ => 15,
        };
        return Task.FromResult(Kill(pid.Value, number) == 0 ? (0, "") : (1, Marshal.GetLastPInvokeErrorMessage()));
    }

    public Task<(int ExitCode, string Output)> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        // unshare --kill-child takes the container down with it; this covers a container whose unshare is gone.
        if (ContainerPid(id) is { } pid)
        {
            Kill(pid, 9);
        }

        return Task.FromResult((0, ""));
    }

    // The recorded pid, only while that process still runs in this container's root (a reused pid is left alone).
    private int? ContainerPid(string id)
    {
        var directory = Path.Combine(containersDirectory, id);
        try
        {
            var pid = int.Parse(File.ReadAllText(Path.Combine(directory, "pid")).Trim(), CultureInfo.InvariantCulture);
            var root = new DirectoryInfo($"/proc/{pid}/root").LinkTarget;
            return root is not null && Path.TrimEndingDirectorySeparator(root) == Path.Combine(directory, "rootfs") ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The app down the line of first children from the started process (unshare, its shell, the app; a reused graph's
    // member has a waiting shell above unshare): the first whose root is the container's.
    private static int? AppProcess(int started, string root)
    {
        int? pid = started;
        for (var depth = 0; depth < 5 && pid is { } candidate; depth++, pid = FirstChild(candidate))
        {
            try
            {
                if (new DirectoryInfo($"/proc/{candidate.ToString(CultureInfo.InvariantCulture)}/root").LinkTarget is { } target && Path.TrimEndingDirectorySeparator(target) == Path.TrimEndingDirectorySeparator(root))
                {
                    return candidate;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        return null;
    }

    private static int? FirstChild(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Trim();
            return text.Length == 0 ? null : int.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string? Find(string tool) => HostTools.FindOnPath(tool);

    private static int Kill(int pid, int signal) => NativeMethods.Kill(pid, signal);
}
