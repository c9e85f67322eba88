namespace Containers.Sdk.Analyzers.Generators.Model;

/// <summary>An exposed port.</summary>
internal sealed record PortModel(int Port, string Protocol);

/// <summary>A name and value pair: an environment variable or a label.</summary>
internal sealed record NameValueModel(string Name, string Value);

/// <summary>The health check endpoint.</summary>
internal sealed record HealthCheckModel(string Path, int Port, int IntervalSeconds, int TimeoutSeconds, int Retries);

/// <summary>
/// Container settings from one source (the assembly attributes, or the MSBuild properties), or the
/// merge of both. Holds only strings, numbers and equatable arrays, so the generator pipeline caches.
/// No registry, repository or tags: they say where an image goes, not what is in it, and compiled into the app
/// they would make every retag or push elsewhere a new app layer and a new image digest.
/// </summary>
internal sealed record ContainerConfigModel(
    EquatableArray<PortModel> Ports,
    EquatableArray<NameValueModel> Environment,
    EquatableArray<NameValueModel> Labels,
    string? User,
    string? WorkingDirectory,
    HealthCheckModel? HealthCheck)
{
    /// <summary>No settings.</summary>
    public static ContainerConfigModel Empty { get; } = new(default, default, default, null, null, null);
}
