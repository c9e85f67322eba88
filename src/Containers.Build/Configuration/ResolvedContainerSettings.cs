using Containers.Oci.Descriptors;
using Containers.Oci.Platforms;
using Containers.Oci.References;

namespace Containers.Build.Configuration;

/// <summary>
/// The container settings after defaults and validation: everything needed to name, base and configure
/// the image. Made by <see cref="ContainerSettingsResolver"/>; turned into an image config by
/// <see cref="ImageConfigComposer"/>.
/// </summary>
public sealed record ResolvedContainerSettings
{
    /// <summary>ContainerRegistry, or null for a local destination.</summary>
    public string? Registry { get; init; }

    /// <summary>The repository (ContainerRepository, or derived from AssemblyName).</summary>
    public required string Repository { get; init; }

    /// <summary>The tags, at least one (default <c>latest</c>).</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>The base image.</summary>
    public required ImageReference BaseImage { get; init; }

    /// <summary>The base image as the <c>org.opencontainers.image.base.name</c> label shows it.</summary>
    public required string BaseImageName { get; init; }

    /// <summary>True when the base image was inferred (ContainerBaseImage empty).</summary>
    public bool IsBaseImageInferred { get; init; }

    /// <summary>The RIDs to build, each with its platform; more than one makes an image index.</summary>
    public required IReadOnlyList<ContainerTarget> Targets { get; init; }

    /// <summary>
    /// True when the SDK would take its multi-RID path (ContainerRuntimeIdentifiers given, no single
    /// ContainerRuntimeIdentifier): the result is an image index even with one RID.
    /// </summary>
    public bool IsMultiPlatform { get; init; }

    /// <summary>ContainerImageFormat, or null to follow the base image's manifest format.</summary>
    public ManifestFormat? ImageFormat { get; init; }

    /// <summary>The working directory.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>
    /// The user set by the project (ContainerUser, or <c>ContainerUser</c> for Windows on the inferred
    /// images); null lets the composer take APP_UID from the image's environment, else the base's user.
    /// </summary>
    public string? User { get; init; }

    /// <summary>ENTRYPOINT and CMD.</summary>
    public required ContainerCommand Command { get; init; }

    /// <summary>Environment variables to set, in the order given, each name once (the last value wins).</summary>
    public IReadOnlyList<ContainerEnvironmentVariableItem> EnvironmentVariables { get; init; } = [];

    /// <summary>Ports to expose, in the order given, each once.</summary>
    public IReadOnlyList<ExposedPort> Ports { get; init; } = [];

    /// <summary>
    /// Labels known before the base image is read: generated ones (in the SDK's order) then the
    /// ContainerLabel items, which win over a generated label of the same name.
    /// </summary>
    public IReadOnlyList<ContainerLabelItem> Labels { get; init; } = [];

    /// <summary>
    /// Manifest and index annotations besides the base-image and created ones the publisher adds: generated
    /// <c>org.opencontainers.image.version</c>, <c>.revision</c> and <c>.source</c>, then ContainerAnnotation items (which win).
    /// </summary>
    public IReadOnlyList<ContainerLabelItem> Annotations { get; init; } = [];

    /// <summary>Add <c>org.opencontainers.image.created</c> (and <c>.artifact.created</c>) with the build timestamp.</summary>
    public bool GenerateCreatedLabel { get; init; }

    /// <summary>Add <c>org.opencontainers.image.base.digest</c> when the base image's manifest digest is known.</summary>
    public bool GenerateBaseDigestLabel { get; init; }
}

/// <summary>One RID the image is built for, and the platform it selects from the base image.</summary>
/// <param name="RuntimeIdentifier">The RID, e.g. <c>linux-arm64</c>.</param>
/// <param name="Platform">Its platform, e.g. <c>linux/arm64/v8</c>.</param>
public sealed record ContainerTarget(string RuntimeIdentifier, Platform Platform);

/// <summary>A port to expose.</summary>
/// <param name="Number">1–65535.</param>
/// <param name="Protocol"><c>tcp</c> or <c>udp</c>.</param>
public sealed record ExposedPort(int Number, string Protocol)
{
    /// <summary>The ExposedPorts key, <c>8080/tcp</c>.</summary>
    public string Key => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Number}/{Protocol}");
}

/// <summary>The outcome of <see cref="ContainerSettingsResolver.Resolve"/>: settings when there were no errors, and every finding.</summary>
/// <param name="Settings">The resolved settings; null when <see cref="Diagnostics"/> has an error.</param>
/// <param name="Diagnostics">Errors, warnings and info, in the order found.</param>
public sealed record ContainerSettingsResolution(ResolvedContainerSettings? Settings, IReadOnlyList<ContainerDiagnostic> Diagnostics)
{
    /// <summary>True when any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>The settings, or a <see cref="ContainerSettingsException"/> carrying the diagnostics.</summary>
    public ResolvedContainerSettings GetSettingsOrThrow() =>
        Settings is not null && !HasErrors ? Settings : throw new ContainerSettingsException(Diagnostics);
}
