using System.Diagnostics;
using System.Text;
using Containers.Shared;

namespace Containers.TestSupport;

/// <summary>The outcome of running an external tool: exit code and everything it printed.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>Thrown by <see cref="TestTools.RunCheckedAsync"/> when a tool exits with a non-zero code.</summary>
public sealed class ToolFailedException : Exception
{
    /// <summary>Creates the exception for <paramref name="commandLine"/> that produced <paramref name="result"/>.</summary>
    public ToolFailedException(string commandLine, ToolResult result)
        : base($"`{commandLine}` exited with code {result.ExitCode}.{Environment.NewLine}"
            + $"--- stdout ---{Environment.NewLine}{result.StandardOutput}{Environment.NewLine}"
            + $"--- stderr ---{Environment.NewLine}{result.StandardError}")
    {
        CommandLine = commandLine;
        Result = result;
    }

    /// <summary>The command line as it would be typed in a shell.</summary>
    public string CommandLine { get; }

    /// <summary>Exit code and output of the failed run.</summary>
    public ToolResult Result { get; }
}

/// <summary>Finds and runs the external tools that tests use to check results independently.</summary>
public static class TestTools
{
    /// <summary>
    /// Returns the full path of <paramref name="tool"/> on PATH (or <paramref name="tool"/> itself when
    /// it is an existing path); otherwise marks the test inconclusive, naming the Debian package to install.
    /// </summary>
    public static string Require(string tool, string debianPackage)
    {
        var path = FindOnPath(tool);
        if (path is null)
        {
            Assert.Inconclusive($"requires {tool} (apt-get install {debianPackage})");
            throw new UnreachableException();
        }

        return path;
    }

    /// <summary>Full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? FindOnPath(string tool)
    {
        if (tool.Contains(Path.DirectorySeparatorChar))
        {
            return File.Exists(tool) ? Path.GetFullPath(tool) : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";

        // sbin directories are not always on PATH for non-login shells, but tools live there.
        return PathSearch.FindIn(path, tool) ?? PathSearch.FindIn("/usr/local/sbin:/usr/sbin:/sbin", tool);
    }

    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="arguments"/> (no shell), standard input closed,
    /// capturing both output streams. <paramref name="environment"/> entries are added to (or replace)
    /// the inherited environment. Cancelling kills the process tree and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            startInfo.WorkingDirectory = workingDirectory;
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                startInfo.Environment[name] = value;
            }
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException($"Cannot start `{FormatCommandLine(fileName, startInfo.ArgumentList)}`: {exception.Message}", exception);
        }

        process.StandardInput.Close();
        // Read both streams to the end (not line by line) so the output is exactly what the tool wrote.
        var standardOutput = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var standardError = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }

        // A background child that inherited the pipes (a daemon the tool started) would keep them open
        // forever; fail clearly instead of hanging the test run.
        var bothStreams = Task.WhenAll(standardOutput, standardError);
        if (await Task.WhenAny(bothStreams, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken)) != bothStreams)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException(
                $"`{FormatCommandLine(fileName, startInfo.ArgumentList)}` exited with code {process.ExitCode}, but a process it started still holds its output open.");
        }

        var output = await standardOutput;
        var error = await standardError;
        return new ToolResult(process.ExitCode, output, error);
    }

    /// <summary>
    /// Like <see cref="RunAsync"/>, but throws <see cref="ToolFailedException"/> (command line, exit code,
    /// stdout and stderr in the message) when the exit code is not zero.
    /// </summary>
    public static async Task<ToolResult> RunCheckedAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var argumentList = arguments.ToList();
        var result = await RunAsync(fileName, argumentList, workingDirectory, environment, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new ToolFailedException(FormatCommandLine(fileName, argumentList), result);
        }

        return result;
    }

    /// <summary>Renders a command line the way a POSIX shell user would type it (single-quoting where needed).</summary>
    public static string FormatCommandLine(string fileName, IEnumerable<string> arguments)
    {
        return string.Join(' ', new[] { fileName }.Concat(arguments).Select(Quote));

        static string Quote(string value) =>
            value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@%+,".Contains(c))
                ? value
                : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    internal static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // The process exited between the check and the kill.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Same race, reported by the OS.
        }
    }
}

/// <summary>Where the test base images made by eng/base-images.sh live.</summary>
public static class TestBaseImages
{
    /// <summary>The environment variable that overrides <see cref="DefaultLayoutDirectory"/>.</summary>
    public const string EnvironmentVariable = "CONTAINERS_SDK_TEST_IMAGES";

    /// <summary>The default location of the base image OCI layout.</summary>
    public const string DefaultLayoutDirectory = "/var/cache/containers-sdk-tests/base-images";

    /// <summary>
    /// The OCI image layout directory holding runtime-deps-10.0, runtime-10.0, aspnet-10.0 and
    /// multiarch-10.0; marks the test inconclusive when it has not been built.
    /// </summary>
    public static string LayoutDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            var directory = string.IsNullOrEmpty(configured) ? DefaultLayoutDirectory : configured;
            if (!File.Exists(Path.Combine(directory, "index.json")))
            {
                Assert.Inconclusive($"test base images missing: run eng/base-images.sh (looked for {Path.Combine(directory, "index.json")})");
            }

            return directory;
        }
    }
}

/// <summary>
/// The official CycloneDX JSON schemas, as embedded in CycloneDX.Core.dll of the CycloneDX .NET tool that
/// eng/sbom-schemas.sh installs (from NuGet) into a cache directory.
/// </summary>
public static class TestSbomSchemas
{
    /// <summary>The environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string EnvironmentVariable = "CONTAINERS_SDK_SBOM_SCHEMAS";

    /// <summary>Where eng/sbom-schemas.sh installs the tool.</summary>
    public const string DefaultDirectory = "/var/cache/containers-sdk-tests/cyclonedx-tool";

    /// <summary>
    /// Reads one embedded schema (e.g. <c>bom-1.6.schema.json</c>) as text; marks the test inconclusive when
    /// eng/sbom-schemas.sh has not run.
    /// </summary>
    public static string ReadCycloneDxSchema(string fileName)
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var directory = string.IsNullOrEmpty(configured) ? DefaultDirectory : configured;
        var assemblyPath = Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "CycloneDX.Core.dll", SearchOption.AllDirectories).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (assemblyPath is null)
        {
            Assert.Inconclusive($"CycloneDX schemas missing: run eng/sbom-schemas.sh (looked for CycloneDX.Core.dll under {directory})");
        }

        // Resources only: the assembly is never executed, and the collectible context is unloaded after reading.
        var context = new System.Runtime.Loader.AssemblyLoadContext("cyclonedx-schemas", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(assemblyPath!);
            using var stream = assembly.GetManifestResourceStream("CycloneDX.Core.Schemas." + fileName)
                ?? throw new InvalidOperationException($"{assemblyPath} has no embedded schema {fileName}");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        finally
        {
            context.Unload();
        }
    }
}
