using System.Diagnostics;

namespace Containers.Build.Reproducibility;

/// <summary>Asks git about a directory: the build timestamp (the last commit's time) and the provenance (HEAD, the remote).</summary>
internal static class Git
{
    /// <summary>
    /// Runs <c>git</c> with <paramref name="arguments"/> in <paramref name="directory"/> and returns its trimmed output;
    /// null when git is not installed, fails (no work tree, no such remote), prints nothing or takes over 10 s.
    /// </summary>
    public static string? Run(string directory, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var git = Process.Start(start);
            if (git is null)
            {
                return null;
            }

            // Both pipes drained at once: a git that fills one while this waits on the other would never exit.
            var errors = git.StandardError.ReadToEndAsync();
            var output = git.StandardOutput.ReadToEnd().Trim();
            errors.Wait();
            return git.WaitForExit(10_000) && git.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // git is not installed: not an error, just nothing known.
            return null;
        }
    }
}
