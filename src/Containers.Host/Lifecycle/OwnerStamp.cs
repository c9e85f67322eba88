using System.Globalization;

namespace Containers.Host.Lifecycle;

/// <summary>
/// "pid starttime" of the process a container belongs to: what reaping goes by. The start time (field 22 of
/// <c>/proc/&lt;pid&gt;/stat</c>) tells a live owner from a reused pid.
/// </summary>
internal static class OwnerStamp
{
    /// <summary>The stamp of this process.</summary>
    public static string Current { get; } = For(System.Environment.ProcessId);

    public static string For(int pid) => pid.ToString(CultureInfo.InvariantCulture) + " " + (ProcessStartTime(pid) ?? "0");

    /// <summary>True when the stamp names a process that still runs (the same one: same pid and start time).</summary>
    public static bool IsAlive(string stamp)
    {
        var parts = stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ProcessStartTime(pid) == parts[1];
    }

    /// <summary>True when the stamp in <paramref name="ownerFile"/> names a live process; a missing file counts as alive for a minute after its directory was made (it is being created).</summary>
    public static bool IsFileOwnerAlive(string ownerFile)
    {
        try
        {
            return IsAlive(File.ReadAllText(ownerFile));
        }
        catch (IOException)
        {
            // No owner file: being created right now by a live process, or left half-made; age decides.
            return Directory.GetLastWriteTimeUtc(Path.GetDirectoryName(ownerFile)!) > DateTime.UtcNow.AddMinutes(-1);
        }
    }

    private static string? ProcessStartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Fields after the command name (which may contain spaces) start after the last ')'; starttime is field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
