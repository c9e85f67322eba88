using System.Diagnostics;

namespace Containers.Cli.Running;

/// <summary>
/// IMAGE as a .NET project: a directory with one project file, or the project file itself. <c>run</c> publishes it
/// first with <c>dotnet publish -c Release -t:PublishContainer</c> into an archive under the project's <c>obj/</c>
/// (<c>ContainerArchiveOutputPath</c>, which the Containers.Sdk package and the .NET SDK's built-in container support
/// both honour over every other destination), and runs that archive — as Containers.Testing's ContainerUnderTest
/// publishes an app before a test starts it.
/// </summary>
public static class ProjectImage
{
    private static readonly string[] ProjectExtensions = [".csproj", ".fsproj", ".vbproj"];

    /// <summary>The project file <paramref name="image"/> names, null when it names no project.</summary>
    /// <exception cref="CliException">A directory with several project files.</exception>
    public static string? FindProject(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (File.Exists(image) && ProjectExtensions.Contains(Path.GetExtension(image), StringComparer.OrdinalIgnoreCase))
        {
            return Path.GetFullPath(image);
        }

        if (!Directory.Exists(image))
        {
            return null;
        }

        var projects = Directory.EnumerateFiles(image).Where(f => ProjectExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
        return projects.Count switch
        {
            0 => null,
            1 => Path.GetFullPath(projects[0]),
            _ => throw CliException.Usage(CliErrorCodes.BadImage, $"IMAGE '{image}' holds {projects.Count} projects ({string.Join(", ", projects.Select(Path.GetFileName))}); name the one to run: dotnet container run {Path.Combine(image, Path.GetFileName(projects[0]))}."),
        };
    }

    /// <summary>
    /// Publishes <paramref name="project"/>'s image and returns the IMAGE form of the archive it wrote. The publish's
    /// output goes to <paramref name="output"/> (stderr: a detached run prints only the id on stdout).
    /// </summary>
    /// <exception cref="CliException">dotnet cannot be started, the publish failed or wrote no image.</exception>
    public static async Task<string> PublishAsync(string project, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(output);
        var archive = Path.Combine(Path.GetDirectoryName(project)!, "obj", "dotnet-container", "image.tar");
        // Never a stale image: a publish that fails must not leave the previous one to run.
        if (File.Exists(archive))
        {
            File.Delete(archive);
        }

        output.WriteLine($"Publishing {project} with dotnet publish -c Release -t:PublishContainer ...");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", project, "-c", "Release", "-t:PublishContainer", "-nologo", "-v:m", $"-p:ContainerArchiveOutputPath={archive}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new CliException(CliErrorCodes.ProjectPublishFailed, $"Could not start 'dotnet' to publish {project} ({ex.Message}); is the .NET SDK on PATH?", CliExitCodes.Failed, ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var forward = Task.WhenAll(ForwardAsync(process.StandardOutput, output), ForwardAsync(process.StandardError, output));
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            await forward.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new CliException(CliErrorCodes.ProjectPublishFailed, $"dotnet publish {project} -t:PublishContainer failed with exit code {process.ExitCode} (its output is above); fix the build, or run an image that exists (oci:DIR:TAG, a registry reference).", CliExitCodes.Failed);
            }
        }

        return File.Exists(archive)
            ? "oci-archive:" + archive
            : throw new CliException(CliErrorCodes.ProjectPublishFailed, $"dotnet publish {project} -t:PublishContainer succeeded but wrote no image at {archive}; does the project reference Containers.Sdk (or use the .NET SDK's container support)? See docs/getting-started.md.", CliExitCodes.Failed);
    }

    private static async Task ForwardAsync(StreamReader reader, TextWriter output)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (output)
            {
                output.WriteLine(line);
            }
        }
    }
}
