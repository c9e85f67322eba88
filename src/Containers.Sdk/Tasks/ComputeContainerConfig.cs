using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Resolves and validates the container settings and hands the result back to MSBuild under the names
/// the .NET SDK's ComputeContainerConfig uses, so targets and tools that read them keep working.
/// Settings errors become MSBuild errors with their CONTAINER7xxx codes.
/// </summary>
public sealed class ComputeContainerConfig : ContainerSettingsTask
{
    /// <inheritdoc />
    /// <remarks>It uses a running server but never starts one: it also answers queries that publish nothing.</remarks>
    protected override bool StartsBuildServer => false;

    /// <summary>The base image, given or inferred, in full: registry/repository:tag[@digest].</summary>
    [Output] public string? ResolvedBaseImage { get; private set; }

    /// <summary>The base image's registry.</summary>
    [Output] public string? ResolvedBaseRegistry { get; private set; }

    /// <summary>The base image's repository.</summary>
    [Output] public string? ResolvedBaseName { get; private set; }

    /// <summary>The base image's tag.</summary>
    [Output] public string? ResolvedBaseTag { get; private set; }

    /// <summary>The base image's digest, when the reference pins one.</summary>
    [Output] public string? ResolvedBaseDigest { get; private set; }

    /// <summary>ContainerRegistry; empty for a local destination.</summary>
    [Output] public string? ResolvedRegistry { get; private set; }

    /// <summary>The repository.</summary>
    [Output] public string? ResolvedRepository { get; private set; }

    /// <summary>The tags, at least one.</summary>
    [Output] public ITaskItem[] ResolvedImageTags { get; private set; } = [];

    /// <summary>The RIDs the image (or each image of the index) is built for; metadata Platform.</summary>
    [Output] public ITaskItem[] ResolvedRuntimeIdentifiers { get; private set; } = [];

    /// <summary>True when the result is an image index.</summary>
    [Output] public bool IsMultiPlatform { get; private set; }

    /// <summary>The user set by the project; empty means the base image's APP_UID (or its user).</summary>
    [Output] public string? ResolvedUser { get; private set; }

    /// <summary>The working directory.</summary>
    [Output] public string? ResolvedWorkingDirectory { get; private set; }

    /// <summary>The ENTRYPOINT, one item per argument; no items and <see cref="KeepsBaseEntrypoint"/> true keeps the base image's.</summary>
    [Output] public ITaskItem[] ResolvedEntrypoint { get; private set; } = [];

    /// <summary>True when the image keeps the base image's ENTRYPOINT.</summary>
    [Output] public bool KeepsBaseEntrypoint { get; private set; }

    /// <summary>The CMD, one item per argument.</summary>
    [Output] public ITaskItem[] ResolvedCmd { get; private set; } = [];

    /// <summary>Environment variables set by the project; metadata Value.</summary>
    [Output] public ITaskItem[] ResolvedEnvironmentVariables { get; private set; } = [];

    /// <summary>Exposed ports; metadata Type (tcp or udp).</summary>
    [Output] public ITaskItem[] ResolvedPorts { get; private set; } = [];

    /// <summary>Labels, generated and given, known before the base image is read; metadata Value.</summary>
    [Output] public ITaskItem[] ResolvedLabels { get; private set; } = [];

    /// <summary>Docker or OCI; empty follows the base image.</summary>
    [Output] public string? ResolvedImageFormat { get; private set; }

    /// <summary>
    /// The settings findings this task logged (item spec: the code; metadata Key), for PublishContainerImage's
    /// AlreadyReportedDiagnostics, so a publish prints each warning (CONTAINER7021 for a root user ...) once.
    /// </summary>
    [Output] public ITaskItem[] ReportedDiagnostics { get; private set; } = [];

    /// <inheritdoc />
    protected override bool ExecuteCore(CancellationToken cancellationToken)
    {
        var settings = ResolveSettings();
        ReportedDiagnostics = LoggedSettingsDiagnostics
            .Select(diagnostic => (ITaskItem)new TaskItem(diagnostic.Code, new Dictionary<string, string> { [DiagnosticKeyMetadata] = DiagnosticKey(diagnostic) }))
            .ToArray();
        if (settings is null)
        {
            return false;
        }

        var baseImage = settings.BaseImage;
        ResolvedBaseImage = baseImage.ToString();
        ResolvedBaseRegistry = baseImage.Registry;
        ResolvedBaseName = baseImage.Repository;
        ResolvedBaseTag = baseImage.Tag ?? "";
        ResolvedBaseDigest = baseImage.Digest?.ToString() ?? "";
        ResolvedRegistry = settings.Registry ?? "";
        ResolvedRepository = settings.Repository;
        ResolvedImageTags = settings.Tags.Select(tag => (ITaskItem)new TaskItem(tag)).ToArray();
        ResolvedRuntimeIdentifiers = settings.Targets
            .Select(target => (ITaskItem)new TaskItem(target.RuntimeIdentifier, new Dictionary<string, string> { ["Platform"] = target.Platform.ToString() }))
            .ToArray();
        IsMultiPlatform = settings.IsMultiPlatform;
        ResolvedUser = settings.User ?? "";
        ResolvedWorkingDirectory = settings.WorkingDirectory;
        KeepsBaseEntrypoint = settings.Command.Entrypoint is null;
        ResolvedEntrypoint = Items(settings.Command.Entrypoint ?? []);
        ResolvedCmd = Items(settings.Command.Cmd);
        ResolvedEnvironmentVariables = settings.EnvironmentVariables.Select(v => (ITaskItem)WithValue(v.Name, v.Value)).ToArray();
        ResolvedPorts = settings.Ports
            .Select(p => (ITaskItem)new TaskItem(p.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), new Dictionary<string, string> { ["Type"] = p.Protocol }))
            .ToArray();
        ResolvedLabels = settings.Labels.Select(l => (ITaskItem)WithValue(l.Name, l.Value)).ToArray();
        ResolvedImageFormat = settings.ImageFormat switch
        {
            Containers.Oci.Descriptors.ManifestFormat.Oci => "OCI",
            Containers.Oci.Descriptors.ManifestFormat.Docker => "Docker",
            _ => "",
        };
        return true;
    }

    // A TaskItem's spec is stored escaped and %XX sequences are unescaped on read; escaping '%' keeps an
    // argument such as "--greeting=100%25" exactly as given.
    private static ITaskItem[] Items(IEnumerable<string> values) =>
        values.Select(v => (ITaskItem)new TaskItem(v.Replace("%", "%25", StringComparison.Ordinal))).ToArray();

    private static TaskItem WithValue(string name, string value) =>
        new TaskItem(name, new Dictionary<string, string> { ["Value"] = value });
}
