namespace Containers.Build.Configuration;

/// <summary>
/// The user's container settings as given: the <c>Container*</c> MSBuild properties and items of the
/// .NET SDK's built-in container support, same names and meanings, plus our additions. Empty strings
/// and empty lists mean "not set"; nothing here is defaulted or rewritten — that is
/// <see cref="ContainerSettingsResolver"/>'s job.
/// </summary>
public sealed record ContainerSettings
{
    /// <summary>ContainerRegistry: where to push; empty means a local destination (daemon, archive, layout).</summary>
    public string? ContainerRegistry { get; init; }

    /// <summary>ContainerRepository: the image's repository; default derived from AssemblyName.</summary>
    public string? ContainerRepository { get; init; }

    /// <summary>ContainerImageName: obsolete spelling of ContainerRepository, still honoured with a warning.</summary>
    public string? ContainerImageName { get; init; }

    /// <summary>ContainerImageTag: one tag; default <c>latest</c> when ContainerImageTags is empty too.</summary>
    public string? ContainerImageTag { get; init; }

    /// <summary>ContainerImageTags: several tags (the MSBuild property is ';'-separated).</summary>
    public IReadOnlyList<string> ContainerImageTags { get; init; } = [];

    /// <summary>ContainerBaseImage: the base image reference; inferred when empty.</summary>
    public string? ContainerBaseImage { get; init; }

    /// <summary>ContainerFamily: suffix for the inferred base image tag, e.g. <c>noble-chiseled</c> or <c>alpine</c>.</summary>
    public string? ContainerFamily { get; init; }

    /// <summary>
    /// ContainerBaseRegistry (ours): <c>host[:port][/path]</c> that replaces <c>mcr.microsoft.com</c> in the
    /// <em>inferred</em> base image, e.g. a mirror or pull-through cache. Ignored, with a warning, when
    /// ContainerBaseImage is set.
    /// </summary>
    public string? ContainerBaseRegistry { get; init; }

    /// <summary>ContainerRuntimeIdentifier: the one RID to build the image for.</summary>
    public string? ContainerRuntimeIdentifier { get; init; }

    /// <summary>ContainerRuntimeIdentifiers: several RIDs, giving an image index.</summary>
    public IReadOnlyList<string> ContainerRuntimeIdentifiers { get; init; } = [];

    /// <summary>ContainerPort items.</summary>
    public IReadOnlyList<ContainerPortItem> ContainerPorts { get; init; } = [];

    /// <summary>ContainerEnvironmentVariable items.</summary>
    public IReadOnlyList<ContainerEnvironmentVariableItem> ContainerEnvironmentVariables { get; init; } = [];

    /// <summary>ContainerLabel items.</summary>
    public IReadOnlyList<ContainerLabelItem> ContainerLabels { get; init; } = [];

    /// <summary>Ours, ContainerAnnotation items: manifest and index annotations (Include is the key, Value the value).</summary>
    public IReadOnlyList<ContainerLabelItem> ContainerAnnotations { get; init; } = [];

    /// <summary>Ours, ContainerGenerateAnnotations: add the version, source and revision annotations (default true).</summary>
    public bool GenerateAnnotations { get; init; } = true;

    /// <summary>ContainerGenerateLabels and the ContainerGenerateLabelsImage* switches.</summary>
    public LabelGenerationSwitches LabelGeneration { get; init; } = LabelGenerationSwitches.Default;

    /// <summary>ContainerDescription (default: Description).</summary>
    public string? ContainerDescription { get; init; }

    /// <summary>ContainerAuthors (default: Authors).</summary>
    public string? ContainerAuthors { get; init; }

    /// <summary>ContainerInformationUrl (default: PackageProjectUrl).</summary>
    public string? ContainerInformationUrl { get; init; }

    /// <summary>ContainerDocumentationUrl (default: PackageProjectUrl).</summary>
    public string? ContainerDocumentationUrl { get; init; }

    /// <summary>ContainerVersion (default: PackageVersion).</summary>
    public string? ContainerVersion { get; init; }

    /// <summary>ContainerVendor (no default).</summary>
    public string? ContainerVendor { get; init; }

    /// <summary>ContainerLicenseExpression (default: PackageLicenseExpression).</summary>
    public string? ContainerLicenseExpression { get; init; }

    /// <summary>ContainerTitle (default: Title).</summary>
    public string? ContainerTitle { get; init; }

    /// <summary>ContainerUser: user, uid, user:group or uid:gid; default from the base image's APP_UID.</summary>
    public string? ContainerUser { get; init; }

    /// <summary>ContainerWorkingDirectory: default <c>/app/</c> (<c>C:\app\</c> for Windows RIDs).</summary>
    public string? ContainerWorkingDirectory { get; init; }

    /// <summary>ContainerAppCommand items: the command that starts the app.</summary>
    public IReadOnlyList<string> ContainerAppCommand { get; init; } = [];

    /// <summary>ContainerAppCommandArgs items: arguments always passed to the app command.</summary>
    public IReadOnlyList<string> ContainerAppCommandArgs { get; init; } = [];

    /// <summary>ContainerAppCommandInstruction: <c>DefaultArgs</c>, <c>Entrypoint</c> or <c>None</c>.</summary>
    public string? ContainerAppCommandInstruction { get; init; }

    /// <summary>ContainerEntrypoint items.</summary>
    public IReadOnlyList<string> ContainerEntrypoint { get; init; } = [];

    /// <summary>ContainerEntrypointArgs items.</summary>
    public IReadOnlyList<string> ContainerEntrypointArgs { get; init; } = [];

    /// <summary>ContainerDefaultArgs items: arguments the user of the image may override.</summary>
    public IReadOnlyList<string> ContainerDefaultArgs { get; init; } = [];

    /// <summary>ContainerImageFormat: <c>Docker</c> or <c>OCI</c>; empty means the base image's format.</summary>
    public string? ContainerImageFormat { get; init; }
}

/// <summary>A ContainerPort item, as given: <c>Include</c> is the number, <c>Type</c> is tcp (default) or udp.</summary>
/// <param name="Number">The item's Include.</param>
/// <param name="Type">The Type metadata; null or empty means tcp.</param>
public sealed record ContainerPortItem(string Number, string? Type = null);

/// <summary>A ContainerEnvironmentVariable item: <c>Include</c> is the name, <c>Value</c> the value.</summary>
/// <param name="Name">The item's Include.</param>
/// <param name="Value">The Value metadata (empty when absent).</param>
public sealed record ContainerEnvironmentVariableItem(string Name, string Value);

/// <summary>A ContainerLabel item: <c>Include</c> is the key, <c>Value</c> the value.</summary>
/// <param name="Name">The item's Include.</param>
/// <param name="Value">The Value metadata (empty when absent).</param>
public sealed record ContainerLabelItem(string Name, string Value);

/// <summary>
/// ContainerGenerateLabels and its per-label switches; each defaults to true as in the SDK.
/// </summary>
public sealed record LabelGenerationSwitches
{
    /// <summary>Every switch on, the SDK's default.</summary>
    public static LabelGenerationSwitches Default { get; } = new();

    /// <summary>ContainerGenerateLabels: the master switch for generated labels.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageCreated: <c>org.opencontainers.image.created</c>.</summary>
    public bool ImageCreated { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageDescription: <c>org.opencontainers.image.description</c>.</summary>
    public bool ImageDescription { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageAuthors: <c>org.opencontainers.image.authors</c>.</summary>
    public bool ImageAuthors { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageUrl: <c>org.opencontainers.image.url</c>.</summary>
    public bool ImageUrl { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageDocumentation: <c>org.opencontainers.image.documentation</c>.</summary>
    public bool ImageDocumentation { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageSource: <c>org.opencontainers.image.source</c>.</summary>
    public bool ImageSource { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageVersion: <c>org.opencontainers.image.version</c>.</summary>
    public bool ImageVersion { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageRevision: <c>org.opencontainers.image.revision</c>.</summary>
    public bool ImageRevision { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageVendor: <c>org.opencontainers.image.vendor</c>.</summary>
    public bool ImageVendor { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageLicenses: <c>org.opencontainers.image.licenses</c>.</summary>
    public bool ImageLicenses { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageTitle: <c>org.opencontainers.image.title</c>.</summary>
    public bool ImageTitle { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageBaseDigest: <c>org.opencontainers.image.base.digest</c>.</summary>
    public bool ImageBaseDigest { get; init; } = true;

    /// <summary>ContainerGenerateLabelsImageBaseName: <c>org.opencontainers.image.base.name</c>.</summary>
    public bool ImageBaseName { get; init; } = true;

    /// <summary>ContainerGenerateLabelsDotnetToolset: <c>net.dot.runtime.majorminor</c> and <c>net.dot.sdk.version</c>.</summary>
    public bool DotnetToolset { get; init; } = true;
}
