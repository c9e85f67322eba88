using Containers.Build.Configuration;
using Containers.Sdk.Tasks.BuildServer;
using Microsoft.Build.Framework;

namespace Containers.Sdk.Tasks;

/// <summary>
/// The container settings exactly as the project gives them (the .NET SDK's Container* names), plus the
/// project facts the defaults are computed from. Both tasks take the same inputs and resolve them with
/// <see cref="ContainerSettingsResolver"/>, so what ComputeContainerConfig shows is what
/// PublishContainer builds.
/// </summary>
public abstract class ContainerSettingsTask : ContainerTask
{
    /// <summary>
    /// Ours, ContainerUseBuildServer: <c>false</c> runs the task in the build's own process; otherwise (default) in
    /// the Containers.Sdk build server when one is running (docs/build-server.md).
    /// </summary>
    public string? ContainerUseBuildServer { get; set; }

    /// <inheritdoc />
    protected override bool UsesBuildServer =>
        Switch(ContainerUseBuildServer) && BuildServerClient.SocketPath is not null;

#pragma warning disable CS1591 // Each parameter is the MSBuild property or item of the same name; docs/properties.md describes them.
    public string? ContainerRegistry { get; set; }
    public string? ContainerRepository { get; set; }
    public string? ContainerImageName { get; set; }
    public string? ContainerImageTag { get; set; }
    public string? ContainerImageTags { get; set; }
    public string? ContainerBaseImage { get; set; }
    public string? ContainerFamily { get; set; }
    public string? ContainerBaseRegistry { get; set; }
    public string? ContainerRuntimeIdentifier { get; set; }
    public string? ContainerRuntimeIdentifiers { get; set; }
    public ITaskItem[] ContainerPort { get; set; } = [];
    public ITaskItem[] ContainerEnvironmentVariable { get; set; } = [];
    public ITaskItem[] ContainerLabel { get; set; } = [];
    public ITaskItem[] ContainerAnnotation { get; set; } = [];
    public string? ContainerGenerateAnnotations { get; set; }
    public string? ContainerGenerateLabels { get; set; }
    public string? ContainerGenerateLabelsImageCreated { get; set; }
    public string? ContainerGenerateLabelsImageDescription { get; set; }
    public string? ContainerGenerateLabelsImageAuthors { get; set; }
    public string? ContainerGenerateLabelsImageUrl { get; set; }
    public string? ContainerGenerateLabelsImageDocumentation { get; set; }
    public string? ContainerGenerateLabelsImageSource { get; set; }
    public string? ContainerGenerateLabelsImageVersion { get; set; }
    public string? ContainerGenerateLabelsImageRevision { get; set; }
    public string? ContainerGenerateLabelsImageVendor { get; set; }
    public string? ContainerGenerateLabelsImageLicenses { get; set; }
    public string? ContainerGenerateLabelsImageTitle { get; set; }
    public string? ContainerGenerateLabelsImageBaseDigest { get; set; }
    public string? ContainerGenerateLabelsImageBaseName { get; set; }
    public string? ContainerGenerateLabelsDotnetToolset { get; set; }
    public string? ContainerDescription { get; set; }
    public string? ContainerAuthors { get; set; }
    public string? ContainerInformationUrl { get; set; }
    public string? ContainerDocumentationUrl { get; set; }
    public string? ContainerVersion { get; set; }
    public string? ContainerVendor { get; set; }
    public string? ContainerLicenseExpression { get; set; }
    public string? ContainerTitle { get; set; }
    public string? ContainerUser { get; set; }
    public string? ContainerWorkingDirectory { get; set; }
    public ITaskItem[] ContainerAppCommand { get; set; } = [];
    public ITaskItem[] ContainerAppCommandArgs { get; set; } = [];
    public string? ContainerAppCommandInstruction { get; set; }
    public ITaskItem[] ContainerEntrypoint { get; set; } = [];
    public ITaskItem[] ContainerEntrypointArgs { get; set; } = [];
    public ITaskItem[] ContainerDefaultArgs { get; set; } = [];
    public string? ContainerImageFormat { get; set; }
#pragma warning restore CS1591

    /// <summary>
    /// The app's built assembly (@(IntermediateAssembly)); the settings declared in code with the
    /// Containers.Sdk attributes are read from it and merged in (<see cref="CodeDeclaredSettings"/>).
    /// Empty, or a file that does not exist yet (evaluation before a build), means none.
    /// </summary>
    public string? AppAssembly { get; set; }
#pragma warning disable CS1591

    [Required] public string AssemblyName { get; set; } = "";
    [Required] public string TargetFileName { get; set; } = "";
    [Required] public string TargetFrameworkVersion { get; set; } = "";
    public string? TargetFrameworkIdentifier { get; set; }
    [Required] public string SdkVersion { get; set; } = "";
    public string? SdkPortableRuntimeIdentifier { get; set; }
    public bool IsSelfContained { get; set; }
    public bool IsAotPublished { get; set; }
    public bool IsTrimmed { get; set; }
    public bool UsesInvariantGlobalization { get; set; }
    /// <summary>The number of <c>FrameworkReference Include="Microsoft.AspNetCore.App"</c> items (MSBuild passes a count).</summary>
    public int UsesAspNetCore { get; set; }
    public string? RuntimeIdentifier { get; set; }
    public string? RuntimeIdentifiers { get; set; }
    public bool IsRidAgnostic { get; set; }
    public string? Description { get; set; }
    public string? Authors { get; set; }
    public string? PackageProjectUrl { get; set; }
    public string? PackageVersion { get; set; }
    public string? PackageLicenseExpression { get; set; }
    public string? Title { get; set; }
    public bool PublishRepositoryUrl { get; set; }
    public string? PrivateRepositoryUrl { get; set; }
    public string? RepositoryType { get; set; }
    public string? SourceRevisionId { get; set; }
#pragma warning restore CS1591

    /// <summary>
    /// The settings findings an earlier task of this build already logged (ComputeContainerConfig's
    /// <c>ReportedDiagnostics</c>): resolving the same settings again finds them again, and a user should read
    /// each warning once. Errors are always logged (they end the build before a second task runs anyway).
    /// </summary>
    public ITaskItem[] AlreadyReportedDiagnostics { get; set; } = [];

    /// <summary>The findings this task logged while resolving the settings, as <see cref="AlreadyReportedDiagnostics"/> items.</summary>
    protected IReadOnlyList<ContainerDiagnostic> LoggedSettingsDiagnostics { get; private set; } = [];

    /// <summary>Resolves the settings and logs every finding with its code, once per build; null when there were errors.</summary>
    protected ResolvedContainerSettings? ResolveSettings()
    {
        var code = string.IsNullOrEmpty(AppAssembly) || !File.Exists(AppAssembly) ? null : AssemblyContainerConfig.TryRead(AppAssembly);
        var resolution = ContainerSettingsResolver.Resolve(CodeDeclaredSettings.Merge(CreateSettings(), code), CreateProjectFacts());
        var reported = AlreadyReportedDiagnostics.Select(item => item.GetMetadata(DiagnosticKeyMetadata)).ToHashSet(StringComparer.Ordinal);
        LoggedSettingsDiagnostics = resolution.Diagnostics
            .Where(diagnostic => diagnostic.Severity == ContainerDiagnosticSeverity.Error || !reported.Contains(DiagnosticKey(diagnostic)))
            .ToList();
        LogDiagnostics(LoggedSettingsDiagnostics);
        return resolution.HasErrors ? null : resolution.Settings;
    }

    /// <summary>The metadata of a reported-diagnostic item that identifies the finding (code and message).</summary>
    protected const string DiagnosticKeyMetadata = "Key";

    /// <summary>
    /// Identifies a finding by its code and message, hashed: a message may hold any character, and MSBuild
    /// would unescape <c>%XX</c> sequences in metadata on the way between two tasks.
    /// </summary>
    protected static string DiagnosticKey(ContainerDiagnostic diagnostic)
    {
        ArgumentNullException.ThrowIfNull(diagnostic);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(diagnostic.Code + "\n" + diagnostic.Message)));
    }

    /// <summary>Logs findings: errors and warnings with their codes, info as normal messages.</summary>
    protected void LogDiagnostics(IEnumerable<ContainerDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        foreach (var diagnostic in diagnostics)
        {
            switch (diagnostic.Severity)
            {
                case ContainerDiagnosticSeverity.Error:
                    LogCodedError(diagnostic.Code, diagnostic.Message);
                    break;
                case ContainerDiagnosticSeverity.Warning:
                    LogCodedWarning(diagnostic.Code, diagnostic.Message);
                    break;
                default:
                    Log.LogMessage(MessageImportance.Normal, $"{diagnostic.Code}: {diagnostic.Message}");
                    break;
            }
        }
    }

    private ContainerSettings CreateSettings() => new()
    {
        ContainerRegistry = ContainerRegistry,
        ContainerRepository = ContainerRepository,
        ContainerImageName = ContainerImageName,
        ContainerImageTag = ContainerImageTag,
        ContainerImageTags = SplitList(ContainerImageTags),
        ContainerBaseImage = ContainerBaseImage,
        ContainerFamily = ContainerFamily,
        ContainerBaseRegistry = ContainerBaseRegistry,
        ContainerRuntimeIdentifier = ContainerRuntimeIdentifier,
        ContainerRuntimeIdentifiers = SplitList(ContainerRuntimeIdentifiers),
        ContainerPorts = ContainerPort.Select(i => new ContainerPortItem(i.ItemSpec, NullIfEmpty(i.GetMetadata("Type")))).ToArray(),
        ContainerEnvironmentVariables = ContainerEnvironmentVariable.Select(i => new ContainerEnvironmentVariableItem(i.ItemSpec, i.GetMetadata("Value"))).ToArray(),
        ContainerLabels = ContainerLabel.Select(i => new ContainerLabelItem(i.ItemSpec, i.GetMetadata("Value"))).ToArray(),
        ContainerAnnotations = ContainerAnnotation.Select(i => new ContainerLabelItem(i.ItemSpec, i.GetMetadata("Value"))).ToArray(),
        GenerateAnnotations = Switch(ContainerGenerateAnnotations),
        LabelGeneration = new LabelGenerationSwitches
        {
            Enabled = Switch(ContainerGenerateLabels),
            ImageCreated = Switch(ContainerGenerateLabelsImageCreated),
            ImageDescription = Switch(ContainerGenerateLabelsImageDescription),
            ImageAuthors = Switch(ContainerGenerateLabelsImageAuthors),
            ImageUrl = Switch(ContainerGenerateLabelsImageUrl),
            ImageDocumentation = Switch(ContainerGenerateLabelsImageDocumentation),
            ImageSource = Switch(ContainerGenerateLabelsImageSource),
            ImageVersion = Switch(ContainerGenerateLabelsImageVersion),
            ImageRevision = Switch(ContainerGenerateLabelsImageRevision),
            ImageVendor = Switch(ContainerGenerateLabelsImageVendor),
            ImageLicenses = Switch(ContainerGenerateLabelsImageLicenses),
            ImageTitle = Switch(ContainerGenerateLabelsImageTitle),
            ImageBaseDigest = Switch(ContainerGenerateLabelsImageBaseDigest),
            ImageBaseName = Switch(ContainerGenerateLabelsImageBaseName),
            DotnetToolset = Switch(ContainerGenerateLabelsDotnetToolset),
        },
        ContainerDescription = ContainerDescription,
        ContainerAuthors = ContainerAuthors,
        ContainerInformationUrl = ContainerInformationUrl,
        ContainerDocumentationUrl = ContainerDocumentationUrl,
        ContainerVersion = ContainerVersion,
        ContainerVendor = ContainerVendor,
        ContainerLicenseExpression = ContainerLicenseExpression,
        ContainerTitle = ContainerTitle,
        ContainerUser = ContainerUser,
        ContainerWorkingDirectory = ContainerWorkingDirectory,
        ContainerAppCommand = Specs(ContainerAppCommand),
        ContainerAppCommandArgs = Specs(ContainerAppCommandArgs),
        ContainerAppCommandInstruction = ContainerAppCommandInstruction,
        ContainerEntrypoint = Specs(ContainerEntrypoint),
        ContainerEntrypointArgs = Specs(ContainerEntrypointArgs),
        ContainerDefaultArgs = Specs(ContainerDefaultArgs),
        ContainerImageFormat = ContainerImageFormat,
    };

    private ProjectFacts CreateProjectFacts() => new()
    {
        AssemblyName = AssemblyName,
        TargetFileName = TargetFileName,
        TargetFrameworkVersion = TargetFrameworkVersion,
        TargetFrameworkIdentifier = string.IsNullOrEmpty(TargetFrameworkIdentifier) ? ".NETCoreApp" : TargetFrameworkIdentifier,
        SdkVersion = SdkVersion,
        SdkPortableRuntimeIdentifier = NullIfEmpty(SdkPortableRuntimeIdentifier),
        IsSelfContained = IsSelfContained,
        IsAotPublished = IsAotPublished,
        IsTrimmed = IsTrimmed,
        UsesInvariantGlobalization = UsesInvariantGlobalization,
        UsesAspNetCore = UsesAspNetCore > 0,
        RuntimeIdentifier = NullIfEmpty(RuntimeIdentifier),
        RuntimeIdentifiers = SplitList(RuntimeIdentifiers),
        IsRidAgnostic = IsRidAgnostic,
        Description = NullIfEmpty(Description),
        Authors = NullIfEmpty(Authors),
        PackageProjectUrl = NullIfEmpty(PackageProjectUrl),
        PackageVersion = NullIfEmpty(PackageVersion),
        PackageLicenseExpression = NullIfEmpty(PackageLicenseExpression),
        Title = NullIfEmpty(Title),
        PublishRepositoryUrl = PublishRepositoryUrl,
        RepositoryUrl = NullIfEmpty(PrivateRepositoryUrl),
        RepositoryType = NullIfEmpty(RepositoryType),
        SourceRevisionId = NullIfEmpty(SourceRevisionId),
    };

    private static string[] SplitList(string? value) =>
        (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] Specs(ITaskItem[] items) => items.Select(i => i.ItemSpec).ToArray();

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
