using System.Collections.Concurrent;
using System.Diagnostics;
using Containers.Oci.Images;

namespace Containers.Oci.Stores;

/// <summary>What a probe of a local container engine's CLI (docker, podman) found.</summary>
/// <param name="Name">The CLI's name as asked for: <c>docker</c>, <c>podman</c> or a path.</param>
/// <param name="ExecutablePath">Where it was found on PATH; null when it was not.</param>
/// <param name="Answers">True when <c>&lt;cli&gt; version</c> reached its engine (the daemon or podman's storage) in time.</param>
/// <param name="Detail">Why it does not answer, for messages ("not on PATH", the CLI's own error, "no answer within 10 s"); the engine version when it does.</param>
public sealed record LocalEngineProbe(string Name, string? ExecutablePath, bool Answers, string Detail)
{
    /// <summary>A short phrase for logs: "docker (no daemon: Cannot connect to the Docker daemon …)", "podman 4.3.1".</summary>
    public string Describe() =>
        Answers ? $"{Name} {Detail}" : ExecutablePath is null ? $"{Name} (not on PATH)" : $"{Name} ({Detail})";
}

/// <summary>
/// The local container engines reached through their CLIs (<c>docker</c>, <c>podman</c>): whether one answers,
/// and loading an image into one (<c>&lt;cli&gt; load</c> of a docker archive). One place for publishing, the
/// runtime host's CLI backend and the <c>dotnet container</c> command.
/// </summary>
/// <remarks>
/// A docker client is often installed without a daemon (CI images, machines with podman): being on PATH is not
/// enough. The probe runs <c>&lt;cli&gt; version --format {{.Server.Version}}</c>, which needs the engine (docker's
/// daemon; podman's storage or its remote service), is bounded by a timeout, and is cached per process for each
/// executable path, so a build server or a test run probes each engine once.
/// </remarks>
public static class LocalEngines
{
    /// <summary>The engines tried, in order, when none is named.</summary>
    public static IReadOnlyList<string> Candidates { get; } = ["docker", "podman"];

    /// <summary>How long a probe waits for the CLI before it counts the engine as not answering.</summary>
    public static TimeSpan ProbeTimeout { get; } = TimeSpan.FromSeconds(10);

    private static readonly ConcurrentDictionary<string, Lazy<LocalEngineProbe>> Probes = new(StringComparer.Ordinal);

    /// <summary>Finds <paramref name="name"/> on <paramref name="searchPath"/> (PATH when null) and asks its engine for its version, once per process per executable.</summary>
    /// <param name="name">docker, podman, or a path to either.</param>
    /// <param name="searchPath">The directories to look in, separated as PATH is; null for this process's PATH.</param>
    public static LocalEngineProbe Probe(string name, string? searchPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var executable = FindExecutable(name, searchPath ?? Environment.GetEnvironmentVariable("PATH"));
        if (executable is null)
        {
            return new LocalEngineProbe(name, null, false, "not on PATH");
        }

        return Probes.GetOrAdd(executable, path => new Lazy<LocalEngineProbe>(() => RunProbe(name, path))).Value;
    }

    /// <summary>
    /// Loads <paramref name="image"/> into the engine of <paramref name="executable"/> as each of <paramref name="names"/>:
    /// writes a docker archive in <paramref name="temporaryDirectory"/> (the system's when null) and runs <c>load -i</c>.
    /// </summary>
    /// <exception cref="OciException">The CLI cannot be started or its load failed; the message names the engine and the CLI's answer.</exception>
    public static async Task LoadAsync(string executable, IImage image, IReadOnlyList<string> names, DateTimeOffset entryTime, string? temporaryDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(names);
        var archive = Path.Combine(temporaryDirectory ?? Path.GetTempPath(), "containers-sdk-load-" + Guid.NewGuid().ToString("N") + ".tar");
        var name = Path.GetFileName(executable);
        try
        {
            await DockerArchive.WriteToFileAsync(archive, image, names, entryTime, cancellationToken).ConfigureAwait(false);
            var (exitCode, output) = await RunAsync(executable, ["load", "-i", archive], timeout: null, cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new OciException($"'{name} load' failed with exit code {exitCode}: {output.Trim()}".TrimEnd());
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new OciException($"'{executable}' could not be started ({ex.Message}); install {name} or choose another destination.", ex);
        }
        finally
        {
            File.Delete(archive);
        }
    }

    private static LocalEngineProbe RunProbe(string name, string executable)
    {
        try
        {
            var (exitCode, output) = RunAsync(executable, ["version", "--format", "{{.Server.Version}}"], ProbeTimeout, CancellationToken.None).GetAwaiter().GetResult();
            var firstLine = output.Trim().Split('\n', 2)[0].Trim();
            if (exitCode == 0 && firstLine.Length > 0)
            {
                return new LocalEngineProbe(name, executable, true, firstLine);
            }

            var engine = Path.GetFileName(executable) == "docker" ? "no daemon" : "no engine";
            return new LocalEngineProbe(name, executable, false, exitCode == -1 ? $"no answer within {ProbeTimeout.TotalSeconds:0} s" : $"{engine}: {OneLine(output)}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new LocalEngineProbe(name, executable, false, "cannot start: " + ex.Message);
        }
    }

    // Exit code -1: the timeout elapsed and the process tree was killed. Output is stdout then stderr.
    private static async Task<(int ExitCode, string Output)> RunAsync(string executable, IReadOnlyList<string> arguments, TimeSpan? timeout, CancellationToken cancellationToken)
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

        using var process = Process.Start(start) ?? throw new OciException($"'{executable}' could not be started.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } bound)
        {
            limit.CancelAfter(bound);
        }

        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return (-1, "");
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, ((await stdout.ConfigureAwait(false)).Trim() + " " + (await stderr.ConfigureAwait(false)).Trim()).Trim());
    }

    private static string? FindExecutable(string name, string? searchPath)
    {
        if (name.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        }

        return Containers.Shared.PathSearch.FindIn(searchPath ?? "", name);
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }
}
