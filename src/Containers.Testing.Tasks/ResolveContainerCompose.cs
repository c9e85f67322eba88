using Containers.Host.Compose;
using Containers.Oci;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using MSBuildTask = Microsoft.Build.Utilities.Task;

namespace Containers.Testing.Tasks;

/// <summary>
/// Reads a test project's <c>ContainerCompose</c> files at build time: a file that cannot be read is a coded error
/// (CONTAINER9020, with the file, line and key), each key this version does not support a coded warning (CONTAINER9021),
/// and every service built from a .NET project (<c>build:</c>) becomes an image the build publishes — the layout of a
/// <c>ContainerUnderTest</c> of the same project when there is one, so nothing is published twice.
/// </summary>
public sealed class ResolveContainerCompose : MSBuildTask
{
    /// <summary>The <c>ContainerCompose</c> items (compose files; metadata <c>Name</c> names the handle).</summary>
    public ITaskItem[] ComposeFiles { get; set; } = [];

    /// <summary>The resolved <c>ContainerUnderTest</c> items (full project path, metadata <c>LayoutDirectory</c>).</summary>
    public ITaskItem[] Apps { get; set; } = [];

    /// <summary>Where the images of projects only a compose file builds go: <c>&lt;root&gt;&lt;handle&gt;-&lt;service&gt;/</c>.</summary>
    [Required]
    public string LayoutRoot { get; set; } = "";

    /// <summary>The test project file, which errors point at when no compose line can be named.</summary>
    public string? ProjectFullPath { get; set; }

    /// <summary>The compose files, resolved: metadata <c>HandleName</c>, <c>ComposeFile</c> (full path) and <c>BuiltImages</c> (<c>CONTEXT=LAYOUT</c> joined by <c>|</c>).</summary>
    [Output]
    public ITaskItem[] ResolvedComposeFiles { get; private set; } = [];

    /// <summary>The projects to publish for compose services that no <c>ContainerUnderTest</c> publishes: metadata <c>HandleName</c> and <c>LayoutDirectory</c>.</summary>
    [Output]
    public ITaskItem[] ProjectsToPublish { get; private set; } = [];

    /// <inheritdoc />
    public override bool Execute()
    {
        var resolved = new List<ITaskItem>();
        var toPublish = new Dictionary<string, ITaskItem>(StringComparer.Ordinal);
        var appLayouts = Apps.ToDictionary(app => Path.GetFullPath(app.ItemSpec), app => app.GetMetadata("LayoutDirectory"), StringComparer.Ordinal);
        foreach (var item in ComposeFiles)
        {
            var path = item.GetMetadata("FullPath");
            var handle = item.GetMetadata("Name") is { Length: > 0 } name ? name : "Compose";
            if (!File.Exists(path))
            {
                Error(path, 0, 0, $"The ContainerCompose file '{item.ItemSpec}' does not exist (looked for {path}); fix the Include.");
                continue;
            }

            ComposeFile compose;
            try
            {
                compose = ComposeFile.Load(path);
            }
            catch (ComposeFileException ex)
            {
                Error(ex.File, ex.Line ?? 0, ex.Column ?? 0, (ex.KeyPath is null ? "" : ex.KeyPath + ": ") + ex.Problem);
                continue;
            }
            catch (OciException ex)
            {
                Error(path, 0, 0, ex.Message);
                continue;
            }

            foreach (var warning in compose.Warnings)
            {
                Log.LogWarning(null, TestingErrorCodes.UnsupportedComposeKey, null, warning.File, warning.Line, warning.Column, 0, 0, $"{warning.KeyPath}: {warning.Message}");
            }

            var built = new List<string>();
            foreach (var service in compose.BuiltServices)
            {
                var project = service.Build!.FindProjectFile();
                if (project is null)
                {
                    Error(path, 0, 0, $"The service {service.Name} of {item.ItemSpec} is built from '{service.Build.Context}', which holds no single .NET project file; Containers.Testing builds images of .NET projects (with Containers.Sdk): point build at a project directory, or use image:.");
                    continue;
                }

                project = Path.GetFullPath(project);
                if (!appLayouts.TryGetValue(project, out var layout))
                {
                    layout = toPublish.TryGetValue(project, out var already)
                        ? already.GetMetadata("LayoutDirectory")
                        : Path.Combine(LayoutRoot, $"{handle}-{service.Name}") + Path.DirectorySeparatorChar;
                    var publish = new TaskItem(project);
                    publish.SetMetadata("HandleName", $"{handle}-{service.Name}");
                    publish.SetMetadata("LayoutDirectory", layout);
                    toPublish.TryAdd(project, publish);
                }

                built.Add(service.Build.Context + "=" + layout);
            }

            var result = new TaskItem(path);
            result.SetMetadata("HandleName", handle);
            result.SetMetadata("ComposeFile", path);
            result.SetMetadata("BuiltImages", string.Join('|', built));
            resolved.Add(result);
        }

        ResolvedComposeFiles = [.. resolved];
        ProjectsToPublish = [.. toPublish.Values];
        return !Log.HasLoggedErrors;
    }

    private void Error(string file, int line, int column, string message) =>
        Log.LogError(null, TestingErrorCodes.InvalidCompose, null, file.Length > 0 ? file : ProjectFullPath ?? "", line, column, 0, 0, message);
}
