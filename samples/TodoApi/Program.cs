using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using TodoApi;

var builder = WebApplication.CreateBuilder(args);

var database = RequiredConnectionString("Db", "an Npgsql connection string such as 'Host=db;Username=todo;Password=...;Database=todo'");
var redis = RequiredConnectionString("Redis", "a StackExchange.Redis configuration such as 'cache:6379'");

builder.Services.AddDbContext<TodoDb>(options => options.UseNpgsql(database));

// One Redis connection for the cache and the health check.
builder.Services.AddSingleton<IConnectionMultiplexer>(services =>
{
    var options = ConfigurationOptions.Parse(redis);
    // The cache only makes reads cheaper: start without Redis and keep reconnecting in the background,
    // and while it is away fail cache calls at once rather than queue them, so reads fall through to the database.
    options.AbortOnConnectFail = false;
    options.BacklogPolicy = BacklogPolicy.FailFast;
    options.LoggerFactory = services.GetRequiredService<ILoggerFactory>();
    return ConnectionMultiplexer.Connect(options);
});
builder.Services.AddStackExchangeRedisCache(options => options.InstanceName = "todo-api:");
builder.Services.AddOptions<RedisCacheOptions>()
    .Configure<IConnectionMultiplexer>((options, connection) => options.ConnectionMultiplexerFactory = () => Task.FromResult(connection));
builder.Services.AddSingleton<TodoCache>();

builder.Services.AddHealthChecks()
    .AddDbContextCheck<TodoDb>("database")
    .AddCheck<RedisHealthCheck>("redis");

var app = builder.Build();

await DatabaseStartup.EnsureSchemaAsync(app.Services);
ReportRedis(app.Services.GetRequiredService<IConnectionMultiplexer>()); // connects now rather than in the first request

app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
app.MapTodos();

await app.RunAsync();

string RequiredConnectionString(string name, string example) =>
    builder.Configuration.GetConnectionString(name) is { } value && !string.IsNullOrWhiteSpace(value)
        ? value
        : throw new InvalidOperationException(
            $"Missing setting 'ConnectionStrings:{name}': set it to {example}, e.g. with the environment variable ConnectionStrings__{name}.");

void ReportRedis(IConnectionMultiplexer connection)
{
    var endpoints = RedisHealthCheck.DescribeEndpoints(connection);
    if (connection.IsConnected)
    {
        app.Logger.LogInformation("Redis at {Endpoints} connected", endpoints);
    }
    else
    {
        app.Logger.LogWarning("Redis at {Endpoints} is not answering yet: reads go to the database until it does", endpoints);
    }
}

// "ok" when every check passes (like the other samples' /healthz); otherwise which check failed and why, with 503.
static Task WriteHealthAsync(HttpContext context, HealthReport report)
{
    context.Response.ContentType = "text/plain; charset=utf-8";
    if (report.Status == HealthStatus.Healthy)
    {
        return context.Response.WriteAsync("ok");
    }

    var failing = report.Entries
        .Where(entry => entry.Value.Status != HealthStatus.Healthy)
        .Select(entry => $"{entry.Key}: {entry.Value.Status} ({entry.Value.Description ?? entry.Value.Exception?.Message ?? "did not answer"})");
    return context.Response.WriteAsync(string.Join('\n', failing) + '\n');
}
