using System.Text.Json;
using Containers.Oci.Digests;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>An artifact the provenance is about: an image manifest or index, by digest.</summary>
/// <param name="Name">The image's name, e.g. <c>127.0.0.1:5000/myapp</c>, or a platform's (<c>…/myapp (linux-x64)</c>).</param>
/// <param name="Digest">The manifest's or index's digest.</param>
public sealed record ProvenanceSubject(string Name, Digest Digest);

/// <summary>A base image a platform's image was built on.</summary>
/// <param name="RuntimeIdentifier">The platform's RID.</param>
/// <param name="Reference">The base as named, e.g. <c>mcr.microsoft.com/dotnet/runtime:10.0</c>.</param>
/// <param name="Repository">Where it was read from, <c>registry/repository</c> (or the layout path).</param>
/// <param name="Digest">The manifest used.</param>
public sealed record ProvenanceBaseImage(string RuntimeIdentifier, string Reference, string Repository, Digest Digest);

/// <summary>What an SLSA provenance states about a publish.</summary>
public sealed record ProvenanceRequest
{
    /// <summary>The image manifests (one per platform) and, for several, the index.</summary>
    public required IReadOnlyList<ProvenanceSubject> Subjects { get; init; }

    /// <summary>The project file's name, e.g. <c>MyApp.csproj</c>.</summary>
    public required string Project { get; init; }

    /// <summary>The build configuration, e.g. <c>Release</c>.</summary>
    public string? Configuration { get; init; }

    /// <summary>The runtime identifiers built.</summary>
    public required IReadOnlyList<string> RuntimeIdentifiers { get; init; }

    /// <summary>
    /// The container settings that shaped the image's config (repository, tags, base, user, ports, entrypoint, the
    /// names of environment variables — never their values, which may be secrets).
    /// </summary>
    public IReadOnlyDictionary<string, string> ContainerProperties { get; init; } = new Dictionary<string, string>();

    /// <summary>The base image of each platform.</summary>
    public IReadOnlyList<ProvenanceBaseImage> BaseImages { get; init; } = [];

    /// <summary>The source commit, when the project is in git.</summary>
    public SourceRevision? Source { get; init; }

    /// <summary>The builder (CI or local machine).</summary>
    public required BuilderIdentity Builder { get; init; }

    /// <summary>The Containers.Sdk version, named as the builder's version.</summary>
    public string ToolVersion { get; init; } = typeof(ProvenanceRequest).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}

/// <summary>
/// An in-toto Statement v1 with an SLSA Provenance v1 predicate, written deterministically: fixed property order,
/// sorted parameters, no clock time. The same inputs (and the same CI run) give the same bytes, so an unchanged
/// publish signs the same statement.
/// </summary>
public static class ProvenanceStatement
{
    /// <summary>The in-toto statement type.</summary>
    public const string StatementType = "https://in-toto.io/Statement/v1";

    /// <summary>The SLSA provenance v1 predicate type.</summary>
    public const string PredicateType = "https://slsa.dev/provenance/v1";

    /// <summary>This product's build type: <c>dotnet publish -t:PublishContainer</c> (docs/signing.md describes its parameters).</summary>
    public const string BuildType = "urn:containers-sdk:buildtype:publish-container:v1";

    /// <summary>Writes the statement.</summary>
    public static byte[] Create(ProvenanceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_type", StatementType);
            json.WriteStartArray("subject");
            foreach (var subject in request.Subjects.OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Digest.ToString(), StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("name", subject.Name);
                WriteDigest(json, subject.Digest);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("predicateType", PredicateType);
            json.WriteStartObject("predicate");

            json.WriteStartObject("buildDefinition");
            json.WriteString("buildType", BuildType);
            json.WriteStartObject("externalParameters");
            json.WriteString("project", request.Project);
            if (request.Configuration is { } configuration)
            {
                json.WriteString("configuration", configuration);
            }

            json.WriteStartArray("runtimeIdentifiers");
            foreach (var rid in request.RuntimeIdentifiers)
            {
                json.WriteStringValue(rid);
            }

            json.WriteEndArray();
            json.WriteStartObject("container");
            foreach (var (name, value) in request.ContainerProperties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteStartArray("resolvedDependencies");
            foreach (var baseImage in request.BaseImages.OrderBy(b => b.RuntimeIdentifier, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("uri", $"oci://{baseImage.Repository}@{baseImage.Digest}");
                WriteDigest(json, baseImage.Digest);
                json.WriteString("name", baseImage.Reference);
                json.WriteStartObject("annotations");
                json.WriteString("role", "base-image");
                json.WriteString("runtimeIdentifier", baseImage.RuntimeIdentifier);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            if (request.Source is { } source)
            {
                json.WriteStartObject();
                json.WriteString("uri", source.Uri);
                json.WriteStartObject("digest");
                json.WriteString("gitCommit", source.Commit);
                json.WriteEndObject();
                json.WriteStartObject("annotations");
                json.WriteString("role", "source");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartObject("runDetails");
            json.WriteStartObject("builder");
            json.WriteString("id", request.Builder.Id);
            json.WriteStartObject("version");
            json.WriteString("Containers.Sdk", request.ToolVersion);
            json.WriteEndObject();
            json.WriteEndObject();
            if (request.Builder.InvocationId is { } invocation)
            {
                json.WriteStartObject("metadata");
                json.WriteString("invocationId", invocation);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads the subjects' digests and the predicate type of a statement, to check it names an image.</summary>
    /// <exception cref="SigningException">It is not an in-toto statement v1.</exception>
    public static (string PredicateType, IReadOnlyList<Digest> Subjects) Read(ReadOnlySpan<byte> statement, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(statement.ToArray());
            var root = document.RootElement;
            if (root.GetProperty("_type").GetString() != StatementType)
            {
                throw new SigningException(SigningFailure.VerificationFailed, $"The {what} is not an in-toto statement v1 (_type is '{root.GetProperty("_type").GetString()}').");
            }

            var subjects = root.GetProperty("subject").EnumerateArray()
                .Where(s => s.GetProperty("digest").TryGetProperty("sha256", out _))
                .Select(s => Digest.Parse("sha256:" + s.GetProperty("digest").GetProperty("sha256").GetString()))
                .ToArray();
            return (root.GetProperty("predicateType").GetString() ?? "", subjects);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new SigningException(SigningFailure.VerificationFailed, $"The {what} is not an in-toto statement: {ex.Message}.");
        }
    }

    private static void WriteDigest(Utf8JsonWriter json, Digest digest)
    {
        json.WriteStartObject("digest");
        json.WriteString(digest.Algorithm, digest.Hex);
        json.WriteEndObject();
    }
}
