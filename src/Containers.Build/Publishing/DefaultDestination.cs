using Containers.Oci.Stores;

namespace Containers.Build.Publishing;

/// <summary>The destination chosen when none is configured, and the one log line that says why.</summary>
/// <param name="Destination">A <see cref="ContainerDestination.LocalDaemon"/> for the first engine that answers, else an <see cref="ContainerDestination.OciLayoutDirectory"/>.</param>
/// <param name="Explanation">What was tried, what was chosen and how to choose explicitly.</param>
/// <param name="Probes">Each engine's probe, in the order tried.</param>
public sealed record DefaultDestinationChoice(ContainerDestination Destination, string Explanation, IReadOnlyList<LocalEngineProbe> Probes);

/// <summary>
/// Chooses where an image goes when nothing names a destination (no registry, archive, layout or local engine):
/// docker when its daemon answers, else podman when it answers, else an OCI image layout at a default directory.
/// Publishing (the MSBuild task) and the <c>dotnet container</c> command choose the same way.
/// </summary>
/// <example>
/// <code>
/// var choice = DefaultDestination.Choose("myapp", ["latest"], "bin/Release/net10.0/container");
/// log(choice.Explanation);   // "No destination is set: docker (no daemon: …) does not answer; loading into podman 4.3.1. …"
/// await publisher.PublishAsync(request with { Destination = choice.Destination }, ct);
/// </code>
/// </example>
public static class DefaultDestination
{
    /// <summary>Probes the engines (cached per process) and chooses.</summary>
    /// <param name="repository">The image's repository name.</param>
    /// <param name="tags">The tags to write.</param>
    /// <param name="layoutDirectory">The OCI layout written when no engine answers.</param>
    /// <param name="searchPath">Where to look for the CLIs (PATH's format); null for this process's PATH.</param>
    public static DefaultDestinationChoice Choose(string repository, IReadOnlyList<string> tags, string layoutDirectory, string? searchPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(repository);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentException.ThrowIfNullOrEmpty(layoutDirectory);
        var probes = new List<LocalEngineProbe>();
        foreach (var engine in LocalEngines.Candidates)
        {
            var probe = LocalEngines.Probe(engine, searchPath);
            probes.Add(probe);
            if (probe.Answers)
            {
                var skipped = probes.Count > 1 ? $"{Tried(probes[..^1])} does not answer; " : "";
                var explanation = $"No destination is set: {skipped}loading into {probe.Describe()} ({probe.ExecutablePath}). {HowToChoose}";
                return new DefaultDestinationChoice(new ContainerDestination.LocalDaemon(probe.ExecutablePath!, repository) { Tags = tags }, explanation, probes);
            }
        }

        var reference = OciLayoutReference(layoutDirectory, tags[0]);
        var layoutExplanation = $"No destination is set and no local container engine answers ({Tried(probes)}): writing an OCI image layout to {layoutDirectory} (read it as {reference}, e.g. 'skopeo inspect {reference}'). {HowToChoose}";
        return new DefaultDestinationChoice(new ContainerDestination.OciLayoutDirectory(layoutDirectory, repository) { Tags = tags }, layoutExplanation, probes);
    }

    /// <summary>How a user chooses explicitly; part of every explanation.</summary>
    public const string HowToChoose =
        "To choose, set LocalRegistry=docker or LocalRegistry=podman, ContainerOciLayoutPath=<dir>, ContainerArchiveOutputPath=<file.tar> or ContainerRegistry=<host>.";

    /// <summary>The transport reference skopeo, podman and our own tools read a layout's image by: <c>oci:&lt;dir&gt;:&lt;tag&gt;</c>.</summary>
    /// <remarks>The tag is part of it: a layout also lists the image's SBOM (a referrer) in index.json, so the directory alone names two manifests.</remarks>
    public static string OciLayoutReference(string layoutDirectory, string tag) =>
        $"oci:{Path.TrimEndingDirectorySeparator(layoutDirectory)}:{tag}";

    private static string Tried(IEnumerable<LocalEngineProbe> probes) => string.Join(", ", probes.Select(p => p.Describe()));
}
