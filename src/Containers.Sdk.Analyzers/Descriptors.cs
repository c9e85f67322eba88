using Microsoft.CodeAnalysis;

namespace Containers.Sdk.Analyzers;

/// <summary>The diagnostic descriptors of the Containers.Sdk analyzers; each help link is the rule's docs page.</summary>
public static class Descriptors
{
    private const string Category = "Containers";
    private const string HelpLinkBase = "https://github.com/containers-sdk/containers-sdk/blob/main/docs/rules/";

    /// <summary>CSDK1001: a container port is outside 1 to 65535.</summary>
    public static readonly DiagnosticDescriptor PortOutOfRange = Create(
        RuleIds.PortOutOfRange,
        "Container port is outside 1 to 65535",
        "{0}: container port {1} is outside 1 to 65535; use a port number from 1 to 65535. Publishing fails on it (CONTAINER7014).",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1002: a container port has an unknown protocol.</summary>
    public static readonly DiagnosticDescriptor UnknownPortProtocol = Create(
        RuleIds.UnknownPortProtocol,
        "Container port protocol is not tcp or udp",
        "{0}: container port protocol '{1}' is not known; use \"tcp\" or \"udp\" (lower case). Publishing fails on it (CONTAINER7015).",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1003: the same port and protocol is exposed twice.</summary>
    public static readonly DiagnosticDescriptor DuplicatePort = Create(
        RuleIds.DuplicatePort,
        "Container port is exposed more than once",
        "Container port {0}/{1} is already exposed; remove this duplicate",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1004: an environment variable name is not portable.</summary>
    public static readonly DiagnosticDescriptor InvalidEnvironmentVariableName = Create(
        RuleIds.InvalidEnvironmentVariableName,
        "Container environment variable name is not valid",
        "{0}: container environment variable name '{1}' is not valid; use a letter or underscore followed by letters, digits or underscores. Publishing fails on it (CONTAINER7017).",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1005: the container runs as root.</summary>
    public static readonly DiagnosticDescriptor ContainerUserIsRoot = Create(
        RuleIds.ContainerUserIsRoot,
        "Container runs as root",
        "Container user '{0}' is root; run as a non-root user such as \"app\" (the .NET base images' unprivileged user)",
        DiagnosticSeverity.Warning);

    /// <summary>
    /// CSDK1005 for the <c>ContainerUser</c> MSBuild property: the same rule, found when the compilation is analyzed
    /// as a whole (a property has no place in source).
    /// </summary>
    public static readonly DiagnosticDescriptor ContainerUserIsRootByProperty = Create(
        RuleIds.ContainerUserIsRoot,
        "Container runs as root",
        "ContainerUser '{0}' makes the container run as root; leave ContainerUser empty to use the base image's non-root user (APP_UID), or set a non-root user such as \"app\"",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1006: the app listens on a port the image does not expose.</summary>
    public static readonly DiagnosticDescriptor ListeningPortNotExposed = Create(
        RuleIds.ListeningPortNotExposed,
        "App listens on a port the container does not expose",
        "The app listens on port {0}, which the container image does not expose; add [assembly: ContainerPort({0})] or a ContainerPort item",
        DiagnosticSeverity.Warning);

    /// <summary>
    /// CSDK1006 for a port named by a ContainerEnvironmentVariable item (ASPNETCORE_HTTP_PORTS, ASPNETCORE_URLS ...):
    /// the same rule, found when the compilation is analyzed as a whole (an item has no place in source).
    /// </summary>
    public static readonly DiagnosticDescriptor ListeningPortNotExposedByEnvironment = Create(
        RuleIds.ListeningPortNotExposed,
        "App listens on a port the container does not expose",
        "{0} makes the app listen on port {1}, which the container image does not expose; add [assembly: ContainerPort({1})] or a ContainerPort item",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1006 for a port named by a <c>ContainerEnvironment</c> attribute's value, reported as you type.</summary>
    public static readonly DiagnosticDescriptor ListeningPortNotExposedByEnvironmentAttribute = Create(
        RuleIds.ListeningPortNotExposed,
        "App listens on a port the container does not expose",
        "{0} makes the app listen on port {1}, which the container image does not expose; add [assembly: ContainerPort({1})] or a ContainerPort item",
        DiagnosticSeverity.Warning);

    /// <summary>CSDK1007: the health check path is not mapped by any endpoint.</summary>
    public static readonly DiagnosticDescriptor HealthCheckPathNotMapped = Create(
        RuleIds.HealthCheckPathNotMapped,
        "Container health check path is not mapped",
        "The container health check calls '{0}', but no endpoint maps it (MapGet, Map, MapHealthChecks); map it or change the path",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1008: the base image is not pinned by digest.</summary>
    public static readonly DiagnosticDescriptor BaseImageNotPinned = Create(
        RuleIds.BaseImageNotPinned,
        "Base image is not pinned by digest",
        "ContainerBaseImage '{0}' is not pinned by digest; append @sha256:<digest> so every build uses the same base image",
        DiagnosticSeverity.Info,
        enabledByDefault: false,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1009: ContainerRepository is not a valid repository name.</summary>
    public static readonly DiagnosticDescriptor InvalidRepositoryName = Create(
        RuleIds.InvalidRepositoryName,
        "Container repository name is not valid",
        "ContainerRepository '{0}' is not a valid repository name: {1} Use lowercase letters, digits and '.', '_', '-' separators, with '/' between path components, e.g. 'team/my-app'. Publishing fails on it (CONTAINER7000).",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1010: an image tag is not valid.</summary>
    public static readonly DiagnosticDescriptor InvalidImageTag = Create(
        RuleIds.InvalidImageTag,
        "Container image tag is not valid",
        "{0} has invalid tag '{1}': {2} Fix or remove it. Publishing fails on it (CONTAINER7004).",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1011: ContainerRegistry is not a valid registry.</summary>
    public static readonly DiagnosticDescriptor InvalidRegistry = Create(
        RuleIds.InvalidRegistry,
        "Container registry is not valid",
        "ContainerRegistry '{0}' is not a valid registry: {1} Expected host[:port] without a scheme or path, e.g. 'registry.example.com' or '127.0.0.1:5000'. Publishing fails on it (CONTAINER7003).",
        DiagnosticSeverity.Warning,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>CSDK1012: an exposed port that nothing in the app listens on.</summary>
    public static readonly DiagnosticDescriptor ExposedPortNotListened = Create(
        RuleIds.ExposedPortNotListened,
        "Exposed container port is not listened on",
        "{0} exposes port {1}, but the app listens on {2}; listen on port {1} or stop exposing it",
        DiagnosticSeverity.Info,
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, bool enabledByDefault = true, params string[] customTags) =>
        new(id, title, message, Category, severity, enabledByDefault, helpLinkUri: HelpLinkBase + id + ".md", customTags: customTags);
}
