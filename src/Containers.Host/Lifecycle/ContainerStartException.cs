using Containers.Oci;

namespace Containers.Host.Lifecycle;

/// <summary>
/// A container did not become ready: it exited, a wait timed out, or it could not be started. The message
/// says which and ends with the container's last log lines, so a failed test shows the app's own error.
/// </summary>
public sealed class ContainerStartException : OciException
{
    /// <summary>Creates the exception.</summary>
    public ContainerStartException(string message, ContainerLogs logs, Exception? innerException = null)
        : base(WithLogs(message, logs), innerException)
    {
        Logs = logs;
    }

    /// <summary>Everything the container wrote.</summary>
    public ContainerLogs Logs { get; }

    private static string WithLogs(string message, ContainerLogs logs)
    {
        var tail = logs.Tail(50);
        return tail.Length == 0
            ? message + " The container wrote nothing to stdout or stderr."
            : message + " Last lines of its output:" + System.Environment.NewLine + tail;
    }
}
