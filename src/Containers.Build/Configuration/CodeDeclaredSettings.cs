using System.Globalization;
using System.Text.Json;

namespace Containers.Build.Configuration;

/// <summary>
/// Merges the settings an app declares in code (<see cref="AssemblyContainerConfig"/>, read from the built
/// assembly) into the MSBuild settings, with the precedence the source generator's <c>ContainerSettings</c>
/// class uses, so the app's typed API and the published image agree:
/// <list type="bullet">
/// <item>user and working directory: the MSBuild property wins over the attribute;</item>
/// <item>ports: the union, MSBuild's items first, a port and protocol once;</item>
/// <item>environment variables and labels: the attributes, overridden by an MSBuild item of the same name;</item>
/// <item>the health check: written as the <see cref="HealthCheckLabel"/> label (JSON), which the runtime host's
/// readiness wait reads, unless an item sets that label.</item>
/// </list>
/// </summary>
public static class CodeDeclaredSettings
{
    /// <summary>
    /// The label that carries a <c>ContainerHealthCheck</c> declared in code, as canonical JSON:
    /// <c>{"intervalSeconds":10,"path":"/healthz","port":8080,"retries":3,"timeoutSeconds":5}</c>.
    /// </summary>
    public const string HealthCheckLabel = Shared.ContainerLabelNames.HealthCheck;

    /// <summary>Returns <paramref name="settings"/> with the code-declared settings of <paramref name="code"/> merged in.</summary>
    public static ContainerSettings Merge(ContainerSettings settings, AssemblyContainerConfig? code)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (code is null)
        {
            return settings;
        }

        var ports = settings.ContainerPorts.ToList();
        foreach (var port in code.Ports)
        {
            var number = port.Number.ToString(CultureInfo.InvariantCulture);
            if (!ports.Any(p => p.Number == number && string.Equals(string.IsNullOrEmpty(p.Type) ? "tcp" : p.Type, port.Protocol, StringComparison.Ordinal)))
            {
                ports.Add(new ContainerPortItem(number, port.Protocol));
            }
        }

        var itemEnvironment = settings.ContainerEnvironmentVariables.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var environment = code.Environment
            .Where(pair => !itemEnvironment.Contains(pair.Key))
            .Select(pair => new ContainerEnvironmentVariableItem(pair.Key, pair.Value))
            .Concat(settings.ContainerEnvironmentVariables)
            .ToList();

        var codeLabels = new Dictionary<string, string>(code.Labels, StringComparer.Ordinal);
        if (code.HealthCheck is { } check)
        {
            codeLabels[HealthCheckLabel] = HealthCheckJson(check);
        }

        var itemLabels = settings.ContainerLabels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var labels = codeLabels
            .Where(pair => !itemLabels.Contains(pair.Key))
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => new ContainerLabelItem(pair.Key, pair.Value))
            .Concat(settings.ContainerLabels)
            .ToList();

        return settings with
        {
            ContainerPorts = ports,
            ContainerEnvironmentVariables = environment,
            ContainerLabels = labels,
            ContainerUser = string.IsNullOrEmpty(settings.ContainerUser) ? code.User : settings.ContainerUser,
            ContainerWorkingDirectory = string.IsNullOrEmpty(settings.ContainerWorkingDirectory) ? code.WorkingDirectory : settings.ContainerWorkingDirectory,
        };
    }

    /// <summary>The canonical JSON of a health check (keys in ordinal order), as stored in <see cref="HealthCheckLabel"/>.</summary>
    public static string HealthCheckJson(AssemblyContainerConfig.HealthCheckEndpoint check)
    {
        ArgumentNullException.ThrowIfNull(check);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("intervalSeconds", check.IntervalSeconds);
            writer.WriteString("path", check.Path);
            writer.WriteNumber("port", check.Port);
            writer.WriteNumber("retries", check.Retries);
            writer.WriteNumber("timeoutSeconds", check.TimeoutSeconds);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
