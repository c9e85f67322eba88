using Containers.Oci.Descriptors;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Shared;

namespace Containers.Build.Configuration;

/// <summary>
/// One check per rule. Each returns its findings (empty when the value is fine); messages name the
/// property or item, the value given, what was expected and how to fix it. No check rewrites a value.
/// </summary>
public static class ContainerSettingsValidator
{
    /// <summary>Port numbers are 1–65535.</summary>
    public const int MaxPort = ContainerValueRules.MaxPort;

    /// <summary>An explicit ContainerRepository (or obsolete ContainerImageName) must be a valid repository as given.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckRepository(string property, string? repository)
    {
        if (string.IsNullOrEmpty(repository))
        {
            return [];
        }

        var problem = ImageReference.ValidateRepository(repository);
        return problem is null
            ? []
            : [ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidRepository, property, $"{property} '{repository}' is not a valid repository name: {problem} Use lowercase letters, digits and '.', '_', '-' separators, with '/' between path components, e.g. 'team/my-app'.")];
    }

    /// <summary>ContainerRegistry, when set, must be a host with an optional port.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckRegistry(string? registry)
    {
        if (string.IsNullOrEmpty(registry))
        {
            return [];
        }

        var problem = ImageReference.ValidateRegistry(registry);
        return problem is null
            ? []
            : [ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidRegistry, "ContainerRegistry", $"ContainerRegistry '{registry}' is not a valid registry: {problem} Expected host[:port] without a scheme or path, e.g. 'registry.example.com' or '127.0.0.1:5000'.")];
    }

    /// <summary>ContainerImageTag and ContainerImageTags are exclusive, and every tag must be valid.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckTags(string? tag, IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var findings = new List<ContainerDiagnostic>();
        var hasTags = tags.Any(t => !string.IsNullOrWhiteSpace(t));
        if (!string.IsNullOrEmpty(tag) && hasTags)
        {
            findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.AmbiguousTags, "ContainerImageTags", $"Both ContainerImageTag ('{tag}') and ContainerImageTags ('{string.Join(";", tags)}') are set. Set only one: ContainerImageTag for one tag, ContainerImageTags for several."));
            return findings;
        }

        if (!string.IsNullOrEmpty(tag))
        {
            AddTagProblem(findings, "ContainerImageTag", tag);
        }

        foreach (var each in tags.Where(t => !string.IsNullOrWhiteSpace(t)))
        {
            AddTagProblem(findings, "ContainerImageTags", each);
        }

        return findings;
    }

    /// <summary>A ContainerPort's Include is a number from 1 to 65535, its Type tcp or udp (or empty for tcp), and it is listed once.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckPorts(IReadOnlyList<ContainerPortItem> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var findings = new List<ContainerDiagnostic>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var port in ports)
        {
            var numberOk = TryParsePortNumber(port.Number, out var number);
            if (!numberOk)
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidPortNumber, "ContainerPort", $"ContainerPort '{port.Number}' is not a port number; expected a whole number from 1 to {MaxPort}, e.g. <ContainerPort Include=\"8080\" Type=\"tcp\" />."));
            }

            var typeOk = TryParsePortType(port.Type, out var protocol);
            if (!typeOk)
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidPortType, "ContainerPort", $"ContainerPort '{port.Number}' has Type '{port.Type}'; expected 'tcp' or 'udp' (lowercase), or no Type for tcp."));
            }

            if (numberOk && typeOk && !seen.Add(new ExposedPort(number, protocol).Key))
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.DuplicatePort, "ContainerPort", $"ContainerPort '{number}/{protocol}' is listed more than once; it is exposed once. Remove the duplicate item."));
            }
        }

        return findings;
    }

    /// <summary>
    /// A ContainerEnvironmentVariable name is a POSIX name, <c>[A-Za-z_][A-Za-z0-9_]*</c>. The SDK drops a bad
    /// one with a warning; we stop, because the app would silently run without it.
    /// </summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckEnvironmentVariables(IReadOnlyList<ContainerEnvironmentVariableItem> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var findings = new List<ContainerDiagnostic>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in variables)
        {
            if (!IsPosixName(variable.Name))
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidEnvironmentVariableName, "ContainerEnvironmentVariable", $"ContainerEnvironmentVariable '{variable.Name}' is not a valid variable name; expected a letter or '_' followed by letters, digits or '_' (e.g. 'MY_SETTING'). Rename it; for nested .NET configuration keys use '__' instead of ':'."));
                continue;
            }

            if (values.TryGetValue(variable.Name, out var earlier))
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.DuplicateEnvironmentVariable, "ContainerEnvironmentVariable", $"ContainerEnvironmentVariable '{variable.Name}' is given more than once ('{earlier}', then '{variable.Value}'); the last value is used. Remove the extra item."));
            }

            values[variable.Name] = variable.Value;
        }

        return findings;
    }

    /// <summary>A ContainerLabel has a non-blank name; a name given twice keeps the last value.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckLabels(IReadOnlyList<ContainerLabelItem> labels) =>
        CheckKeyValueItems(labels, "ContainerLabel", "name", ContainerDiagnosticCodes.InvalidLabelName, ContainerDiagnosticCodes.DuplicateLabel);

    /// <summary>A ContainerAnnotation has a non-blank key; a key given twice keeps the last value.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckAnnotations(IReadOnlyList<ContainerLabelItem> annotations) =>
        CheckKeyValueItems(annotations, "ContainerAnnotation", "key", ContainerDiagnosticCodes.InvalidAnnotationKey, ContainerDiagnosticCodes.DuplicateAnnotation);

    private static List<ContainerDiagnostic> CheckKeyValueItems(IReadOnlyList<ContainerLabelItem> labels, string itemName, string keyWord, ContainerDiagnosticCode invalid, ContainerDiagnosticCode duplicate)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var findings = new List<ContainerDiagnostic>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            if (string.IsNullOrWhiteSpace(label.Name) || label.Name.Trim().Length != label.Name.Length)
            {
                findings.Add(ContainerDiagnostic.Create(invalid, itemName, $"{itemName} '{label.Name}' (value '{label.Value}') has an empty {keyWord} or one with leading or trailing spaces; expected a key such as 'com.example.team'. Fix the item's Include."));
                continue;
            }

            if (values.TryGetValue(label.Name, out var earlier))
            {
                findings.Add(ContainerDiagnostic.Create(duplicate, itemName, $"{itemName} '{label.Name}' is given more than once ('{earlier}', then '{label.Value}'); the last value is used. Remove the extra item."));
            }

            values[label.Name] = label.Value;
        }

        return findings;
    }

    /// <summary>ContainerUser <c>root</c> or uid <c>0</c> (with or without a group) runs the app as root: a warning.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckUser(string? user)
    {
        if (string.IsNullOrEmpty(user))
        {
            return [];
        }

        return ContainerValueRules.IsRootUser(user)
            ? [ContainerDiagnostic.Create(ContainerDiagnosticCodes.RootUser, "ContainerUser", $"ContainerUser '{user}' makes the app run as root, so a flaw in the app gives an attacker the whole container. Leave ContainerUser empty to use the base image's non-root APP_UID, or name a non-root user such as 'app' or '1654'.")]
            : [];
    }

    /// <summary>ContainerImageFormat, when set, is <c>Docker</c> or <c>OCI</c> (any case).</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckImageFormat(string? format) =>
        string.IsNullOrEmpty(format) || TryParseImageFormat(format, out _)
            ? []
            : [ContainerDiagnostic.Create(ContainerDiagnosticCodes.UnknownImageFormat, "ContainerImageFormat", $"ContainerImageFormat '{format}' is not a known format; expected 'Docker' or 'OCI', or leave it empty to use the base image's format.")];

    /// <summary>ContainerAppCommandInstruction, when set, is <c>DefaultArgs</c>, <c>Entrypoint</c> or <c>None</c> (any case).</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckAppCommandInstruction(string? instruction) =>
        string.IsNullOrEmpty(instruction) || TryParseInstruction(instruction, out _)
            ? []
            : [ContainerDiagnostic.Create(ContainerDiagnosticCodes.UnknownAppCommandInstruction, "ContainerAppCommandInstruction", $"ContainerAppCommandInstruction '{instruction}' is not known; expected 'DefaultArgs', 'Entrypoint' or 'None', or leave it empty for the default.")];

    /// <summary>Every container RID maps to a platform, and they are all Windows or all not.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckRuntimeIdentifiers(string property, IReadOnlyList<string> runtimeIdentifiers)
    {
        ArgumentNullException.ThrowIfNull(runtimeIdentifiers);
        var findings = new List<ContainerDiagnostic>();
        foreach (var rid in runtimeIdentifiers)
        {
            if (RuntimeIdentifierPlatforms.TryToPlatform(rid, out var platform) && platform.OS is not ("linux" or "windows"))
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.UnknownRuntimeIdentifier, property, $"{property} '{rid}' is a {platform.OS} RID, but container images run Linux or Windows. Use the matching linux-* RID, e.g. 'linux-{rid[(rid.LastIndexOf('-') + 1)..]}'."));
            }
            else if (platform is null)
            {
                findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.UnknownRuntimeIdentifier, property, $"{property} '{rid}' has no known container platform; expected a portable RID such as {string.Join(", ", RuntimeIdentifierPlatforms.KnownRuntimeIdentifiers.Where(r => r.StartsWith("linux-", StringComparison.Ordinal)).Take(4))} (RIDs are case-sensitive). Fix the RID."));
            }
        }

        if (findings.Count == 0 && runtimeIdentifiers.Any(IsWindows) && !runtimeIdentifiers.All(IsWindows))
        {
            findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.MixedOperatingSystems, property, $"{property} '{string.Join(";", runtimeIdentifiers)}' mixes Windows and non-Windows RIDs, which need different working directories, users and base images. Publish them as separate images."));
        }

        return findings;
    }

    /// <summary>ContainerWorkingDirectory is absolute: <c>/...</c> on Linux, <c>C:\...</c> or <c>\...</c> on Windows.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckWorkingDirectory(string? workingDirectory, bool windows)
    {
        if (string.IsNullOrEmpty(workingDirectory))
        {
            return [];
        }

        var absolute = windows
            ? workingDirectory.StartsWith('\\') || (workingDirectory.Length >= 3 && char.IsAsciiLetter(workingDirectory[0]) && workingDirectory[1] == ':' && workingDirectory[2] is '\\' or '/')
            : workingDirectory.StartsWith('/');
        return absolute
            ? []
            : [ContainerDiagnostic.Create(ContainerDiagnosticCodes.WorkingDirectoryNotAbsolute, "ContainerWorkingDirectory", $"ContainerWorkingDirectory '{workingDirectory}' is not an absolute path; the image needs one, e.g. {(windows ? @"'C:\app\'" : "'/app/'")}.")];
    }

    /// <summary>The target framework version, when given, is a version number such as <c>10.0</c>.</summary>
    public static IReadOnlyList<ContainerDiagnostic> CheckTargetFrameworkVersion(string? version) =>
        string.IsNullOrEmpty(version) || DotnetVersion.TryParse(version, out _)
            ? []
            : [ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidTargetFramework, "TargetFrameworkVersion", $"TargetFrameworkVersion '{version}' is not a version number; expected e.g. '10.0' (from TargetFramework net10.0). Containers need a .NET (net8.0 or later) TargetFramework.")];

    internal static bool TryParsePortNumber(string? text, out int number) => ContainerValueRules.TryParsePort(text, out number);

    internal static bool TryParsePortType(string? text, out string protocol)
    {
        protocol = string.IsNullOrEmpty(text) ? "tcp" : text;
        return ContainerValueRules.IsKnownProtocol(protocol);
    }

    internal static bool TryParseImageFormat(string? text, out ManifestFormat format)
    {
        format = default;
        if (string.Equals(text, "OCI", StringComparison.OrdinalIgnoreCase))
        {
            format = ManifestFormat.Oci;
            return true;
        }

        if (string.Equals(text, "Docker", StringComparison.OrdinalIgnoreCase))
        {
            format = ManifestFormat.Docker;
            return true;
        }

        return false;
    }

    internal static bool TryParseInstruction(string? text, out AppCommandInstruction instruction)
    {
        foreach (var candidate in new[] { AppCommandInstruction.DefaultArgs, AppCommandInstruction.Entrypoint, AppCommandInstruction.None })
        {
            if (string.Equals(text, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                instruction = candidate;
                return true;
            }
        }

        instruction = default;
        return false;
    }

    internal static bool IsWindows(string rid) => rid.StartsWith("win", StringComparison.Ordinal);

    internal static bool IsPosixName(string? name) => ContainerValueRules.IsValidEnvironmentVariableName(name);

    private static void AddTagProblem(List<ContainerDiagnostic> findings, string property, string tag)
    {
        var problem = ImageReference.ValidateTag(tag);
        if (problem is not null)
        {
            findings.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.InvalidTag, property, $"{property} has invalid tag '{tag}': {problem} Fix or remove it."));
        }
    }
}
