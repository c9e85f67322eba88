namespace Worker;

/// <summary>Logs a heartbeat every few seconds until the host stops (SIGTERM from the container runtime).</summary>
internal sealed partial class HeartbeatService(ILogger<HeartbeatService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var beat = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        do
        {
            LogHeartbeat(++beat, DateTimeOffset.UtcNow);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker heartbeat {Beat} at {Time:O}")]
    private partial void LogHeartbeat(int beat, DateTimeOffset time);
}
