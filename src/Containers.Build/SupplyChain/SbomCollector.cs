using System.Text.Json;
using Containers.Oci;
using Containers.Oci.Digests;
using Containers.Oci.Platforms;
using NuGet.Packaging;

namespace Containers.Build.SupplyChain;

/// <summary>
/// Collects what an image consists of: the app, its project references and NuGet packages (the runtime closure
/// of the publish deps.json, with license, authors and SHA-512 read by NuGet.Packaging from the package folders),
/// the .NET shared frameworks and the base image.
/// </summary>
public static class SbomCollector
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Collects the SBOM. Same inputs, same document.</summary>
    /// <exception cref="OciException">A file is missing or malformed; the message names it and the fix.</exception>
    public static SbomDocument Collect(SbomRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var deps = ParseFile(request.DepsFilePath, ".deps.json");
        var root = deps.RootElement;
        var targetName = root.TryGetProperty("runtimeTarget", out var runtimeTarget) && runtimeTarget.TryGetProperty("name", out var nameElement)
            ? nameElement.GetString()
            : null;
        if (!root.TryGetProperty("targets", out var targets) || targets.ValueKind != JsonValueKind.Object)
        {
            throw new OciException($"'{request.DepsFilePath}' has no 'targets'; re-run the publish to regenerate it.");
        }

        var target = targetName is not null && targets.TryGetProperty(targetName, out var named) ? named : targets.EnumerateObject().FirstOrDefault().Value;
        var libraries = root.TryGetProperty("libraries", out var libs) && libs.ValueKind == JsonValueKind.Object ? libs : default;
        var packageFolders = PackageFolders(request);

        var imageKey = "Image";
        var image = new SbomComponent(imageKey, SbomComponentKind.Image, request.ImageName, request.ImageDigest?.ToString())
        {
            Purl = request.ImageDigest is { } imageDigest ? OciPurl(request.ImageName, imageDigest, request.RuntimeIdentifier) : null,
            Digest = request.ImageDigest,
        };
        var components = new List<SbomComponent>();
        var relationships = new List<SbomRelationship>();
        var keysByLibrary = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? applicationKey = null;

        if (target.ValueKind == JsonValueKind.Object)
        {
            foreach (var library in target.EnumerateObject())
            {
                var (id, version) = SplitLibraryName(library.Name);
                var info = libraries.ValueKind == JsonValueKind.Object && libraries.TryGetProperty(library.Name, out var l) ? l : default;
                var type = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("type", out var t) ? t.GetString() : "package";
                SbomComponent component;
                if (type == "project" && string.Equals(id, request.ApplicationName, StringComparison.OrdinalIgnoreCase))
                {
                    component = new SbomComponent("Application", SbomComponentKind.Application, id, version);
                    applicationKey = component.Key;
                }
                else if (type == "project")
                {
                    component = new SbomComponent(Key("Project", id, version), SbomComponentKind.Project, id, version);
                }
                else if (type is "package" or "runtimepack")
                {
                    component = ReadPackage(id, version, info, packageFolders);
                }
                else
                {
                    // Reference assemblies and other library types carry nothing into the image.
                    continue;
                }

                keysByLibrary[id] = component.Key;
                components.Add(component);
            }

            foreach (var library in target.EnumerateObject())
            {
                var (id, _) = SplitLibraryName(library.Name);
                if (!keysByLibrary.TryGetValue(id, out var from) || !library.Value.TryGetProperty("dependencies", out var dependencies) || dependencies.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var dependency in dependencies.EnumerateObject())
                {
                    if (keysByLibrary.TryGetValue(dependency.Name, out var to))
                    {
                        relationships.Add(new SbomRelationship(from, "DEPENDS_ON", to));
                    }
                }
            }
        }

        if (applicationKey is null)
        {
            var application = new SbomComponent("Application", SbomComponentKind.Application, request.ApplicationName, null);
            applicationKey = application.Key;
            components.Add(application);
        }

        foreach (var runtime in ReadRuntimes(request))
        {
            components.Add(runtime);
            relationships.Add(new SbomRelationship(applicationKey, "DEPENDS_ON", runtime.Key));
        }

        foreach (var package in request.OsPackages)
        {
            components.Add(new SbomComponent(Key("OsPackage", package.Name, package.Version), SbomComponentKind.OsPackage, package.Name, package.Version)
            {
                Purl = package.PackageUrl,
                Digest = Digest.TryParse("sha256:" + package.Sha256, out var debDigest) ? debDigest : null,
                SourcePackage = package.SourcePackage,
            });
        }

        foreach (var component in components)
        {
            relationships.Add(new SbomRelationship(imageKey, "CONTAINS", component.Key));
        }

        if (request.BaseImageName is not null)
        {
            var baseImage = new SbomComponent("BaseImage", SbomComponentKind.BaseImage, request.BaseImageName, request.BaseImageDigest?.ToString())
            {
                Purl = request.BaseImageDigest is { } baseDigest ? OciPurl(StripTagAndDigest(request.BaseImageName), baseDigest, request.RuntimeIdentifier) : null,
                Digest = request.BaseImageDigest,
            };
            components.Add(baseImage);
            relationships.Add(new SbomRelationship(imageKey, "DESCENDANT_OF", baseImage.Key));
        }

        return new SbomDocument(
            request.ImageName,
            request.Created,
            request.ToolVersion,
            image,
            components.OrderBy(c => c.Kind).ThenBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => c.Version, StringComparer.Ordinal).ToArray(),
            relationships.Distinct().OrderBy(r => r.From, StringComparer.Ordinal).ThenBy(r => r.Type, StringComparer.Ordinal).ThenBy(r => r.To, StringComparer.Ordinal).ToArray());
    }

    private static SbomComponent ReadPackage(string id, string version, JsonElement info, IReadOnlyList<string> packageFolders)
    {
        string? relativePath = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("path", out var p) ? p.GetString() : null;
        relativePath ??= Path.Combine(id.ToLowerInvariant(), version.ToLowerInvariant());
        var directory = packageFolders.Select(f => Path.Combine(f, relativePath)).FirstOrDefault(Directory.Exists);

        string? sha512 = null;
        if (info.ValueKind == JsonValueKind.Object && info.TryGetProperty("sha512", out var s) && s.GetString() is { Length: > 0 } hash)
        {
            sha512 = Base64HashToHex(hash);
        }

        string? license = null, licenseUrl = null, authors = null;
        if (directory is not null)
        {
            if (sha512 is null && Directory.GetFiles(directory, "*.nupkg.sha512").FirstOrDefault() is { } hashFile)
            {
                sha512 = Base64HashToHex(File.ReadAllText(hashFile).Trim());
            }

            if (Directory.GetFiles(directory, "*.nuspec").Length > 0)
            {
                using var reader = new PackageFolderReader(directory);
                var nuspec = reader.NuspecReader;
                var metadata = nuspec.GetLicenseMetadata();
                if (metadata?.Type == LicenseType.Expression && metadata.LicenseExpression is not null)
                {
                    license = metadata.License;
                }

                licenseUrl = string.IsNullOrWhiteSpace(nuspec.GetLicenseUrl()) ? null : nuspec.GetLicenseUrl().Trim();
                authors = string.IsNullOrWhiteSpace(nuspec.GetAuthors()) ? null : nuspec.GetAuthors().Trim();
            }
        }

        return new SbomComponent(Key("Package", id, version), SbomComponentKind.Package, id, version)
        {
            Purl = $"pkg:nuget/{Uri.EscapeDataString(id)}@{Uri.EscapeDataString(version)}",
            LicenseExpression = license,
            LicenseUrl = licenseUrl,
            Authors = authors,
            Sha512 = sha512,
        };
    }

    private static IEnumerable<SbomComponent> ReadRuntimes(SbomRequest request)
    {
        if (request.RuntimeConfigFilePath is null || !File.Exists(request.RuntimeConfigFilePath))
        {
            yield break;
        }

        using var config = ParseFile(request.RuntimeConfigFilePath, ".runtimeconfig.json");
        if (!config.RootElement.TryGetProperty("runtimeOptions", out var options))
        {
            yield break;
        }

        var frameworks = new List<JsonElement>();
        if (options.TryGetProperty("framework", out var single))
        {
            frameworks.Add(single);
        }

        if (options.TryGetProperty("frameworks", out var many) && many.ValueKind == JsonValueKind.Array)
        {
            frameworks.AddRange(many.EnumerateArray());
        }

        foreach (var framework in frameworks)
        {
            var name = framework.TryGetProperty("name", out var n) ? n.GetString() : null;
            if (name is null)
            {
                continue;
            }

            // The base image's DOTNET_VERSION/ASPNET_VERSION is what actually runs; runtimeconfig only names the minimum.
            var environmentName = name switch
            {
                "Microsoft.NETCore.App" => "DOTNET_VERSION",
                "Microsoft.AspNetCore.App" => "ASPNET_VERSION",
                _ => null,
            };
            var version = environmentName is null ? null : EnvironmentValue(request.BaseImageEnvironment, environmentName);
            version ??= framework.TryGetProperty("version", out var v) ? v.GetString() : null;
            yield return new SbomComponent(Key("Runtime", name, version), SbomComponentKind.Runtime, name, version);
        }
    }

    private static string? EnvironmentValue(IReadOnlyList<string> environment, string name) =>
        environment.Where(e => e.StartsWith(name + "=", StringComparison.Ordinal)).Select(e => e[(name.Length + 1)..]).LastOrDefault(v => v.Length > 0);

    private static List<string> PackageFolders(SbomRequest request)
    {
        var folders = new List<string>(request.PackageFolders.Where(f => !string.IsNullOrWhiteSpace(f)));
        if (request.ProjectAssetsFilePath is not null && File.Exists(request.ProjectAssetsFilePath))
        {
            using var assets = ParseFile(request.ProjectAssetsFilePath, "project.assets.json");
            if (assets.RootElement.TryGetProperty("packageFolders", out var listed) && listed.ValueKind == JsonValueKind.Object)
            {
                folders.AddRange(listed.EnumerateObject().Select(f => f.Name));
            }
        }

        return folders.Select(f => f.TrimEnd('/', '\\')).Distinct(StringComparer.Ordinal).ToList();
    }

    private static JsonDocument ParseFile(string path, string what)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, JsonOptions);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OciException($"The {what} file '{path}' cannot be read for the SBOM ({ex.Message}); re-run the publish, or set ContainerGenerateSbom=false.", ex);
        }
        catch (JsonException ex)
        {
            throw new OciException($"'{path}' is not a valid {what} file ({ex.Message}); re-run the publish to regenerate it.", ex);
        }
    }

    private static (string Id, string Version) SplitLibraryName(string name)
    {
        var slash = name.LastIndexOf('/');
        return slash < 0 ? (name, string.Empty) : (name[..slash], name[(slash + 1)..]);
    }

    private static string Key(string kind, string name, string? version) => kind + "-" + name + (string.IsNullOrEmpty(version) ? string.Empty : "-" + version);

    private static string? Base64HashToHex(string hash)
    {
        var base64 = hash.StartsWith("sha512-", StringComparison.OrdinalIgnoreCase) ? hash[7..] : hash;
        try
        {
            var bytes = Convert.FromBase64String(base64);
            return bytes.Length == 64 ? Convert.ToHexString(bytes).ToLowerInvariant() : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string StripTagAndDigest(string name)
    {
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            name = name[..at];
        }

        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }

    // purl-spec oci type: pkg:oci/<last path segment>@<digest>?arch=..&repository_url=<registry/repository>.
    private static string OciPurl(string repositoryName, Digest digest, string runtimeIdentifier)
    {
        var lastSegment = repositoryName[(repositoryName.LastIndexOf('/') + 1)..].ToLowerInvariant();
        var arch = RuntimeIdentifierPlatforms.ToPlatform(runtimeIdentifier).Architecture;
        return $"pkg:oci/{Uri.EscapeDataString(lastSegment)}@{Uri.EscapeDataString(digest.ToString())}?arch={Uri.EscapeDataString(arch)}&repository_url={Uri.EscapeDataString(repositoryName.ToLowerInvariant())}";
    }
}
