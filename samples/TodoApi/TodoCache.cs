using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace TodoApi;

/// <summary>
/// Todos by id in Redis, for a few minutes. The cache only makes reads cheaper: when Redis is away, a read is a miss
/// and a write is skipped (logged), so requests go on from the database and /healthz is what reports the outage.
/// </summary>
internal sealed partial class TodoCache(IDistributedCache cache, ILogger<TodoCache> logger)
{
    // Bounds how long a todo deleted while Redis was unreachable can still be read from the cache.
    private static readonly DistributedCacheEntryOptions Expiry = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };

    public async Task<Todo?> GetAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            var json = await cache.GetStringAsync(Key(id), cancellationToken);
            return json is null ? null : JsonSerializer.Deserialize<Todo>(json, JsonSerializerOptions.Web);
        }
        catch (Exception exception) when (IsRedisUnavailable(exception))
        {
            LogReadSkipped(logger, exception.GetType().Name, id);
            return null;
        }
    }

    public async Task SetAsync(Todo todo, CancellationToken cancellationToken)
    {
        try
        {
            await cache.SetStringAsync(Key(todo.Id), JsonSerializer.Serialize(todo, JsonSerializerOptions.Web), Expiry, cancellationToken);
        }
        catch (Exception exception) when (IsRedisUnavailable(exception))
        {
            LogStoreSkipped(logger, exception.GetType().Name, todo.Id);
        }
    }

    public async Task RemoveAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            await cache.RemoveAsync(Key(id), cancellationToken);
        }
        catch (Exception exception) when (IsRedisUnavailable(exception))
        {
            LogRemoveSkipped(logger, exception.GetType().Name, id);
        }
    }

    private static string Key(int id) => $"todos:{id}";

    // RedisTimeoutException derives from TimeoutException, not RedisException.
    private static bool IsRedisUnavailable(Exception exception) => exception is RedisException or RedisTimeoutException;

    // The error's type only: StackExchange.Redis logs the connection's details itself.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable ({Error}): todo {Id} is read from the database")]
    private static partial void LogReadSkipped(ILogger logger, string error, int id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable ({Error}): todo {Id} was not cached")]
    private static partial void LogStoreSkipped(ILogger logger, string error, int id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable ({Error}): todo {Id} was not removed from the cache and can be read from it until it expires")]
    private static partial void LogRemoveSkipped(ILogger logger, string error, int id);
}
