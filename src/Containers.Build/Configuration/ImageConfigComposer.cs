using System.Text.RegularExpressions;
using Containers.Build.Reproducibility;
using Containers.Oci.Digests;
using Containers.Oci.Models;

namespace Containers.Build.Configuration;

/// <summary>The app's image config and what was noticed while making it.</summary>
/// <param name="Config">The new image config.</param>
/// <param name="Diagnostics">Warnings that depend on the base image (e.g. its entrypoint was replaced).</param>
public sealed record ComposedImageConfig(ImageConfig Config, IReadOnlyList<ContainerDiagnostic> Diagnostics);

/// <summary>
/// Makes the app's image config from the base image's config and the resolved settings. Deterministic:
/// the same inputs give the same config bytes. Merge order everywhere: the base image's entries keep
/// their order (a value we override stays in its place), and entries the base lacks follow, sorted
/// ordinally by name (ports: by number, then protocol). Fields this library does not model are kept.
/// <c>rootfs</c> and <c>history</c> are left to the code that appends the layers.
/// </summary>
public static partial class ImageConfigComposer
{
    /// <summary>The environment variable whose value becomes the user when ContainerUser is empty.</summary>
    public const string AppUidVariable = "APP_UID";

    /// <summary>Composes the config.</summary>
    /// <param name="baseConfig">The base image's config for the platform being built.</param>
    /// <param name="settings">The resolved settings.</param>
    /// <param name="timestamp">The build timestamp: <c>created</c> and the created labels.</param>
    /// <param name="baseImageDigest">The base image's manifest digest for the base.digest label; null leaves the label out.</param>
    public static ComposedImageConfig Compose(ImageConfig baseConfig, ResolvedContainerSettings settings, BuildTimestamp timestamp, Digest? baseImageDigest = null)
    {
        ArgumentNullException.ThrowIfNull(baseConfig);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timestamp);
        var diagnostics = new List<ContainerDiagnostic>();
        var baseRun = baseConfig.Config ?? new ContainerConfig();

        var env = MergeEnvironment(baseRun.Env, settings.EnvironmentVariables);
        var envValues = env.Select(ContainerConfig.SplitEnvironmentVariable).GroupBy(pair => pair.Name, StringComparer.Ordinal).ToDictionary(group => group.Key, group => group.Last().Value, StringComparer.Ordinal);

        var user = settings.User ?? (envValues.TryGetValue(AppUidVariable, out var appUid) && appUid.Length > 0 ? appUid : baseRun.User);

        var ports = settings.Ports.Concat(PortsFromAspNetCoreEnvironment(envValues));
        var exposed = MergePorts(baseRun.ExposedPorts?.Keys ?? [], ports.OrderBy(p => p.Number).ThenBy(p => p.Protocol, StringComparer.Ordinal).Select(p => p.Key))
            .ToDictionary(key => key, _ => EmptyObject.Instance, StringComparer.Ordinal);

        var labels = new List<ContainerLabelItem>(settings.Labels);
        if (settings.GenerateCreatedLabel)
        {
            var created = timestamp.Text;
            labels.Add(new ContainerLabelItem("org.opencontainers.image.created", created));
            labels.Add(new ContainerLabelItem("org.opencontainers.artifact.created", created));
        }

        if (settings.GenerateBaseDigestLabel && baseImageDigest is { } digest)
        {
            labels.Add(new ContainerLabelItem("org.opencontainers.image.base.digest", digest.ToString()));
        }

        var mergedLabels = MergeLabels(baseRun.Labels, labels);

        var baseEntrypoint = ContainerCommand.IsDotnetHostEntrypoint(baseRun.Entrypoint) ? null : baseRun.Entrypoint;
        if (settings.Command.ReplacesBaseEntrypoint && baseEntrypoint is { Count: > 0 })
        {
            diagnostics.Add(ContainerDiagnostic.Create(
                ContainerDiagnosticCodes.BaseEntrypointOverwritten,
                "ContainerAppCommandInstruction",
                $"The base image {settings.BaseImageName} has entrypoint [{string.Join(", ", baseEntrypoint)}], which the app command replaces. To run the app through it, set ContainerAppCommandInstruction to DefaultArgs; to keep the replacement and silence this, set it to Entrypoint."));
        }

        var entrypoint = settings.Command.Entrypoint ?? baseEntrypoint;
        var run = baseRun with
        {
            Env = env.Count > 0 ? env : null,
            User = string.IsNullOrEmpty(user) ? null : user,
            ExposedPorts = exposed.Count > 0 ? exposed : null,
            Labels = mergedLabels.Count > 0 ? mergedLabels : null,
            WorkingDir = settings.WorkingDirectory,
            Entrypoint = entrypoint is { Count: > 0 } ? entrypoint.ToArray() : null,
            Cmd = settings.Command.Cmd.Count > 0 ? settings.Command.Cmd.ToArray() : null,
        };

        return new ComposedImageConfig(baseConfig with { Created = timestamp.Value, Config = run }, diagnostics);
    }

    /// <summary>
    /// The composer as the publishing pipeline's per-platform callback,
    /// <c>(baseConfig, rid, baseManifestDigest) =&gt; config</c>; the base manifest digest (the platform's
    /// manifest the layers come from) feeds the base.digest label. <paramref name="report"/> receives the
    /// diagnostics of each composition.
    /// </summary>
    public static Func<ImageConfig, string, Digest, ImageConfig> ForPublishing(
        ResolvedContainerSettings settings,
        BuildTimestamp timestamp,
        Action<ContainerDiagnostic> report)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(report);
        return (baseConfig, runtimeIdentifier, baseManifestDigest) =>
        {
            var composed = Compose(baseConfig, settings, timestamp, baseManifestDigest);
            foreach (var diagnostic in composed.Diagnostics)
            {
                report(diagnostic);
            }

            return composed.Config;
        };
    }

    private static List<string> MergeEnvironment(IReadOnlyList<string>? baseEnv, IReadOnlyList<ContainerEnvironmentVariableItem> ours)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in ours)
        {
            values[variable.Name] = variable.Value;
        }

        var result = new List<string>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in baseEnv ?? [])
        {
            var (name, _) = ContainerConfig.SplitEnvironmentVariable(entry);
            present.Add(name);
            result.Add(values.TryGetValue(name, out var value) ? name + "=" + value : entry);
        }

        result.AddRange(values.Keys.Where(name => !present.Contains(name)).Order(StringComparer.Ordinal).Select(name => name + "=" + values[name]));
        return result;
    }

    private static Dictionary<string, string> MergeLabels(IReadOnlyDictionary<string, string>? baseLabels, IReadOnlyList<ContainerLabelItem> ours)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in ours)
        {
            values[label.Name] = label.Value;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in baseLabels ?? new Dictionary<string, string>())
        {
            result[name] = values.TryGetValue(name, out var ourValue) ? ourValue : value;
        }

        foreach (var name in values.Keys.Where(name => !result.ContainsKey(name)).Order(StringComparer.Ordinal))
        {
            result[name] = values[name];
        }

        return result;
    }

    private static List<string> MergePorts(IEnumerable<string> existing, IEnumerable<string> additions)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = existing.Where(seen.Add).ToList();
        result.AddRange(additions.Where(seen.Add));
        return result;
    }

    // ASP.NET Core reads its listening ports from these variables; the SDK exposes them so tools can map
    // ports. ASPNETCORE_URLS, when present, is the only one ASP.NET Core uses.
    private static IEnumerable<ExposedPort> PortsFromAspNetCoreEnvironment(Dictionary<string, string> env)
    {
        if (env.TryGetValue("ASPNETCORE_URLS", out var urls))
        {
            foreach (var url in SplitList(urls))
            {
                var match = UrlPort().Match(url);
                if (match.Success && ContainerSettingsValidator.TryParsePortNumber(match.Groups["port"].Value, out var port))
                {
                    yield return new ExposedPort(port, "tcp");
                }
            }

            yield break;
        }

        foreach (var variable in new[] { "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS" })
        {
            if (env.TryGetValue(variable, out var list))
            {
                foreach (var item in SplitList(list))
                {
                    if (ContainerSettingsValidator.TryParsePortNumber(item, out var port))
                    {
                        yield return new ExposedPort(port, "tcp");
                    }
                }
            }
        }
    }

    private static string[] SplitList(string value) => value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"^\w+://.+:(?<port>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPort();
}
