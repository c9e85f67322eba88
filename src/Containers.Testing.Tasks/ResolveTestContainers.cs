using System.Globalization;
using Containers.Host.Images;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;
using Containers.Host.Readiness;
using Containers.Oci;
using Containers.Shared;
using Containers.Testing.Manifest;
using Microsoft.Build.Framework;
using MSBuildTask = Microsoft.Build.Utilities.Task;

namespace Containers.Testing.Tasks;

/// <summary>
/// Checks a test project's <c>ContainerUnderTest</c> and <c>ContainerDependency</c> items and writes the manifest the
/// Containers.Testing generator turns into typed handles (<see cref="TestContainerManifest"/>). Every problem is a
/// coded error naming the item and its metadata, reported at <c>dotnet build</c>, before any test runs.
/// </summary>
public sealed class ResolveTestContainers : MSBuildTask
{
    /// <summary>The <c>ContainerUnderTest</c> items, resolved: metadata <c>HandleName</c> and <c>LayoutDirectory</c> besides the user's.</summary>
    public ITaskItem[] Apps { get; set; } = [];

    /// <summary>The <c>ContainerDependency</c> items: Include is the name; metadata <c>Image</c> and the user's.</summary>
    public ITaskItem[] Dependencies { get; set; } = [];

    /// <summary>The <c>ContainerCompose</c> items, resolved: metadata <c>HandleName</c>, <c>ComposeFile</c>, <c>BuiltImages</c> (<c>CONTEXT=LAYOUT</c> pairs joined by <c>|</c>).</summary>
    public ITaskItem[] ComposeFiles { get; set; } = [];

    /// <summary>The tag of the apps' images in their layouts.</summary>
    [Required]
    public string Tag { get; set; } = "";

    /// <summary>The name of the graph of every app and dependency (the test project's name).</summary>
    [Required]
    public string GraphName { get; set; } = "";

    /// <summary><c>ContainerTestReuse</c>: true keeps the graphs running between test runs (opt-in).</summary>
    public string? Reuse { get; set; }

    /// <summary><c>ContainerTestReuseIdleTimeout</c>: how long a reused graph runs unused before it stops (seconds or a time span); empty: the host's default.</summary>
    public string? ReuseIdleTimeout { get; set; }

    /// <summary>The test project's directory: relative image paths are taken from it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>The test project file, which errors point at.</summary>
    public string? ProjectFullPath { get; set; }

    /// <summary>Where the manifest goes; written only when its content changes, so an unchanged project compiles no more than before.</summary>
    [Required]
    public string ManifestPath { get; set; } = "";

    /// <inheritdoc />
    public override bool Execute()
    {
        var entries = new List<TestContainerManifestEntry>();
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var app in Apps)
        {
            var name = app.GetMetadata("HandleName");
            if (CheckName(name, "ContainerUnderTest", app.ItemSpec, names) && ReadCommon(app, name, new TestContainerManifestEntry(TestContainerManifest.App, name)) is { } entry)
            {
                entries.Add(entry.Add("layout", app.GetMetadata("LayoutDirectory")).Add("tag", Tag));
            }
        }

        foreach (var dependency in Dependencies)
        {
            var name = dependency.GetMetadata("Name") is { Length: > 0 } given ? given : dependency.ItemSpec;
            if (!CheckName(name, "ContainerDependency", dependency.ItemSpec, names))
            {
                continue;
            }

            var image = dependency.GetMetadata("Image").Trim();
            if (image.Length == 0)
            {
                Error(TestingErrorCodes.MissingImage, $"The ContainerDependency '{name}' has no Image; name the image it runs, e.g. Image=\"postgres:15\", Image=\"oci:../images:redis-7\" or Image=\"docker-archive:db.tar\".");
                continue;
            }

            image = Absolute(image);
            try
            {
                ContainerImageSource.Parse(image);
            }
            catch (OciException ex)
            {
                Error(TestingErrorCodes.InvalidImage, $"The Image of ContainerDependency '{name}' is not usable: {ex.Message}");
                continue;
            }

            if (ReadCommon(dependency, name, new TestContainerManifestEntry(TestContainerManifest.Dependency, name)) is { } entry)
            {
                entries.Add(entry.Add("image", image));
            }
        }

        CheckDependencies(entries);
        foreach (var compose in ComposeFiles)
        {
            var entry = new TestContainerManifestEntry(TestContainerManifest.Compose, compose.GetMetadata("HandleName")).Add("file", compose.GetMetadata("ComposeFile"));
            foreach (var built in compose.GetMetadata("BuiltImages").Split('|', StringSplitOptions.RemoveEmptyEntries))
            {
                entry.Add("build", built);
            }

            entries.Add(entry);
        }

        if (Log.HasLoggedErrors)
        {
            return false;
        }

        var reuse = string.Equals(Reuse?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
        string? idle = null;
        if (ReuseIdleTimeout is { Length: > 0 } idleText)
        {
            idle = Seconds(idleText);
            if (idle is null)
            {
                Error(TestingErrorCodes.InvalidTimeout, $"ContainerTestReuseIdleTimeout is '{idleText}'; write seconds (600) or a time span (00:10:00).");
                return false;
            }
        }

        if (entries.Any(e => e.Kind is TestContainerManifest.App or TestContainerManifest.Dependency))
        {
            entries.Add(new TestContainerManifestEntry(TestContainerManifest.Graph, NetworkName(GraphName)));
        }

        foreach (var graph in entries.Where(e => e.Kind is TestContainerManifest.Graph or TestContainerManifest.Compose))
        {
            graph.Add("reuse", reuse ? "true" : "false");
            if (idle is not null)
            {
                graph.Add("reuseIdleTimeout", idle);
            }
        }

        WriteIfChanged(ManifestPath, TestContainerManifest.Write(entries));
        return true;
    }

    /// <summary>A name for graphs, networks and volumes from a project name: lower case, other characters as '-', at most 40 long.</summary>
    internal static string NetworkName(string name)
    {
        var cleaned = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray()).TrimStart('.', '_', '-');
        cleaned = cleaned.Length > 40 ? cleaned[..40] : cleaned;
        return cleaned.Length == 0 ? "tests" : cleaned;
    }

    private static void WriteIfChanged(string path, string text)
    {
        if (File.Exists(path) && File.ReadAllText(path) == text)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, text);
    }

    private bool CheckName(string name, string itemType, string include, Dictionary<string, string> names)
    {
        if (ContainerGraph.ValidateMemberName(name) is { } problem)
        {
            Error(TestingErrorCodes.InvalidName, $"The {itemType} '{include}' is named '{name}', which cannot name a container: {problem}. Set its Name metadata to letters, digits, '.', '_' and '-'.");
            return false;
        }

        if (names.TryGetValue(name, out var other))
        {
            Error(TestingErrorCodes.DuplicateName, $"Two containers of this test project are named '{name}' ({other} and {itemType} '{include}'); set the Name metadata of one of them.");
            return false;
        }

        names[name] = $"{itemType} '{include}'";
        return true;
    }

    // The metadata apps and dependencies share; null when any of it is wrong (each problem is reported).
    private TestContainerManifestEntry? ReadCommon(ITaskItem item, string name, TestContainerManifestEntry entry)
    {
        var errors = Log.HasLoggedErrors;
        var failed = false;
        void Fail(string code, string message)
        {
            failed = true;
            Error(code, message);
        }

        foreach (var line in Lines(item.GetMetadata("Environment")))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var variable = equals < 0 ? line : line[..equals].Trim();
            if (equals < 0 || !ContainerValueRules.IsValidEnvironmentVariableName(variable))
            {
                Fail(TestingErrorCodes.InvalidEnvironment, $"The Environment of '{name}' has the line '{line}'; write one NAME=VALUE per line, NAME of letters, digits and '_' not starting with a digit.");
                continue;
            }

            entry.Add("env", variable + "=" + line[(equals + 1)..]);
        }

        foreach (var dependency in List(item.GetMetadata("DependsOn")))
        {
            entry.Add("dependsOn", dependency);
        }

        foreach (var (key, metadata) in new[] { ("alias", "Aliases"), ("network", "Networks") })
        {
            foreach (var value in List(item.GetMetadata(metadata)))
            {
                if (ContainerNetwork.ValidateName(value) is { } problem)
                {
                    Fail(TestingErrorCodes.InvalidNetworkName, $"The {metadata} of '{name}' has '{value}', which is not a host or network name: {problem}.");
                }
                else
                {
                    entry.Add(key, value);
                }
            }
        }

        foreach (var port in List(item.GetMetadata("Ports")))
        {
            if (ContainerValueRules.TryParsePort(port.Split('/')[0], out var number) && (!port.Contains('/', StringComparison.Ordinal) || port.EndsWith("/tcp", StringComparison.OrdinalIgnoreCase)))
            {
                entry.Add("port", number.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                Fail(TestingErrorCodes.InvalidPort, $"The Ports of '{name}' has '{port}'; write container TCP port numbers from 1 to {ContainerValueRules.MaxPort} separated by ';' (they are published on free 127.0.0.1 ports).");
            }
        }

        var waits = item.GetMetadata("Wait");
        foreach (var wait in waits.Contains('\n', StringComparison.Ordinal) ? Lines(waits) : List(waits))
        {
            try
            {
                Wait.Parse(wait, $"The Wait of '{name}'");
                entry.Add("wait", wait);
            }
            catch (OciException ex)
            {
                Fail(TestingErrorCodes.InvalidWait, ex.Message);
            }
        }

        foreach (var argument in List(item.GetMetadata("Command"), trim: false))
        {
            entry.Add("command", argument);
        }

        if (item.GetMetadata("StartupTimeout") is { Length: > 0 } timeout)
        {
            if (Seconds(timeout) is { } seconds)
            {
                entry.Add("timeout", seconds);
            }
            else
            {
                Fail(TestingErrorCodes.InvalidTimeout, $"The StartupTimeout of '{name}' is '{timeout}'; write seconds (120) or a time span (00:02:00).");
            }
        }

        return failed || Log.HasLoggedErrors != errors ? null : entry;
    }

    // Dependencies name members, in a known condition, without a circle.
    private void CheckDependencies(List<TestContainerManifestEntry> entries)
    {
        var members = entries.ToDictionary(e => e.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            foreach (var dependency in entry.All("dependsOn"))
            {
                var parts = dependency.Split(':', 2);
                if (!members.ContainsKey(parts[0].Trim()))
                {
                    Error(TestingErrorCodes.InvalidDependsOn, $"'{entry.Name}' depends on '{parts[0]}', which is no ContainerUnderTest or ContainerDependency of this project; it has {string.Join(", ", members.Keys)}.");
                }
                else if (parts.Length == 2 && parts[1].Trim().ToLowerInvariant() is not ("started" or "ready" or "healthy"))
                {
                    Error(TestingErrorCodes.InvalidDependsOn, $"The DependsOn of '{entry.Name}' has '{dependency}'; write NAME (waits until it is ready), NAME:ready or NAME:started.");
                }
            }
        }

        if (Log.HasLoggedErrors)
        {
            return;
        }

        var graph = new ContainerGraph("check");
        foreach (var entry in entries)
        {
            var member = graph.Add(entry.Name, new ContainerStartOptions { Image = ContainerImageSource.FromOciLayout("/") });
            foreach (var dependency in entry.All("dependsOn"))
            {
                member.DependsOn(dependency.Split(':', 2)[0].Trim());
            }
        }

        try
        {
            graph.Validate();
        }
        catch (OciException ex)
        {
            Error(TestingErrorCodes.InvalidDependsOn, ex.Message.Replace("graph check", "this test project", StringComparison.Ordinal) + " Remove one of the DependsOn.");
        }
    }

    private string Absolute(string image)
    {
        foreach (var prefix in new[] { "oci:", "oci-archive:", "docker-archive:" })
        {
            if (image.StartsWith(prefix, StringComparison.Ordinal) && !Path.IsPathRooted(image[prefix.Length..]))
            {
                return prefix + Path.GetFullPath(Path.Combine(ProjectDirectory, image[prefix.Length..]));
            }
        }

        return image;
    }

    // A positive duration written as seconds (120) or a time span (00:02:00), as invariant seconds; null when it is neither.
    private static string? Seconds(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds.ToString(CultureInfo.InvariantCulture)
        : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span.TotalSeconds.ToString(CultureInfo.InvariantCulture)
        : null;

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0);

    private static IEnumerable<string> List(string text, bool trim = true) =>
        text.Split(';').Select(value => trim ? value.Trim() : value).Where(value => value.Trim().Length > 0);

    private void Error(string code, string message) =>
        Log.LogError(subcategory: null, code, helpKeyword: null, ProjectFullPath ?? "", 0, 0, 0, 0, message);
}
