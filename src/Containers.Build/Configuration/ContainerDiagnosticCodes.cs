namespace Containers.Build.Configuration;

/// <summary>A diagnostic code with its fixed severity and a short title (the table in docs/properties.md lists them all).</summary>
/// <param name="Code">The code, <c>CONTAINER7xxx</c>.</param>
/// <param name="Severity">The severity every diagnostic with this code has.</param>
/// <param name="Title">What the code is about, in a few words.</param>
public sealed record ContainerDiagnosticCode(string Code, ContainerDiagnosticSeverity Severity, string Title);

/// <summary>
/// Every code the container settings can report, in one table. The range CONTAINER7000–CONTAINER7099
/// belongs to settings; the .NET SDK's built-in container support uses other numbers, so a code in a
/// log says which implementation spoke.
/// </summary>
public static class ContainerDiagnosticCodes
{
    /// <summary>CONTAINER7000: ContainerRepository is not a valid repository name.</summary>
    public static readonly ContainerDiagnosticCode InvalidRepository = Error("CONTAINER7000", "ContainerRepository is not a valid repository name");

    /// <summary>CONTAINER7001: the default repository was derived from AssemblyName by lowercasing and replacing characters.</summary>
    public static readonly ContainerDiagnosticCode RepositoryNormalizedFromAssemblyName = Info("CONTAINER7001", "the default repository was derived from AssemblyName by lowercasing and replacing characters");

    /// <summary>CONTAINER7002: AssemblyName cannot be turned into a repository name.</summary>
    public static readonly ContainerDiagnosticCode AssemblyNameUnusableAsRepository = Error("CONTAINER7002", "AssemblyName cannot be turned into a repository name");

    /// <summary>CONTAINER7003: ContainerRegistry is not a valid registry host.</summary>
    public static readonly ContainerDiagnosticCode InvalidRegistry = Error("CONTAINER7003", "ContainerRegistry is not a valid registry host");

    /// <summary>CONTAINER7004: ContainerImageTag or ContainerImageTags holds an invalid tag.</summary>
    public static readonly ContainerDiagnosticCode InvalidTag = Error("CONTAINER7004", "ContainerImageTag or ContainerImageTags holds an invalid tag");

    /// <summary>CONTAINER7005: both ContainerImageTag and ContainerImageTags are set.</summary>
    public static readonly ContainerDiagnosticCode AmbiguousTags = Error("CONTAINER7005", "both ContainerImageTag and ContainerImageTags are set");

    /// <summary>CONTAINER7006: ContainerBaseImage is not a valid image reference.</summary>
    public static readonly ContainerDiagnosticCode InvalidBaseImage = Error("CONTAINER7006", "ContainerBaseImage is not a valid image reference");

    /// <summary>CONTAINER7007: ContainerBaseRegistry is not a valid registry[/path] prefix.</summary>
    public static readonly ContainerDiagnosticCode InvalidBaseRegistry = Error("CONTAINER7007", "ContainerBaseRegistry is not a valid registry[/path] prefix");

    /// <summary>CONTAINER7008: ContainerBaseRegistry is ignored because ContainerBaseImage is set.</summary>
    public static readonly ContainerDiagnosticCode BaseRegistryIgnored = Warning("CONTAINER7008", "ContainerBaseRegistry is ignored because ContainerBaseImage is set");

    /// <summary>CONTAINER7009: ContainerFamily does not make a valid base image tag.</summary>
    public static readonly ContainerDiagnosticCode InvalidContainerFamily = Error("CONTAINER7009", "ContainerFamily does not make a valid base image tag");

    /// <summary>CONTAINER7010: the SDK version cannot be used to infer the base image tag.</summary>
    public static readonly ContainerDiagnosticCode InvalidSdkVersion = Error("CONTAINER7010", "the SDK version cannot be used to infer the base image tag");

    /// <summary>CONTAINER7011: some but not all runtime identifiers are linux-musl.</summary>
    public static readonly ContainerDiagnosticCode MixedMuslRuntimeIdentifiers = Error("CONTAINER7011", "some but not all runtime identifiers are linux-musl");

    /// <summary>CONTAINER7012: a container runtime identifier has no known platform.</summary>
    public static readonly ContainerDiagnosticCode UnknownRuntimeIdentifier = Error("CONTAINER7012", "a container runtime identifier has no known platform");

    /// <summary>CONTAINER7013: the runtime identifiers span Windows and non-Windows platforms.</summary>
    public static readonly ContainerDiagnosticCode MixedOperatingSystems = Error("CONTAINER7013", "the runtime identifiers span Windows and non-Windows platforms");

    /// <summary>CONTAINER7014: a ContainerPort is not a number from 1 to 65535.</summary>
    public static readonly ContainerDiagnosticCode InvalidPortNumber = Error("CONTAINER7014", "a ContainerPort is not a number from 1 to 65535");

    /// <summary>CONTAINER7015: a ContainerPort Type is not tcp or udp.</summary>
    public static readonly ContainerDiagnosticCode InvalidPortType = Error("CONTAINER7015", "a ContainerPort Type is not tcp or udp");

    /// <summary>CONTAINER7016: a ContainerPort is listed more than once.</summary>
    public static readonly ContainerDiagnosticCode DuplicatePort = Warning("CONTAINER7016", "a ContainerPort is listed more than once");

    /// <summary>CONTAINER7017: a ContainerEnvironmentVariable name is not a POSIX name.</summary>
    public static readonly ContainerDiagnosticCode InvalidEnvironmentVariableName = Error("CONTAINER7017", "a ContainerEnvironmentVariable name is not a POSIX name");

    /// <summary>CONTAINER7018: a ContainerEnvironmentVariable is given more than once.</summary>
    public static readonly ContainerDiagnosticCode DuplicateEnvironmentVariable = Warning("CONTAINER7018", "a ContainerEnvironmentVariable is given more than once");

    /// <summary>CONTAINER7019: a ContainerLabel has an empty or blank name.</summary>
    public static readonly ContainerDiagnosticCode InvalidLabelName = Error("CONTAINER7019", "a ContainerLabel has an empty or blank name");

    /// <summary>CONTAINER7020: a ContainerLabel is given more than once.</summary>
    public static readonly ContainerDiagnosticCode DuplicateLabel = Warning("CONTAINER7020", "a ContainerLabel is given more than once");

    /// <summary>CONTAINER7021: ContainerUser makes the app run as root.</summary>
    public static readonly ContainerDiagnosticCode RootUser = Warning("CONTAINER7021", "ContainerUser makes the app run as root");

    /// <summary>CONTAINER7022: ContainerImageFormat is not Docker or OCI.</summary>
    public static readonly ContainerDiagnosticCode UnknownImageFormat = Error("CONTAINER7022", "ContainerImageFormat is not Docker or OCI");

    /// <summary>CONTAINER7023: ContainerAppCommandInstruction is not DefaultArgs, Entrypoint or None.</summary>
    public static readonly ContainerDiagnosticCode UnknownAppCommandInstruction = Error("CONTAINER7023", "ContainerAppCommandInstruction is not DefaultArgs, Entrypoint or None");

    /// <summary>CONTAINER7024: ContainerEntrypointArgs is set without ContainerEntrypoint.</summary>
    public static readonly ContainerDiagnosticCode EntrypointArgsWithoutEntrypoint = Error("CONTAINER7024", "ContainerEntrypointArgs is set without ContainerEntrypoint");

    /// <summary>CONTAINER7025: ContainerAppCommandArgs is set without ContainerAppCommand.</summary>
    public static readonly ContainerDiagnosticCode AppCommandArgsWithoutAppCommand = Error("CONTAINER7025", "ContainerAppCommandArgs is set without ContainerAppCommand");

    /// <summary>CONTAINER7026: ContainerAppCommand is set but ContainerAppCommandInstruction is None.</summary>
    public static readonly ContainerDiagnosticCode AppCommandNotUsed = Error("CONTAINER7026", "ContainerAppCommand is set but ContainerAppCommandInstruction is None");

    /// <summary>CONTAINER7027: ContainerEntrypoint is set while the app command is the entrypoint.</summary>
    public static readonly ContainerDiagnosticCode EntrypointConflictsWithAppCommand = Error("CONTAINER7027", "ContainerEntrypoint is set while the app command is the entrypoint");

    /// <summary>CONTAINER7028: ContainerEntrypointArgs used without ContainerEntrypoint in the legacy form.</summary>
    public static readonly ContainerDiagnosticCode EntrypointArgsPreferAppCommandArgs = Warning("CONTAINER7028", "ContainerEntrypointArgs used without ContainerEntrypoint in the legacy form");

    /// <summary>CONTAINER7029: the base image's entrypoint is replaced by the app command.</summary>
    public static readonly ContainerDiagnosticCode BaseEntrypointOverwritten = Warning("CONTAINER7029", "the base image's entrypoint is replaced by the app command");

    /// <summary>CONTAINER7030: ContainerWorkingDirectory is not an absolute path.</summary>
    public static readonly ContainerDiagnosticCode WorkingDirectoryNotAbsolute = Error("CONTAINER7030", "ContainerWorkingDirectory is not an absolute path");

    /// <summary>CONTAINER7031: ContainerImageName is obsolete; use ContainerRepository.</summary>
    public static readonly ContainerDiagnosticCode ObsoleteImageName = Warning("CONTAINER7031", "ContainerImageName is obsolete; use ContainerRepository");

    /// <summary>CONTAINER7032: the target framework version is not a version number.</summary>
    public static readonly ContainerDiagnosticCode InvalidTargetFramework = Error("CONTAINER7032", "the target framework version is not a version number");

    /// <summary>CONTAINER7033: a project property needed for the default app command is empty.</summary>
    public static readonly ContainerDiagnosticCode MissingProjectFact = Error("CONTAINER7033", "a project property needed for the default app command is empty");

    /// <summary>CONTAINER7034: a ContainerAnnotation has an empty or blank key.</summary>
    public static readonly ContainerDiagnosticCode InvalidAnnotationKey = Error("CONTAINER7034", "a ContainerAnnotation has an empty or blank key");

    /// <summary>CONTAINER7035: a ContainerAnnotation is given more than once.</summary>
    public static readonly ContainerDiagnosticCode DuplicateAnnotation = Warning("CONTAINER7035", "a ContainerAnnotation is given more than once");

    /// <summary>Every code, in numeric order.</summary>
    public static IReadOnlyList<ContainerDiagnosticCode> All { get; } =
    [
        InvalidRepository, RepositoryNormalizedFromAssemblyName, AssemblyNameUnusableAsRepository, InvalidRegistry,
        InvalidTag, AmbiguousTags, InvalidBaseImage, InvalidBaseRegistry, BaseRegistryIgnored, InvalidContainerFamily,
        InvalidSdkVersion, MixedMuslRuntimeIdentifiers, UnknownRuntimeIdentifier, MixedOperatingSystems,
        InvalidPortNumber, InvalidPortType, DuplicatePort, InvalidEnvironmentVariableName, DuplicateEnvironmentVariable,
        InvalidLabelName, DuplicateLabel, RootUser, UnknownImageFormat, UnknownAppCommandInstruction,
        EntrypointArgsWithoutEntrypoint, AppCommandArgsWithoutAppCommand, AppCommandNotUsed,
        EntrypointConflictsWithAppCommand, EntrypointArgsPreferAppCommandArgs, BaseEntrypointOverwritten,
        WorkingDirectoryNotAbsolute, ObsoleteImageName, InvalidTargetFramework, MissingProjectFact,
        InvalidAnnotationKey, DuplicateAnnotation,
    ];

    private static ContainerDiagnosticCode Error(string code, string title) => new(code, ContainerDiagnosticSeverity.Error, title);

    private static ContainerDiagnosticCode Warning(string code, string title) => new(code, ContainerDiagnosticSeverity.Warning, title);

    private static ContainerDiagnosticCode Info(string code, string title) => new(code, ContainerDiagnosticSeverity.Info, title);
}
