using System.Globalization;

namespace Containers.Host.Lifecycle;

/// <summary>
/// "pid starttime" of the process a container belongs to: what reaping goes by. The start time (field 22 of
/// <c>/proc/&lt;pid&gt;/stat</c>) tells a live owner from a reused pid.
/// </summary>
internal static class OwnerStamp
{
    private static readonly AsyncLocal<string?> Assigned = new();

    /// <summary>The stamp of this process.</summary>
    public static string Process { get; } = For(System.Environment.ProcessId);

    /// <summary>
    /// The owner of what is created now: this process, or within <see cref="Assign"/> the process that takes it over
    /// (a reused graph's supervisor, so that what the start makes outlives this process and is reaped after the supervisor).
    /// </summary>
    public static string Current => Assigned.Value ?? Process;

    public static string For(int pid) => pid.ToString(CultureInfo.InvariantCulture) + " " + (ProcessStartTime(pid) ?? "0");

    /// <summary>
    /// Makes <paramref name="stamp"/> the owner of everything created in this async flow until disposed: container, network
    /// and volume directories and the CLI's labels all take <see cref="Current"/>, so none of them needs to be told.
    /// </summary>
    public static IDisposable Assign(string stamp)
    {
        var previous = Assigned.Value;
        Assigned.Value = stamp;
        return new Restore(previous);
    }

    /// <summary>True when the stamp names a process that still runs (the same one: same pid and start time).</summary>
    public static bool IsAlive(string stamp)
    {
        var parts = stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ProcessStartTime(pid) == parts[1];
    }

    /// <summary>The pid a stamp names, or null.</summary>
    public static int? Pid(string stamp) =>
        int.TryParse(stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;

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

    /// <summary>
    /// Writes the stamp of process <paramref name="pid"/> (its pid with its start time, so that liveness checks never take
    /// a reused pid for it) to <paramref name="ownerFile"/>: written, then renamed, so a reader never sees half of it.
    /// </summary>
    public static void Write(string ownerFile, int pid)
    {
        File.WriteAllText(ownerFile + ".tmp", For(pid));
        File.Move(ownerFile + ".tmp", ownerFile, overwrite: true);
    }

    /// <summary>The stamp in <paramref name="ownerFile"/>, or null when there is none.</summary>
    public static string? Read(string ownerFile)
    {
        try
        {
            return File.ReadAllText(ownerFile).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? ProcessStartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Fields after the command name (which may contain spaces) start after the last ')'; state is field 3,
            // starttime field 22. A zombie (Z) or dead (X) process has ended: only its parent has not reaped it yet.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] is "Z" or "X" ? null : fields[19];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => Assigned.Value = previous;
    }
}
