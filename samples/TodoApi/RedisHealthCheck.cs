using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace TodoApi;

/// <summary>Healthy when the shared Redis connection is up and answers a PING.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            return HealthCheckResult.Unhealthy($"not connected to {DescribeEndpoints(redis)}");
        }

        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"PING answered in {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            return HealthCheckResult.Unhealthy(exception.Message, exception);
        }
    }

    /// <summary>Where Redis is, for messages: <c>cache:6379</c>, never the password that the configuration may hold.</summary>
    public static string DescribeEndpoints(IConnectionMultiplexer redis) =>
        string.Join(", ", redis.GetEndPoints().Select(endpoint => endpoint is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : endpoint.ToString()));
}
