using System.Diagnostics;
using Containers.Cli.Running;
using Containers.Host.Lifecycle;

namespace Containers.Cli.State;

/// <summary>What a container is doing now: its record, checked against whether the process that runs it still answers.</summary>
public static class LiveStatus
{
    /// <summary>Whether the container's process serves its control socket: it is starting or running.</summary>
    public static bool IsLive(ContainerEntry entry) => ControlChannel.IsServed(entry);

    /// <summary>
    /// <c>running</c>, <c>starting</c>, <c>exited (CODE)</c>, <c>failed</c>, or <c>dead</c> when the record says it runs
    /// but the process that ran it is gone (killed).
    /// </summary>
    public static string Describe(ContainerEntry entry, ContainerRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Status switch
        {
            ContainerStatus.Exited => $"exited ({record.ExitCode})",
            ContainerStatus.Failed => "failed",
            _ when IsLive(entry) => record.Status,
            _ => "dead",
        };
    }

    /// <summary>Waits until the process that ran the container has finished with it (its record written, its supervisor gone), at most <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilEndedAsync(ContainerEntry entry, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && (IsLive(entry) || DetachedProcess.IsRunning(entry.SupervisorStampFile)))
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }
}
