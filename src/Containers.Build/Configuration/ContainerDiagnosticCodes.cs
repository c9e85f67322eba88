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
#pragma warning disable CS1591 // Each field's Title is its documentation; docs/properties.md has the table.
    public static readonly ContainerDiagnosticCode InvalidRepository = Error("CONTAINER7000", "ContainerRepository is not a valid repository name");
    public static readonly ContainerDiagnosticCode RepositoryNormalizedFromAssemblyName = Info("CONTAINER7001", "the default repository was derived from AssemblyName by lowercasing and replacing characters");
    public static readonly ContainerDiagnosticCode AssemblyNameUnusableAsRepository = Error("CONTAINER7002", "AssemblyName cannot be turned into a repository name");
    public static readonly ContainerDiagnosticCode InvalidRegistry = Error("CONTAINER7003", "ContainerRegistry is not a valid registry host");
    public static readonly ContainerDiagnosticCode InvalidTag = Error("CONTAINER7004", "ContainerImageTag or ContainerImageTags holds an invalid tag");
    public static readonly ContainerDiagnosticCode AmbiguousTags = Error("CONTAINER7005", "both ContainerImageTag and ContainerImageTags are set");
    public static readonly ContainerDiagnosticCode InvalidBaseImage = Error("CONTAINER7006", "ContainerBaseImage is not a valid image reference");
    public static readonly ContainerDiagnosticCode InvalidBaseRegistry = Error("CONTAINER7007", "ContainerBaseRegistry is not a valid registry[/path] prefix");
    public static readonly ContainerDiagnosticCode BaseRegistryIgnored = Warning("CONTAINER7008", "ContainerBaseRegistry is ignored because ContainerBaseImage is set");
    public static readonly ContainerDiagnosticCode InvalidContainerFamily = Error("CONTAINER7009", "ContainerFamily does not make a valid base image tag");
    public static readonly ContainerDiagnosticCode InvalidSdkVersion = Error("CONTAINER7010", "the SDK version cannot be used to infer the base image tag");
    public static readonly ContainerDiagnosticCode MixedMuslRuntimeIdentifiers = Error("CONTAINER7011", "some but not all runtime identifiers are linux-musl");
    public static readonly ContainerDiagnosticCode UnknownRuntimeIdentifier = Error("CONTAINER7012", "a container runtime identifier has no known platform");
    public static readonly ContainerDiagnosticCode MixedOperatingSystems = Error("CONTAINER7013", "the runtime identifiers span Windows and non-Windows platforms");
    public static readonly ContainerDiagnosticCode InvalidPortNumber = Error("CONTAINER7014", "a ContainerPort is not a number from 1 to 65535");
    public static readonly ContainerDiagnosticCode InvalidPortType = Error("CONTAINER7015", "a ContainerPort Type is not tcp or udp");
    public static readonly ContainerDiagnosticCode DuplicatePort = Warning("CONTAINER7016", "a ContainerPort is listed more than once");
    public static readonly ContainerDiagnosticCode InvalidEnvironmentVariableName = Error("CONTAINER7017", "a ContainerEnvironmentVariable name is not a POSIX name");
    public static readonly ContainerDiagnosticCode DuplicateEnvironmentVariable = Warning("CONTAINER7018", "a ContainerEnvironmentVariable is given more than once");
    public static readonly ContainerDiagnosticCode InvalidLabelName = Error("CONTAINER7019", "a ContainerLabel has an empty or blank name");
    public static readonly ContainerDiagnosticCode DuplicateLabel = Warning("CONTAINER7020", "a ContainerLabel is given more than once");
    public static readonly ContainerDiagnosticCode RootUser = Warning("CONTAINER7021", "ContainerUser makes the app run as root");
    public static readonly ContainerDiagnosticCode UnknownImageFormat = Error("CONTAINER7022", "ContainerImageFormat is not Docker or OCI");
    public static readonly ContainerDiagnosticCode UnknownAppCommandInstruction = Error("CONTAINER7023", "ContainerAppCommandInstruction is not DefaultArgs, Entrypoint or None");
    public static readonly ContainerDiagnosticCode EntrypointArgsWithoutEntrypoint = Error("CONTAINER7024", "ContainerEntrypointArgs is set without ContainerEntrypoint");
    public static readonly ContainerDiagnosticCode AppCommandArgsWithoutAppCommand = Error("CONTAINER7025", "ContainerAppCommandArgs is set without ContainerAppCommand");
    public static readonly ContainerDiagnosticCode AppCommandNotUsed = Error("CONTAINER7026", "ContainerAppCommand is set but ContainerAppCommandInstruction is None");
    public static readonly ContainerDiagnosticCode EntrypointConflictsWithAppCommand = Error("CONTAINER7027", "ContainerEntrypoint is set while the app command is the entrypoint");
    public static readonly ContainerDiagnosticCode EntrypointArgsPreferAppCommandArgs = Warning("CONTAINER7028", "ContainerEntrypointArgs used without ContainerEntrypoint in the legacy form");
    public static readonly ContainerDiagnosticCode BaseEntrypointOverwritten = Warning("CONTAINER7029", "the base image's entrypoint is replaced by the app command");
    public static readonly ContainerDiagnosticCode WorkingDirectoryNotAbsolute = Error("CONTAINER7030", "ContainerWorkingDirectory is not an absolute path");
    public static readonly ContainerDiagnosticCode ObsoleteImageName = Warning("CONTAINER7031", "ContainerImageName is obsolete; use ContainerRepository");
    public static readonly ContainerDiagnosticCode InvalidTargetFramework = Error("CONTAINER7032", "the target framework version is not a version number");
    public static readonly ContainerDiagnosticCode MissingProjectFact = Error("CONTAINER7033", "a project property needed for the default app command is empty");
#pragma warning restore CS1591

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
    ];

    private static ContainerDiagnosticCode Error(string code, string title) => new(code, ContainerDiagnosticSeverity.Error, title);

    private static ContainerDiagnosticCode Warning(string code, string title) => new(code, ContainerDiagnosticSeverity.Warning, title);

    private static ContainerDiagnosticCode Info(string code, string title) => new(code, ContainerDiagnosticSeverity.Info, title);
}
