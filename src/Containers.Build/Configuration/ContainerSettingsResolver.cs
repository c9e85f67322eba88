using System.Globalization;
using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Platforms;
using Containers.Oci.References;

namespace Containers.Build.Configuration;

/// <summary>
/// Applies the .NET SDK's defaults to the container settings and validates them, without MSBuild.
/// <code>
/// var resolution = ContainerSettingsResolver.Resolve(settings, project);
/// foreach (var d in resolution.Diagnostics) log(d);              // coded errors, warnings, info
/// var resolved = resolution.GetSettingsOrThrow();                 // repository, tags, base image, RIDs, command...
/// var config = ImageConfigComposer.Compose(baseConfig, resolved, timestamp, baseDigest).Config;
/// </code>
/// </summary>
public static class ContainerSettingsResolver
{
    /// <summary>The default tag when neither ContainerImageTag nor ContainerImageTags is set.</summary>
    public const string DefaultTag = "latest";

    /// <summary>The default working directory for Linux images.</summary>
    public const string DefaultWorkingDirectory = "/app/";

    /// <summary>The default working directory for Windows images.</summary>
    public const string DefaultWindowsWorkingDirectory = @"C:\app\";

    /// <summary>The user the SDK sets for Windows images on the inferred (Microsoft) base images.</summary>
    public const string WindowsContainerUser = "ContainerUser";

    /// <summary>Resolves and validates; the result holds settings only when there are no errors.</summary>
    public static ContainerSettingsResolution Resolve(ContainerSettings settings, ProjectFacts project)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(project);
        var diagnostics = new List<ContainerDiagnostic>();

        var repository = ResolveRepository(settings, project, diagnostics);

        diagnostics.AddRange(ContainerSettingsValidator.CheckRegistry(settings.ContainerRegistry));
        var tags = ResolveTags(settings, diagnostics);

        diagnostics.AddRange(ContainerSettingsValidator.CheckTargetFrameworkVersion(project.TargetFrameworkVersion));
        var (rids, ridProperty, isMultiPlatform) = ResolveRuntimeIdentifiers(settings, project);
        var ridFindings = ContainerSettingsValidator.CheckRuntimeIdentifiers(ridProperty, rids);
        diagnostics.AddRange(ridFindings);
        var windows = rids.Count > 0 && rids.All(ContainerSettingsValidator.IsWindows);

        var baseImage = BaseImageResolver.Resolve(settings, project, rids);
        diagnostics.AddRange(baseImage.Diagnostics);

        diagnostics.AddRange(ContainerSettingsValidator.CheckImageFormat(settings.ContainerImageFormat));
        ManifestFormat? format = ContainerSettingsValidator.TryParseImageFormat(settings.ContainerImageFormat, out var parsedFormat) ? parsedFormat : null;

        var workingDirectory = string.IsNullOrEmpty(settings.ContainerWorkingDirectory)
            ? windows ? DefaultWindowsWorkingDirectory : DefaultWorkingDirectory
            : settings.ContainerWorkingDirectory;
        diagnostics.AddRange(ContainerSettingsValidator.CheckWorkingDirectory(workingDirectory, windows));

        diagnostics.AddRange(ContainerSettingsValidator.CheckUser(settings.ContainerUser));
        var user = ResolveUser(settings, project, windows, baseImage.IsInferred);

        var command = ResolveCommand(settings, project, workingDirectory, windows, diagnostics);

        diagnostics.AddRange(ContainerSettingsValidator.CheckEnvironmentVariables(settings.ContainerEnvironmentVariables));
        diagnostics.AddRange(ContainerSettingsValidator.CheckPorts(settings.ContainerPorts));
        diagnostics.AddRange(ContainerSettingsValidator.CheckLabels(settings.ContainerLabels));
        diagnostics.AddRange(ContainerSettingsValidator.CheckAnnotations(settings.ContainerAnnotations));

        if (diagnostics.Any(d => d.IsError) || repository is null || baseImage.Image is null || command is null)
        {
            return new ContainerSettingsResolution(null, diagnostics);
        }

        var switches = settings.LabelGeneration;
        var resolved = new ResolvedContainerSettings
        {
            Registry = string.IsNullOrEmpty(settings.ContainerRegistry) ? null : settings.ContainerRegistry,
            Repository = repository,
            Tags = tags,
            BaseImage = baseImage.Image,
            BaseImageName = baseImage.Name!,
            IsBaseImageInferred = baseImage.IsInferred,
            Targets = rids.Select(rid => new ContainerTarget(rid, RuntimeIdentifierPlatforms.ToPlatform(rid))).ToArray(),
            IsMultiPlatform = isMultiPlatform,
            ImageFormat = format,
            WorkingDirectory = workingDirectory,
            User = user,
            Command = command,
            EnvironmentVariables = LastWins(settings.ContainerEnvironmentVariables.Select(v => (v.Name, v.Value)))
                .Select(pair => new ContainerEnvironmentVariableItem(pair.Name, pair.Value)).ToArray(),
            Ports = settings.ContainerPorts.Select(ToExposedPort).Distinct().ToArray(),
            Labels = LastWins(GeneratedLabels(settings, project, baseImage.Name!).Concat(settings.ContainerLabels.Select(l => (l.Name, l.Value))))
                .Select(pair => new ContainerLabelItem(pair.Name, pair.Value)).ToArray(),
            Annotations = LastWins(GeneratedAnnotations(settings, project).Concat(settings.ContainerAnnotations.Select(a => (a.Name, a.Value))))
                .Select(pair => new ContainerLabelItem(pair.Name, pair.Value)).ToArray(),
            GenerateCreatedLabel = switches.Enabled && switches.ImageCreated,
            GenerateBaseDigestLabel = switches.Enabled && switches.ImageBaseDigest,
        };
        return new ContainerSettingsResolution(resolved, diagnostics);
    }

    /// <summary>
    /// The repository the SDK derives from an AssemblyName: unchanged when valid; otherwise uppercase
    /// letters lowercased and characters other than <c>a-z 0-9 _ - /</c> replaced by '-'. Null when the
    /// name does not start with a letter or digit, or the result is still not a valid repository.
    /// </summary>
    public static string? RepositoryFromAssemblyName(string assemblyName)
    {
        ArgumentNullException.ThrowIfNull(assemblyName);
        if (ImageReference.IsValidRepository(assemblyName))
        {
            return assemblyName;
        }

        if (assemblyName.Length == 0 || !char.IsAsciiLetterOrDigit(assemblyName[0]))
        {
            return null;
        }

        var builder = new StringBuilder(assemblyName.Length);
        foreach (var c in assemblyName)
        {
            builder.Append(c switch
            {
                >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' or '/' => c,
                >= 'A' and <= 'Z' => char.ToLowerInvariant(c),
                _ => '-',
            });
        }

        var normalized = builder.ToString();
        return ImageReference.IsValidRepository(normalized) ? normalized : null;
    }

    private static string? ResolveRepository(ContainerSettings settings, ProjectFacts project, List<ContainerDiagnostic> diagnostics)
    {
        if (!string.IsNullOrEmpty(settings.ContainerImageName))
        {
            diagnostics.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.ObsoleteImageName, "ContainerImageName", $"ContainerImageName '{settings.ContainerImageName}' is obsolete and overrides ContainerRepository; rename the property to ContainerRepository."));
            var obsolete = ContainerSettingsValidator.CheckRepository("ContainerImageName", settings.ContainerImageName);
            diagnostics.AddRange(obsolete);
            return obsolete.Count == 0 ? settings.ContainerImageName : null;
        }

        if (!string.IsNullOrEmpty(settings.ContainerRepository))
        {
            var findings = ContainerSettingsValidator.CheckRepository("ContainerRepository", settings.ContainerRepository);
            diagnostics.AddRange(findings);
            return findings.Count == 0 ? settings.ContainerRepository : null;
        }

        var derived = RepositoryFromAssemblyName(project.AssemblyName);
        if (derived is null)
        {
            diagnostics.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.AssemblyNameUnusableAsRepository, "ContainerRepository", $"ContainerRepository is empty and AssemblyName '{project.AssemblyName}' cannot be turned into a repository name (it must start with a letter or digit and keep some letters or digits). Set ContainerRepository, e.g. 'my-app'."));
        }
        else if (!string.Equals(derived, project.AssemblyName, StringComparison.Ordinal))
        {
            diagnostics.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.RepositoryNormalizedFromAssemblyName, "ContainerRepository", $"ContainerRepository is empty, so it is derived from AssemblyName '{project.AssemblyName}' as '{derived}' (lowercased, other characters replaced by '-'). Set ContainerRepository to choose the name yourself."));
        }

        return derived;
    }

    private static string[] ResolveTags(ContainerSettings settings, List<ContainerDiagnostic> diagnostics)
    {
        diagnostics.AddRange(ContainerSettingsValidator.CheckTags(settings.ContainerImageTag, settings.ContainerImageTags));
        if (!string.IsNullOrEmpty(settings.ContainerImageTag))
        {
            return [settings.ContainerImageTag];
        }

        var tags = settings.ContainerImageTags.Where(t => !string.IsNullOrWhiteSpace(t)).Distinct(StringComparer.Ordinal).ToArray();
        return tags.Length > 0 ? tags : [DefaultTag];
    }

    private static (IReadOnlyList<string> Rids, string Property, bool IsMultiPlatform) ResolveRuntimeIdentifiers(ContainerSettings settings, ProjectFacts project)
    {
        var single = !string.IsNullOrEmpty(settings.ContainerRuntimeIdentifier) ? settings.ContainerRuntimeIdentifier : project.RuntimeIdentifier;
        var several = settings.ContainerRuntimeIdentifiers.Where(r => !string.IsNullOrWhiteSpace(r)).ToArray();
        if (several.Length == 0 && !project.IsRidAgnostic)
        {
            several = project.RuntimeIdentifiers.Where(r => !string.IsNullOrWhiteSpace(r)).ToArray();
        }

        if (!string.IsNullOrEmpty(single))
        {
            return ([single], string.IsNullOrEmpty(settings.ContainerRuntimeIdentifier) ? "RuntimeIdentifier" : "ContainerRuntimeIdentifier", false);
        }

        if (several.Length > 0)
        {
            return (several.Distinct(StringComparer.Ordinal).ToArray(), settings.ContainerRuntimeIdentifiers.Count > 0 ? "ContainerRuntimeIdentifiers" : "RuntimeIdentifiers", true);
        }

        // Like the SDK: Linux on the architecture of the SDK that builds.
        var sdkRid = string.IsNullOrEmpty(project.SdkPortableRuntimeIdentifier) ? "linux-x64" : project.SdkPortableRuntimeIdentifier;
        return (["linux-" + sdkRid[(sdkRid.LastIndexOf('-') + 1)..]], "NETCoreSdkPortableRuntimeIdentifier", false);
    }

    private static string? ResolveUser(ContainerSettings settings, ProjectFacts project, bool windows, bool inferredBase)
    {
        if (!string.IsNullOrEmpty(settings.ContainerUser))
        {
            return settings.ContainerUser;
        }

        var net8OrLater = string.Equals(project.TargetFrameworkIdentifier, ".NETCoreApp", StringComparison.Ordinal)
            && DotnetVersion.TryParse(project.TargetFrameworkVersion, out var framework) && framework.Major >= 8;
        return windows && inferredBase && net8OrLater ? WindowsContainerUser : null;
    }

    private static ContainerCommand? ResolveCommand(ContainerSettings settings, ProjectFacts project, string workingDirectory, bool windows, List<ContainerDiagnostic> diagnostics)
    {
        var instructionFindings = ContainerSettingsValidator.CheckAppCommandInstruction(settings.ContainerAppCommandInstruction);
        diagnostics.AddRange(instructionFindings);
        if (instructionFindings.Count > 0)
        {
            return null;
        }

        AppCommandInstruction? instruction = ContainerSettingsValidator.TryParseInstruction(settings.ContainerAppCommandInstruction, out var parsed) ? parsed : null;
        var appCommand = settings.ContainerAppCommand;
        if (appCommand.Count == 0 && instruction != AppCommandInstruction.None)
        {
            var selfContained = project.IsSelfContained || project.IsAotPublished;
            var file = selfContained ? project.AssemblyName + (windows ? ".exe" : string.Empty) : project.TargetFileName;
            var fact = selfContained ? "AssemblyName" : "TargetFileName";
            if (string.IsNullOrWhiteSpace(selfContained ? project.AssemblyName : project.TargetFileName))
            {
                diagnostics.Add(ContainerDiagnostic.Create(ContainerDiagnosticCodes.MissingProjectFact, "ContainerAppCommand", $"ContainerAppCommand is empty and cannot be defaulted because {fact} is empty. Set ContainerAppCommand, or make sure the project defines {fact}."));
                return null;
            }

            var path = JoinPath(workingDirectory, file, windows);
            appCommand = selfContained ? [path] : ["dotnet", path];
        }

        return ContainerCommandResolver.Resolve(
            settings.ContainerEntrypoint,
            settings.ContainerEntrypointArgs,
            settings.ContainerDefaultArgs,
            appCommand,
            settings.ContainerAppCommandArgs,
            instruction,
            diagnostics);
    }

    // The SDK concatenates $(ContainerWorkingDirectory)$(TargetFileName); with '/srv/app' that gives '/srv/appMyApp.dll'.
    // We add the separator when it is missing.
    private static string JoinPath(string directory, string file, bool windows) =>
        directory.EndsWith('/') || directory.EndsWith('\\') ? directory + file : directory + (windows ? "\\" : "/") + file;

    private static IEnumerable<(string Name, string Value)> GeneratedLabels(ContainerSettings settings, ProjectFacts project, string baseImageName)
    {
        var on = settings.LabelGeneration;
        if (!on.Enabled)
        {
            yield break;
        }

        var description = Either(settings.ContainerDescription, project.Description);
        if (on.ImageDescription && description is not null)
        {
            yield return ("org.opencontainers.artifact.description", description);
            yield return ("org.opencontainers.image.description", description);
        }

        var pairs = new (bool Enabled, string Name, string? Value)[]
        {
            (on.ImageAuthors, "org.opencontainers.image.authors", Either(settings.ContainerAuthors, project.Authors)),
            (on.ImageUrl, "org.opencontainers.image.url", Either(settings.ContainerInformationUrl, project.PackageProjectUrl)),
            (on.ImageDocumentation, "org.opencontainers.image.documentation", Either(settings.ContainerDocumentationUrl, project.PackageProjectUrl)),
            (on.ImageVersion, "org.opencontainers.image.version", Either(settings.ContainerVersion, project.PackageVersion)),
            (on.ImageVendor, "org.opencontainers.image.vendor", Either(settings.ContainerVendor, null)),
            (on.ImageLicenses, "org.opencontainers.image.licenses", Either(settings.ContainerLicenseExpression, project.PackageLicenseExpression)),
            (on.ImageTitle, "org.opencontainers.image.title", Either(settings.ContainerTitle, project.Title)),
            (on.ImageBaseName, "org.opencontainers.image.base.name", baseImageName),
        };
        foreach (var (enabled, name, value) in pairs)
        {
            if (enabled && value is not null)
            {
                yield return (name, value);
            }
        }

        if (on.DotnetToolset && string.Equals(project.TargetFrameworkIdentifier, ".NETCoreApp", StringComparison.Ordinal)
            && DotnetVersion.TryParse(project.TargetFrameworkVersion, out var framework))
        {
            yield return ("net.dot.runtime.majorminor", string.Create(CultureInfo.InvariantCulture, $"{framework.Major}.{framework.Minor}"));
        }

        if (on.DotnetToolset && !string.IsNullOrEmpty(project.SdkVersion))
        {
            yield return ("net.dot.sdk.version", project.SdkVersion);
        }

        // Source control labels only with PublishRepositoryUrl, the same opt-in NuGet packages use.
        if (project.PublishRepositoryUrl)
        {
            var url = SourceUrl(project);
            if (on.ImageSource && url is not null)
            {
                yield return ("org.opencontainers.image.source", url);
            }

            if (on.ImageRevision && !string.IsNullOrEmpty(project.SourceRevisionId))
            {
                yield return ("org.opencontainers.image.revision", project.SourceRevisionId);
            }
        }
    }

    // Version always; revision whenever Source Link (or the user) set SourceRevisionId; the source URL only with
    // PublishRepositoryUrl, the opt-in NuGet packages and the labels use, so a private repository's URL never leaks.
    private static IEnumerable<(string Name, string Value)> GeneratedAnnotations(ContainerSettings settings, ProjectFacts project)
    {
        if (!settings.GenerateAnnotations)
        {
            yield break;
        }

        if (Either(settings.ContainerVersion, project.PackageVersion) is { } version)
        {
            yield return ("org.opencontainers.image.version", version);
        }

        if (!string.IsNullOrEmpty(project.SourceRevisionId))
        {
            yield return ("org.opencontainers.image.revision", project.SourceRevisionId);
        }

        if (project.PublishRepositoryUrl && SourceUrl(project) is { } url)
        {
            yield return ("org.opencontainers.image.source", url);
        }
    }

    private static string? SourceUrl(ProjectFacts project)
    {
        var url = project.RepositoryUrl;
        if (!string.IsNullOrEmpty(url) && string.Equals(project.RepositoryType, "git", StringComparison.Ordinal) && url.EndsWith(".git", StringComparison.Ordinal))
        {
            url = url[..^4];
        }

        return string.IsNullOrEmpty(url) ? null : url;
    }

    // Only called after CheckPorts found no errors, so both parts parse.
    private static ExposedPort ToExposedPort(ContainerPortItem port) =>
        ContainerSettingsValidator.TryParsePortNumber(port.Number, out var number) && ContainerSettingsValidator.TryParsePortType(port.Type, out var protocol)
            ? new ExposedPort(number, protocol)
            : throw new InvalidOperationException($"ContainerPort '{port.Number}' was not validated before use.");

    private static string? Either(string? preferred, string? fallback) =>
        !string.IsNullOrEmpty(preferred) ? preferred : !string.IsNullOrEmpty(fallback) ? fallback : null;

    private static List<(string Name, string Value)> LastWins(IEnumerable<(string Name, string Value)> pairs)
    {
        var result = new List<(string Name, string Value)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, value) in pairs)
        {
            if (index.TryGetValue(name, out var at))
            {
                result[at] = (name, value);
            }
            else
            {
                index[name] = result.Count;
                result.Add((name, value));
            }
        }

        return result;
    }
}
