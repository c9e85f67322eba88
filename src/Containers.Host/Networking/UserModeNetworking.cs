using Containers.Host.Runtimes;

namespace Containers.Host.Networking;

/// <summary>
/// pasta (Debian package passt) and slirp4netns, the user-mode network stacks rootless podman uses. Both give a network
/// namespace a TAP device, which they open through <c>/dev/net/tun</c> — a device many machines (this project's CI among
/// them) let only root open — and both need the same user and network namespace pair that the host's own private network
/// is built on. So they are looked at only to say, when that private network cannot be made, why they are no way out
/// either; found once per process.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class UserModeNetworking
{
    private const string TunDevice = "/dev/net/tun";

    private static readonly string[] Tools = ["pasta", "slirp4netns"];

    private static readonly Lazy<string> Verdict = new(Examine);

    /// <summary>Why pasta and slirp4netns do not give a rootless container a network here, in words for the log.</summary>
    public static string WhyNotUsed() => Verdict.Value;

    private static string Examine()
    {
        var installed = Tools.Where(tool => HostTools.FindOnPath(tool) is not null).ToList();
        if (installed.Count == 0)
        {
            return "neither pasta (passt) nor slirp4netns is installed";
        }

        var tools = string.Join(" and ", installed);
        var need = installed.Count == 1 ? "needs" : "need";
        if (!File.Exists(TunDevice))
        {
            return $"{tools} {need} {TunDevice}, which this machine does not have";
        }

        if (NativeMethods.Access(TunDevice, NativeMethods.AccessReadWrite) != 0)
        {
            var owner = NativeMethods.LStat(TunDevice) is { } ids ? $", owned by uid {ids.Uid}" : "";
            return $"{tools} {need} {TunDevice}, which only root may open here (mode {Convert.ToString((int)File.GetUnixFileMode(TunDevice), 8)}{owner})";
        }

        return $"{tools} could open {TunDevice}, but {need} the user and network namespace pair that could not be made";
    }
}
