using System.Text.Json;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// SBOMs and annotations of `dotnet publish -t:PublishContainer`, checked against what NuGet restored
/// (project.assets.json) and read back from the real registry over plain HTTP and with skopeo.
/// </summary>
public sealed partial class PublishContainerTests
{
    private const string SpdxMediaType = "application/spdx+json";

    /// <summary>A web app with NuGet packages (one with a transitive closure) and a project reference.</summary>
    private static TestProject CreateWebAppWithPackages(string name, string properties)
    {
        var project = TestProject.Create(
            name,
            properties,
            """
                <PackageReference Include="Serilog.AspNetCore" Version="10.0.0" />
                <PackageReference Include="Newtonsoft.Json" Version="13.0.3" />
                <ProjectReference Include="../Greetings/Greetings.csproj" />
            """,
            sdk: "Microsoft.NET.Sdk.Web",
            program: """
                using Serilog;
                var app = WebApplication.Create(args);
                app.MapGet("/", () => Newtonsoft.Json.JsonConvert.SerializeObject(Greetings.Greeter.Hello));
                Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateLogger();
                app.Run();
                """);
        var library = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(project.Directory)!, "Greetings")).FullName;
        File.WriteAllText(Path.Combine(library, "Greetings.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Version>2.1.0</Version>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(library, "Greeter.cs"), "namespace Greetings; public static class Greeter { public const string Hello = \"hello\"; }");
        return project;
    }

    [TestMethod]
    public async Task The_SBOM_lists_exactly_the_restored_runtime_packages_and_is_attached_as_a_referrer()
    {
        var repository = "sbom-web";
        var project = CreateWebAppWithPackages(
            "SbomWeb",
            $"<ContainerRegistry>{Registry.Host}</ContainerRegistry><ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerRepository>{repository}</ContainerRepository><Version>3.4.5</Version>");

        var publish = await PublishCheckedAsync(project);

        var manifestDigest = await Registry.DigestAsync(repository + ":latest", TestContext.CancellationToken);
        Assert.Contains("attached as referrer", publish.StandardOutput);

        // Registry 2.8 has no referrers API: the referrer is listed in the index tagged sha256-<hex>.
        var fallbackTag = manifestDigest.Replace(':', '-');
        var referrers = JsonDocument.Parse((await Registry.InspectAsync($"{repository}:{fallbackTag}", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
        var referrer = referrers.GetProperty("manifests").EnumerateArray().Single();
        Assert.AreEqual(SpdxMediaType, referrer.GetProperty("artifactType").GetString());
        using var http = new HttpClient { BaseAddress = new Uri($"http://{Registry.Host}/v2/{repository}/") };
        using var manifestRequest = new HttpRequestMessage(HttpMethod.Get, "manifests/" + referrer.GetProperty("digest").GetString());
        manifestRequest.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var manifestResponse = await http.SendAsync(manifestRequest, TestContext.CancellationToken);
        var artifact = JsonDocument.Parse(await manifestResponse.Content.ReadAsStringAsync(TestContext.CancellationToken)).RootElement;
        Assert.AreEqual(manifestDigest, artifact.GetProperty("subject").GetProperty("digest").GetString());
        Assert.AreEqual(SpdxMediaType, artifact.GetProperty("artifactType").GetString());
        var sbomBytes = await http.GetByteArrayAsync("blobs/" + artifact.GetProperty("layers")[0].GetProperty("digest").GetString(), TestContext.CancellationToken);
        var sbom = JsonDocument.Parse(sbomBytes).RootElement;

        // The same bytes are in obj/ for the build to pick up.
        var localCopy = Directory.GetFiles(Path.Combine(project.Directory, "obj"), "*.spdx.json", SearchOption.AllDirectories).Single(f => !f.Contains("/.cache/", StringComparison.Ordinal));
        CollectionAssert.AreEqual(sbomBytes, await File.ReadAllBytesAsync(localCopy, TestContext.CancellationToken));

        Assert.AreEqual("SPDX-2.3", sbom.GetProperty("spdxVersion").GetString());
        var packages = sbom.GetProperty("packages").EnumerateArray().ToArray();
        string? Purl(JsonElement package) => package.TryGetProperty("externalRefs", out var refs)
            ? refs.EnumerateArray().Where(r => r.GetProperty("referenceType").GetString() == "purl").Select(r => r.GetProperty("referenceLocator").GetString()).SingleOrDefault()
            : null;
        var nugetPurls = packages.Select(Purl).Where(p => p is not null && p.StartsWith("pkg:nuget/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

        var expected = RuntimePackagesFromAssets(Path.Combine(project.Directory, "obj", "project.assets.json"));
        var expectedPurls = expected.Select(p => $"pkg:nuget/{p.Id}@{p.Version}").Order(StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEqual(
            expectedPurls,
            nugetPurls,
            $"exactly the restored runtime closure; missing: {string.Join(", ", expectedPurls.Except(nugetPurls))}; extra: {string.Join(", ", nugetPurls.Except(expectedPurls))}");
        Assert.IsGreaterThan(5, nugetPurls.Length, "Serilog.AspNetCore brings a transitive closure");

        var newtonsoft = packages.Single(p => Purl(p) == "pkg:nuget/Newtonsoft.Json@13.0.3");
        Assert.AreEqual("MIT", newtonsoft.GetProperty("licenseDeclared").GetString());
        StringAssert.Contains(newtonsoft.GetProperty("originator").GetString(), "James Newton-King");
        var sha512 = newtonsoft.GetProperty("checksums").EnumerateArray().Single(c => c.GetProperty("algorithm").GetString() == "SHA512").GetProperty("checksumValue").GetString();
        Assert.AreEqual(expected.Single(p => p.Id == "Newtonsoft.Json").Sha512Hex, sha512);

        var names = packages.Select(p => p.GetProperty("name").GetString()).ToArray();
        Assert.Contains("Greetings", names, "the project reference");
        Assert.Contains("SbomWeb", names, "the app");
        Assert.Contains("Microsoft.AspNetCore.App", names);
        Assert.Contains("Microsoft.NETCore.App", names);
        var baseImage = packages.Single(p => p.GetProperty("primaryPackagePurpose").GetString() == "CONTAINER" && p.GetProperty("name").GetString()!.Contains("dotnet/aspnet", StringComparison.Ordinal));
        var baseDigest = await Registry.DigestAsync("dotnet/aspnet:10.0", TestContext.CancellationToken);
        Assert.AreEqual(baseDigest, baseImage.GetProperty("versionInfo").GetString());
        var relationships = sbom.GetProperty("relationships").EnumerateArray().Select(r => r.GetProperty("relationshipType").GetString()).ToHashSet();
        CollectionAssert.IsSubsetOf(new[] { "DESCRIBES", "CONTAINS", "DEPENDS_ON", "DESCENDANT_OF" }, relationships.ToArray());

        // Manifest annotations: base, created, version; the index-free single manifest carries them all.
        var manifest = JsonDocument.Parse((await Registry.InspectAsync(repository + ":latest", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
        var annotations = manifest.GetProperty("annotations");
        Assert.AreEqual("3.4.5", annotations.GetProperty("org.opencontainers.image.version").GetString());
        Assert.AreEqual(baseDigest, annotations.GetProperty("org.opencontainers.image.base.digest").GetString());

        // Re-publishing the unchanged app gives the same image and the same SBOM: nothing new to attach.
        var again = await PublishCheckedAsync(project);
        Assert.Contains(manifestDigest, again.StandardOutput);
        var referrersAgain = JsonDocument.Parse((await Registry.InspectAsync($"{repository}:{fallbackTag}", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
        Assert.AreEqual(referrer.GetProperty("digest").GetString(), referrersAgain.GetProperty("manifests").EnumerateArray().Single().GetProperty("digest").GetString());
        Assert.Contains("SBOM (SPDX 2.3) for linux-x64", again.StandardOutput);
        Assert.Contains("unchanged.", again.StandardOutput);

        // A code change makes a new image, but the same dependencies make the same SBOM blob: only a new
        // referrer manifest points the old SBOM at the new image.
        File.AppendAllText(Path.Combine(project.Directory, "Program.cs"), "\n// one more line\n");
        await PublishCheckedAsync(project);
        var changedDigest = await Registry.DigestAsync(repository + ":latest", TestContext.CancellationToken);
        Assert.AreNotEqual(manifestDigest, changedDigest);
        var changedReferrer = JsonDocument.Parse((await Registry.InspectAsync($"{repository}:{changedDigest.Replace(':', '-')}", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement.GetProperty("manifests").EnumerateArray().Single();
        using var changedRequest = new HttpRequestMessage(HttpMethod.Get, "manifests/" + changedReferrer.GetProperty("digest").GetString());
        changedRequest.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var changedResponse = await http.SendAsync(changedRequest, TestContext.CancellationToken);
        var changedArtifact = JsonDocument.Parse(await changedResponse.Content.ReadAsStringAsync(TestContext.CancellationToken)).RootElement;
        Assert.AreEqual(changedDigest, changedArtifact.GetProperty("subject").GetProperty("digest").GetString());
        Assert.AreEqual(artifact.GetProperty("layers")[0].GetProperty("digest").GetString(), changedArtifact.GetProperty("layers")[0].GetProperty("digest").GetString(), "the same SBOM bytes");
    }

    [TestMethod]
    public async Task CycloneDX_SBOM_is_written_beside_a_tarball_and_ContainerAnnotation_items_reach_the_manifest()
    {
        var project = TestProject.Create(
            "SbomTarball",
            $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerSbomFormat>cyclonedx</ContainerSbomFormat><ContainerImageFormat>OCI</ContainerImageFormat>",
            """
                <PackageReference Include="Newtonsoft.Json" Version="13.0.3" />
                <ContainerAnnotation Include="com.example.team" Value="payments" />
                <ContainerAnnotation Include="org.opencontainers.image.version" Value="override" />
            """);

        // A git repository: the revision annotation and the image timestamp come from its last commit.
        string[] identity = ["-c", "user.name=Containers.Sdk tests", "-c", "user.email=tests@example.invalid"];
        await TestTools.RunCheckedAsync("git", ["init", "-q", project.Directory], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync("git", ["-C", project.Directory, "add", "."], cancellationToken: TestContext.CancellationToken);
        await TestTools.RunCheckedAsync("git", ["-C", project.Directory, .. identity, "commit", "-q", "-m", "initial"], environment: new Dictionary<string, string> { ["GIT_COMMITTER_DATE"] = "2024-05-06T07:08:09Z", ["GIT_AUTHOR_DATE"] = "2024-05-06T07:08:09Z" }, cancellationToken: TestContext.CancellationToken);
        var head = (await TestTools.RunCheckedAsync("git", ["-C", project.Directory, "rev-parse", "HEAD"], cancellationToken: TestContext.CancellationToken)).StandardOutput.Trim();

        await PublishCheckedAsync(project, "ContainerArchiveOutputPath=out/image.tar.gz");

        var sbomPath = Path.Combine(project.Directory, "out", "image.cdx.json");
        Assert.IsTrue(File.Exists(sbomPath), "the SBOM is written beside the tarball: " + string.Join(", ", Directory.GetFiles(Path.Combine(project.Directory, "out"))));
        var bom = JsonDocument.Parse(await File.ReadAllBytesAsync(sbomPath, TestContext.CancellationToken)).RootElement;
        Assert.AreEqual("CycloneDX", bom.GetProperty("bomFormat").GetString());
        Assert.AreEqual("1.6", bom.GetProperty("specVersion").GetString());
        Assert.IsTrue(bom.GetProperty("components").EnumerateArray().Any(c => c.TryGetProperty("purl", out var purl) && purl.GetString() == "pkg:nuget/Newtonsoft.Json@13.0.3"));

        var inspect = await TestTools.RunCheckedAsync("skopeo", ["inspect", "--raw", $"oci-archive:{Path.Combine(project.Directory, "out", "image.tar.gz")}"], cancellationToken: TestContext.CancellationToken);
        var annotations = JsonDocument.Parse(inspect.StandardOutput).RootElement.GetProperty("annotations");
        Assert.AreEqual("payments", annotations.GetProperty("com.example.team").GetString());
        Assert.AreEqual("override", annotations.GetProperty("org.opencontainers.image.version").GetString(), "an item wins over the generated annotation");
        Assert.AreEqual(head, annotations.GetProperty("org.opencontainers.image.revision").GetString(), "Source Link's SourceRevisionId, from git");
        Assert.AreEqual("2024-05-06T07:08:09Z", annotations.GetProperty("org.opencontainers.image.created").GetString(), "the last commit time");
        Assert.IsFalse(annotations.TryGetProperty("org.opencontainers.image.source", out _), "no source URL without PublishRepositoryUrl");
        Assert.AreEqual("2024-05-06T07:08:09Z", bom.GetProperty("metadata").GetProperty("timestamp").GetString());

        var off = await PublishCheckedAsync(project, "ContainerArchiveOutputPath=out2/image.tar.gz", "ContainerGenerateSbom=false");
        Assert.IsFalse(File.Exists(Path.Combine(project.Directory, "out2", "image.cdx.json")));
        Assert.DoesNotContain("SBOM", off.StandardOutput);

        var bad = await PublishAsync(project, "ContainerSbomFormat=swid");
        Assert.AreNotEqual(0, bad.ExitCode);
        Assert.Contains("CONTAINER8040", bad.StandardOutput);
        Assert.Contains("ContainerSbomFormat is 'swid'", bad.StandardOutput);
        Assert.DoesNotContain("   at ", bad.StandardOutput);
    }

    /// <summary>
    /// The packages NuGet restored for the app's runtime: every package library of the assets file's target
    /// (the RID-specific one when restored for a RID), minus packages the project references with
    /// PrivateAssets=all and packages that bring nothing to run (no runtime, native or resource assets and no
    /// dependencies: build-only packages such as Containers.Sdk itself).
    /// </summary>
    private static List<(string Id, string Version, string Sha512Hex)> RuntimePackagesFromAssets(string assetsPath)
    {
        var assets = JsonDocument.Parse(File.ReadAllText(assetsPath)).RootElement;
        var targets = assets.GetProperty("targets").EnumerateObject().ToArray();
        var target = targets.FirstOrDefault(t => t.Name.Contains('/', StringComparison.Ordinal)).Value;
        if (target.ValueKind == JsonValueKind.Undefined)
        {
            target = targets.Single().Value;
        }

        var buildOnly = assets.GetProperty("project").GetProperty("frameworks").EnumerateObject().Single().Value.GetProperty("dependencies").EnumerateObject()
            .Where(d => d.Value.TryGetProperty("suppressParent", out var suppress) && suppress.GetString() == "All")
            .Select(d => d.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var result = new List<(string, string, string)>();
        foreach (var library in target.EnumerateObject())
        {
            if (library.Value.GetProperty("type").GetString() != "package")
            {
                continue;
            }

            var id = library.Name[..library.Name.IndexOf('/', StringComparison.Ordinal)];
            var version = library.Name[(library.Name.IndexOf('/', StringComparison.Ordinal) + 1)..];
            if (buildOnly.Contains(id) || !CarriesRuntimeContent(library.Value))
            {
                continue;
            }

            var sha512 = Convert.ToHexString(Convert.FromBase64String(assets.GetProperty("libraries").GetProperty(library.Name).GetProperty("sha512").GetString()!)).ToLowerInvariant();
            result.Add((id, version, sha512));
        }

        return result;
    }

    private static bool CarriesRuntimeContent(JsonElement library) =>
        new[] { "runtime", "native", "resource", "runtimeTargets", "dependencies" }.Any(kind =>
            library.TryGetProperty(kind, out var assets) && assets.ValueKind == JsonValueKind.Object
            && assets.EnumerateObject().Any(asset => !asset.Name.EndsWith("/_._", StringComparison.Ordinal)));
}
