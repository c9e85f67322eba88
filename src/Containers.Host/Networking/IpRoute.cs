using Containers.Host.Runtimes;
using Containers.Oci;

namespace Containers.Host.Networking;

/// <summary>iproute2's <c>ip</c>: named network namespaces (<c>/run/netns</c>), links and addresses, several commands per process (<c>-batch</c>).</summary>
internal static class IpRoute
{
    /// <summary>The directory <c>ip netns</c> keeps named namespaces in.</summary>
    public const string NamespaceDirectory = "/run/netns";

    public static string NamespacePath(string name) => Path.Combine(NamespaceDirectory, name);

    /// <summary>The ip executable, or null when iproute2 is not installed.</summary>
    public static string? Executable => HostTools.FindOnPath("ip") ?? (File.Exists("/usr/sbin/ip") ? "/usr/sbin/ip" : null);

    /// <summary>
    /// Runs <paramref name="commands"/> (one <c>ip</c> command line each, without <c>ip</c> and options) in one process,
    /// inside the named network namespace <paramref name="networkNamespace"/> (null: this one); throws naming the one that failed.
    /// </summary>
    public static async Task RunAsync(string? networkNamespace, IReadOnlyList<string> commands, CancellationToken cancellationToken)
    {
        var ip = Executable ?? throw new OciException("Container networks need iproute2's ip, which is not on PATH; install it (apt-get install iproute2).");
        string[] arguments = networkNamespace is null ? ["-batch", "-"] : ["-n", networkNamespace, "-batch", "-"];
        var (code, output) = await HostTools.RunAsync(ip, arguments, string.Join('\n', commands) + "\n", cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw new OciException($"ip could not set up the container network ({output.Trim()}); commands: {string.Join("; ", commands)}.");
        }
    }

    /// <summary>Deletes the named network namespace (and with it every interface in it); no error when it is gone.</summary>
    public static async Task DeleteNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        if (File.Exists(NamespacePath(name)))
        {
            await HostTools.RunAsync(Executable ?? "ip", ["netns", "delete", name], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The named network namespaces whose names start with <paramref name="prefix"/>.</summary>
    public static IReadOnlyList<string> ListNamespaces(string prefix) =>
        Directory.Exists(NamespaceDirectory)
            ? Directory.GetFiles(NamespaceDirectory, prefix + "*").Select(Path.GetFileName).OfType<string>().ToList()
            : [];
}
