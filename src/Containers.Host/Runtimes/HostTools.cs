using System.Diagnostics;

namespace Containers.Host.Runtimes;

/// <summary>Finding and running the command-line tools the backends drive (runc, unshare, podman, ...).</summary>
internal static class HostTools
{
    /// <summary>The full path of <paramref name="tool"/> in the first PATH directory that has it, or null.</summary>
    public static string? FindOnPath(string tool) => Shared.PathSearch.FindOnPath(tool);

    /// <summary>A start of <paramref name="executable"/> with its three standard streams redirected.</summary>
    public static ProcessStartInfo StartInfo(string executable, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Runs <paramref name="executable"/> to its end with no input; returns its exit code and stdout followed by stderr.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string executable, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        RunAsync(executable, arguments, input: null, cancellationToken);

    /// <summary>Runs <paramref name="executable"/> to its end with <paramref name="input"/> on its stdin; returns its exit code and stdout followed by stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string executable, IEnumerable<string> arguments, string? input, CancellationToken cancellationToken)
    {
        using var process = Process.Start(StartInfo(executable, arguments)) ?? throw new IOException($"Could not start {executable}.");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return (process.ExitCode, (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false)));
    }

    /// <summary>
    /// Runs <paramref name="start"/> to its end with no input and returns its exit code and both outputs apart.
    /// Cancelling kills it and its children, then <paramref name="onCancel"/> runs (to kill what it started elsewhere).
    /// </summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunSeparatelyAsync(ProcessStartInfo start, Func<Task>? onCancel, CancellationToken cancellationToken)
    {
        using var process = Process.Start(start) ?? throw new IOException($"Could not start {start.FileName}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (onCancel is not null)
            {
                await onCancel().ConfigureAwait(false);
            }

            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }

            throw;
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
