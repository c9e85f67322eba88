using Containers.Oci;
using Containers.Sdk.Tasks.BuildServer;
using Microsoft.Build.Framework;
using MSBuildTask = Microsoft.Build.Utilities.Task;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Base of the Containers.Sdk tasks: runs the work with a cancellation token that MSBuild can trip
/// (Ctrl+C), and turns every failure into one coded, one-line MSBuild error. A stack trace never
/// reaches the user's console; the exception's detail goes to the log at low importance, where
/// <c>-v:diag</c> or a binary log shows it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "MSBuild may call Cancel after Execute returns; a CancellationTokenSource without timers holds nothing that needs disposing.")]
public abstract class ContainerTask : MSBuildTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancellation = new();

    /// <summary>The project being built (MSBuildProjectFullPath): errors point at it rather than at our .targets file.</summary>
    public string? ProjectFullPath { get; set; }

    /// <summary>Requests cancellation of the running work; MSBuild calls it on Ctrl+C.</summary>
    public void Cancel() => _cancellation.Cancel();

    /// <inheritdoc />
    public sealed override bool Execute()
    {
        var server = (Outcome: BuildServerClient.Outcome.NotRunning, Success: false);
        try
        {
            if (UsesBuildServer)
            {
                server = BuildServerClient.TryRun(this, Log, _cancellation.Token);
                if (server.Outcome == BuildServerClient.Outcome.Ran)
                {
                    return server.Success && !Log.HasLoggedErrors;
                }
            }

            return ExecuteCore(_cancellation.Token) && !Log.HasLoggedErrors;
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            LogCodedError(ContainerErrorCodes.Canceled, "The container step was canceled.");
            return false;
        }
        catch (Exception exception)
        {
            LogException(exception);
            return false;
        }
        finally
        {
            // Also after a failed publish: the next attempt (with the fix) is the one that benefits.
            if (StartsBuildServer && server.Outcome == BuildServerClient.Outcome.NotRunning && !_cancellation.IsCancellationRequested)
            {
                BuildServerClient.Start(Log);
            }
        }
    }

    /// <summary>
    /// True when this task runs in the Containers.Sdk build server if one is running (and starts one when none is);
    /// false runs it in the build's own process.
    /// </summary>
    protected virtual bool UsesBuildServer => false;

    /// <summary>True when this task, run in the build's process because no server was running, starts one.</summary>
    protected virtual bool StartsBuildServer => UsesBuildServer;

    /// <summary>The value of an on/off property that defaults to on: only an explicit "false" (any case, spaces ignored) turns it off.</summary>
    protected static bool Switch(string? value) => !string.Equals(value?.Trim(), "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>Does the task's work; returns false when it logged errors.</summary>
    protected abstract bool ExecuteCore(CancellationToken cancellationToken);

    /// <summary>Logs <paramref name="message"/> as an error with <paramref name="code"/>, attributed to the project file.</summary>
    protected void LogCodedError(string code, string message) =>
        Log.LogError(subcategory: null, code, helpKeyword: null, ErrorFile, 0, 0, 0, 0, message);

    /// <summary>Logs <paramref name="message"/> as a warning with <paramref name="code"/>, attributed to the project file.</summary>
    protected void LogCodedWarning(string code, string message) =>
        Log.LogWarning(subcategory: null, code, helpKeyword: null, ErrorFile, 0, 0, 0, 0, message);

    private string? ErrorFile => string.IsNullOrEmpty(ProjectFullPath) ? BuildEngine?.ProjectFileOfTaskNode : ProjectFullPath;

    /// <summary>Logs a failure as one coded line; the full detail only at low importance.</summary>
    protected void LogException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var code = ContainerErrorCodes.For(exception);
        var message = exception is OciException or IOException or UnauthorizedAccessException
            ? exception.Message
            : $"The container step failed unexpectedly: {exception.GetType().Name}: {exception.Message}";
        LogCodedError(code, OneLine(message));
        Log.LogMessage(MessageImportance.Low, exception.ToString());
    }

    private static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();
}
