using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using Containers.Oci;

namespace Containers.Build.Configuration;

/// <summary>
/// The container settings an app declares in code (<c>[assembly: ContainerPort(8080)]</c> etc.), as
/// resolved by the Containers.Sdk source generator and embedded in the built assembly as
/// <c>[assembly: AssemblyMetadata("Containers.Sdk.Config", json)]</c>. Read without loading the assembly.
/// </summary>
public sealed class AssemblyContainerConfig
{
    /// <summary>The <c>AssemblyMetadata</c> key the generator writes.</summary>
    public const string MetadataKey = "Containers.Sdk.Config";

    /// <summary>The exposed ports, sorted by number then protocol.</summary>
    public IReadOnlyList<ExposedPort> Ports { get; private init; } = [];

    /// <summary>The environment variables, by name.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; private init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The labels, by key.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; private init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The user, or null when the code does not set one.</summary>
    public string? User { get; private init; }

    /// <summary>The working directory, or null when the code does not set one.</summary>
    public string? WorkingDirectory { get; private init; }

    /// <summary>The health check endpoint, or null when the code does not declare one.</summary>
    public HealthCheckEndpoint? HealthCheck { get; private init; }

    /// <summary>Reads the settings from the assembly at <paramref name="assemblyPath"/>; null when it declares none (no generator ran).</summary>
    /// <exception cref="OciException">The file is not a .NET assembly, or the embedded settings are not valid.</exception>
    public static AssemblyContainerConfig? TryRead(string assemblyPath)
    {
        ArgumentNullException.ThrowIfNull(assemblyPath);
        try
        {
            using var stream = File.OpenRead(assemblyPath);
            using var peReader = new PEReader(stream);
            if (!peReader.HasMetadata)
            {
                throw new OciException($"'{assemblyPath}' is not a .NET assembly (no metadata); expected the app's built assembly to read its container settings from.");
            }

            var json = FindMetadata(peReader.GetMetadataReader());
            return json is null ? null : Parse(json, assemblyPath);
        }
        catch (BadImageFormatException exception)
        {
            throw new OciException($"'{assemblyPath}' is not a .NET assembly ({exception.Message}); expected the app's built assembly to read its container settings from.", exception);
        }
    }

    /// <summary>Parses the canonical JSON the generator embeds; <paramref name="source"/> names its origin in error messages.</summary>
    /// <exception cref="OciException">The JSON is not valid.</exception>
    public static AssemblyContainerConfig Parse(string json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return new AssemblyContainerConfig
            {
                Ports = root.TryGetProperty("ports", out var ports)
                    ? ports.EnumerateArray().Select(port => new ExposedPort(port.GetProperty("port").GetInt32(), port.GetProperty("protocol").GetString()!)).ToList()
                    : [],
                Environment = ReadMap(root, "environment"),
                Labels = ReadMap(root, "labels"),
                User = root.TryGetProperty("user", out var user) ? user.GetString() : null,
                WorkingDirectory = root.TryGetProperty("workingDirectory", out var workingDirectory) ? workingDirectory.GetString() : null,
                HealthCheck = root.TryGetProperty("healthCheck", out var check)
                    ? new HealthCheckEndpoint(
                        check.GetProperty("path").GetString()!,
                        check.GetProperty("port").GetInt32(),
                        check.GetProperty("intervalSeconds").GetInt32(),
                        check.GetProperty("timeoutSeconds").GetInt32(),
                        check.GetProperty("retries").GetInt32())
                    : null,
            };
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new OciException($"The container settings embedded in '{source}' ({MetadataKey}) are not valid: {exception.Message}. Rebuild the app with the same Containers.Sdk version that publishes it.", exception);
        }
    }

    private static Dictionary<string, string> ReadMap(JsonElement root, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty(name, out var element))
        {
            foreach (var property in element.EnumerateObject())
            {
                map[property.Name] = property.Value.GetString()!;
            }
        }

        return map;
    }

    private static string? FindMetadata(MetadataReader metadata)
    {
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (!IsAssemblyMetadataAttribute(metadata, attribute.Constructor))
            {
                continue;
            }

            // Blob: prolog 0x0001, then the two constructor strings (key, value).
            var blob = metadata.GetBlobReader(attribute.Value);
            if (blob.ReadUInt16() == 1 && blob.ReadSerializedString() == MetadataKey)
            {
                return blob.ReadSerializedString();
            }
        }

        return null;
    }

    private static bool IsAssemblyMetadataAttribute(MetadataReader metadata, EntityHandle constructor)
    {
        EntityHandle type;
        if (constructor.Kind == HandleKind.MemberReference)
        {
            type = metadata.GetMemberReference((MemberReferenceHandle)constructor).Parent;
        }
        else if (constructor.Kind == HandleKind.MethodDefinition)
        {
            type = metadata.GetMethodDefinition((MethodDefinitionHandle)constructor).GetDeclaringType();
        }
        else
        {
            return false;
        }

        return type.Kind switch
        {
            HandleKind.TypeReference => IsName(metadata, metadata.GetTypeReference((TypeReferenceHandle)type).Namespace, metadata.GetTypeReference((TypeReferenceHandle)type).Name),
            HandleKind.TypeDefinition => IsName(metadata, metadata.GetTypeDefinition((TypeDefinitionHandle)type).Namespace, metadata.GetTypeDefinition((TypeDefinitionHandle)type).Name),
            _ => false,
        };
    }

    private static bool IsName(MetadataReader metadata, StringHandle @namespace, StringHandle name) =>
        metadata.StringComparer.Equals(@namespace, "System.Reflection") && metadata.StringComparer.Equals(name, "AssemblyMetadataAttribute");

    /// <summary>An exposed port.</summary>
    /// <param name="Number">The port number.</param>
    /// <param name="Protocol"><c>tcp</c> or <c>udp</c>.</param>
    public sealed record ExposedPort(int Number, string Protocol);

    /// <summary>The HTTP endpoint that reports the app healthy.</summary>
    /// <param name="Path">The request path.</param>
    /// <param name="Port">The port; 0 means the first exposed port.</param>
    /// <param name="IntervalSeconds">Seconds between checks.</param>
    /// <param name="TimeoutSeconds">Seconds one check may take.</param>
    /// <param name="Retries">Consecutive failures before the container is unhealthy.</param>
    public sealed record HealthCheckEndpoint(string Path, int Port, int IntervalSeconds, int TimeoutSeconds, int Retries);
}
