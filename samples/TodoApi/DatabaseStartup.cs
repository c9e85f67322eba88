using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace TodoApi;

/// <summary>
/// Creates the schema before the app serves requests. Next to a database container that is still initialising,
/// the first connections are refused: those are waited out, for a bounded time, and each wait is logged.
/// </summary>
internal static partial class DatabaseStartup
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PauseBetweenAttempts = TimeSpan.FromSeconds(2);

    public static async Task EnsureSchemaAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TodoDb>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseStartup).FullName!);
        var target = Describe(db.Database.GetConnectionString());
        var waited = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // EnsureCreated suits a sample whose schema is one table; an app whose schema evolves applies migrations here.
                var created = await db.Database.EnsureCreatedAsync(cancellationToken);
                LogReady(logger, target, created ? "created the schema" : "the schema was already there", waited.Elapsed.TotalSeconds);
                return;
            }
            catch (Exception exception) when (TransientCause(exception) is { } cause && waited.Elapsed + PauseBetweenAttempts < Patience)
            {
                LogWaiting(logger, target, attempt, waited.Elapsed.TotalSeconds, Patience.TotalSeconds, Reason(cause));
                await Task.Delay(PauseBetweenAttempts, cancellationToken);
            }
            catch (Exception exception) when (TransientCause(exception) is { } cause)
            {
                throw new InvalidOperationException(
                    $"The database at {target} did not accept connections within {Patience.TotalSeconds:0} s ({attempt} attempts; last: {Reason(cause)}). " +
                    "Check ConnectionStrings:Db and that the database is running.", exception);
            }
        }
    }

    /// <summary>
    /// The connection failure worth waiting out (refused, reset, "the database system is starting up"), else null:
    /// a wrong password or a missing database fails at once. Npgsql's execution strategy wraps it in an InvalidOperationException.
    /// </summary>
    private static NpgsqlException? TransientCause(Exception exception) =>
        (exception as NpgsqlException ?? exception.InnerException as NpgsqlException) is { IsTransient: true } cause ? cause : null;

    /// <summary>Npgsql's message with the socket's ("Connection refused", "Name or service not known"): which one tells what to fix.</summary>
    private static string Reason(NpgsqlException cause) =>
        cause.InnerException is { } inner && !cause.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{cause.Message}: {inner.Message}" : cause.Message;

    /// <summary>Where the database is, for logs: host, port and database, never the password.</summary>
    private static string Describe(string? connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{settings.Host}:{settings.Port}/{settings.Database}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for the database at {Target} to accept connections (attempt {Attempt}, {Elapsed:0.0} s so far, giving up after {Patience:0} s): {Reason}")]
    private static partial void LogWaiting(ILogger logger, string target, int attempt, double elapsed, double patience, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database at {Target} ready: {Outcome} (after {Elapsed:0.0} s)")]
    private static partial void LogReady(ILogger logger, string target, string outcome, double elapsed);
}
