using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Containers.Build.SupplyChain;
using Containers.Oci;
using Containers.Oci.Digests;
using Containers.TestSupport;
using Json.Schema;

namespace Containers.Build.Tests.SupplyChain;

/// <summary>
/// The SBOM collector (deps.json closure, nuspec metadata read by NuGet.Packaging from a package folder) and the
/// SPDX 2.3 / CycloneDX 1.6 writers: content, determinism, and validation against the official CycloneDX schema.
/// </summary>
[TestClass]
public sealed partial class SbomTests
{
    private static readonly byte[] FancySha512 = SHA512.HashData("fancy package bytes"u8);
    private static readonly byte[] OldSha512 = SHA512.HashData("old package bytes"u8);
    private static readonly Digest ImageDigest = Digest.Compute("image manifest"u8);
    private static readonly Digest BaseDigest = Digest.Compute("base manifest"u8);
    private TemporaryDirectory _root = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Initialize()
    {
        _root = new TemporaryDirectory("cs-sbom-");
        var publish = Directory.CreateDirectory(Path.Combine(_root, "publish")).FullName;
        File.WriteAllText(Path.Combine(publish, "App.deps.json"), $$"""
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0/linux-x64" },
              "targets": {
                ".NETCoreApp,Version=v10.0/linux-x64": {
                  "App/1.0.0": { "dependencies": { "Fancy.Json": "1.2.3", "Lib": "2.1.0" }, "runtime": { "App.dll": {} } },
                  "Fancy.Json/1.2.3": { "dependencies": { "Old.Style": "4.0.0" }, "runtime": { "lib/net8.0/Fancy.Json.dll": {} } },
                  "Old.Style/4.0.0": { "runtime": { "lib/netstandard2.0/Old.Style.dll": {} } },
                  "Lib/2.1.0": { "runtime": { "Lib.dll": {} } },
                  "Ref.Only/1.0.0": { }
                }
              },
              "libraries": {
                "App/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
                "Fancy.Json/1.2.3": { "type": "package", "serviceable": true, "sha512": "sha512-{{Convert.ToBase64String(FancySha512)}}", "path": "fancy.json/1.2.3" },
                "Old.Style/4.0.0": { "type": "package", "serviceable": true, "sha512": "sha512-{{Convert.ToBase64String(OldSha512)}}", "path": "old.style/4.0.0" },
                "Lib/2.1.0": { "type": "project", "serviceable": false, "sha512": "" },
                "Ref.Only/1.0.0": { "type": "reference" }
              }
            }
            """);
        File.WriteAllText(Path.Combine(publish, "App.runtimeconfig.json"), """
            { "runtimeOptions": { "tfm": "net10.0", "frameworks": [ { "name": "Microsoft.NETCore.App", "version": "10.0.0" }, { "name": "Microsoft.AspNetCore.App", "version": "10.0.0" } ] } }
            """);
        WritePackage("fancy.json", "1.2.3", """<license type="expression">MIT OR Apache-2.0</license>""", "Jane Doe, ACME Corp");
        WritePackage("old.style", "4.0.0", "<licenseUrl>https://example.com/old-license</licenseUrl>", "Old Timer");
    }

    [TestCleanup]
    public void Cleanup() => _root.Dispose();

    private void WritePackage(string id, string version, string licenseXml, string authors)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root, "packages", id, version)).FullName;
        File.WriteAllText(Path.Combine(directory, id + ".nuspec"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata>
                <id>{id}</id>
                <version>{version}</version>
                <authors>{authors}</authors>
                {licenseXml}
                <description>test package</description>
              </metadata>
            </package>
            """);
    }

    private SbomRequest Request(DateTimeOffset? created = null) => new()
    {
        ApplicationName = "App",
        DepsFilePath = Path.Combine(_root, "publish", "App.deps.json"),
        RuntimeConfigFilePath = Path.Combine(_root, "publish", "App.runtimeconfig.json"),
        PackageFolders = [Path.Combine(_root, "packages")],
        ImageName = "127.0.0.1:5000/shop/api",
        ImageDigest = ImageDigest,
        RuntimeIdentifier = "linux-x64",
        BaseImageName = "127.0.0.1:5000/dotnet/aspnet:10.0",
        BaseImageDigest = BaseDigest,
        BaseImageEnvironment = ["PATH=/usr/bin", "DOTNET_VERSION=10.0.12", "ASPNET_VERSION=10.0.12"],
        Created = created ?? DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        ToolVersion = "1.0.0",
    };

    [TestMethod]
    public void Collects_packages_with_nuspec_metadata_project_references_runtimes_and_the_base_image()
    {
        var document = SbomCollector.Collect(Request());

        var packages = document.Components.Where(c => c.Kind == SbomComponentKind.Package).ToDictionary(c => c.Name);
        CollectionAssert.AreEquivalent(new[] { "Fancy.Json", "Old.Style" }, packages.Keys.ToArray(), "reference assemblies carry nothing into the image");
        var fancy = packages["Fancy.Json"];
        Assert.AreEqual("pkg:nuget/Fancy.Json@1.2.3", fancy.Purl);
        Assert.AreEqual("MIT OR Apache-2.0", fancy.LicenseExpression);
        Assert.AreEqual("Jane Doe, ACME Corp", fancy.Authors);
        Assert.AreEqual(Convert.ToHexString(FancySha512).ToLowerInvariant(), fancy.Sha512);
        var old = packages["Old.Style"];
        Assert.IsNull(old.LicenseExpression, "a license URL is not an SPDX expression");
        Assert.AreEqual("https://example.com/old-license", old.LicenseUrl);
        Assert.AreEqual("2.1.0", document.Components.Single(c => c.Kind == SbomComponentKind.Project).Version);
        CollectionAssert.AreEquivalent(
            new[] { "Microsoft.AspNetCore.App 10.0.12", "Microsoft.NETCore.App 10.0.12" },
            document.Components.Where(c => c.Kind == SbomComponentKind.Runtime).Select(c => c.Name + " " + c.Version).ToArray(),
            "the versions the base image actually runs, not the runtimeconfig minimum");
        var baseImage = document.Components.Single(c => c.Kind == SbomComponentKind.BaseImage);
        Assert.AreEqual(BaseDigest.ToString(), baseImage.Version);
        StringAssert.StartsWith(baseImage.Purl, "pkg:oci/aspnet@sha256%3A");
        StringAssert.Contains(baseImage.Purl, "repository_url=127.0.0.1%3A5000%2Fdotnet%2Faspnet");
        Assert.IsTrue(document.Relationships.Contains(new SbomRelationship("Package-Fancy.Json-1.2.3", "DEPENDS_ON", "Package-Old.Style-4.0.0")));
        Assert.IsTrue(document.Relationships.Contains(new SbomRelationship("Application", "DEPENDS_ON", "Project-Lib-2.1.0")));
        Assert.IsTrue(document.Relationships.Contains(new SbomRelationship("Image", "DESCENDANT_OF", "BaseImage")));
    }

    [TestMethod]
    [DataRow(SbomFormat.Spdx)]
    [DataRow(SbomFormat.CycloneDx)]
    public void Same_inputs_give_the_same_bytes_and_the_timestamp_is_the_build_timestamp(SbomFormat format)
    {
        var first = SbomWriter.Generate(Request(), format);
        var second = SbomWriter.Generate(Request(), format);
        var later = SbomWriter.Generate(Request(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000)), format);

        CollectionAssert.AreEqual(first, second);
        CollectionAssert.AreNotEqual(first, later);
        StringAssert.Contains(Encoding.UTF8.GetString(first), "2023-11-14T22:13:20Z");
        Assert.AreEqual(-1, Encoding.UTF8.GetString(first).IndexOf(_root, StringComparison.Ordinal), "no machine paths in the SBOM");
    }

    [TestMethod]
    public void SPDX_document_has_every_field_SPDX_2_3_requires_and_consistent_identifiers()
    {
        var spdx = JsonNode.Parse(SbomWriter.Generate(Request(), SbomFormat.Spdx))!.AsObject();

        Assert.AreEqual("SPDX-2.3", (string?)spdx["spdxVersion"]);
        Assert.AreEqual("CC0-1.0", (string?)spdx["dataLicense"]);
        Assert.AreEqual("SPDXRef-DOCUMENT", (string?)spdx["SPDXID"]);
        StringAssert.Matches((string?)spdx["documentNamespace"], new Regex("^https://spdx.org/spdxdocs/127.0.0.1-5000-shop-api-[0-9a-f]{64}$"));
        Assert.AreEqual("Tool: Containers.Sdk-1.0.0", (string?)spdx["creationInfo"]!["creators"]![0]);
        var ids = new HashSet<string>(StringComparer.Ordinal) { "SPDXRef-DOCUMENT" };
        foreach (var package in spdx["packages"]!.AsArray())
        {
            var id = (string)package!["SPDXID"]!;
            StringAssert.Matches(id, SpdxIdPattern());
            Assert.IsTrue(ids.Add(id), "SPDXIDs are unique: " + id);
            Assert.IsFalse(string.IsNullOrEmpty((string?)package["name"]));
            Assert.IsNotNull(package["downloadLocation"]);
            var declared = (string)package["licenseDeclared"]!;
            Assert.IsTrue(declared == "NOASSERTION" || LicenseExpressionPattern().IsMatch(declared), declared);
            foreach (var checksum in package["checksums"]?.AsArray() ?? [])
            {
                Assert.IsTrue((string)checksum!["algorithm"]! is "SHA512" or "SHA256");
                StringAssert.Matches((string?)checksum["checksumValue"], new Regex("^[0-9a-f]+$"));
            }
        }

        var describes = spdx["documentDescribes"]!.AsArray().Select(d => (string)d!).ToArray();
        CollectionAssert.IsSubsetOf(describes, ids.ToArray());
        foreach (var relationship in spdx["relationships"]!.AsArray())
        {
            Assert.Contains((string)relationship!["spdxElementId"]!, ids);
            Assert.Contains((string)relationship["relatedSpdxElement"]!, ids);
            Assert.IsTrue((string)relationship["relationshipType"]! is "DESCRIBES" or "CONTAINS" or "DEPENDS_ON" or "DESCENDANT_OF");
        }

        var old = spdx["packages"]!.AsArray().Single(p => (string?)p!["name"] == "Old.Style")!;
        Assert.AreEqual("NOASSERTION", (string?)old["licenseDeclared"]);
        StringAssert.Contains((string?)old["licenseComments"], "https://example.com/old-license");
    }

    [TestMethod]
    public void CycloneDX_document_validates_against_the_official_1_6_schema()
    {
        var (schema, options) = LoadCycloneDxSchema();
        var bom = JsonNode.Parse(SbomWriter.Generate(Request(), SbomFormat.CycloneDx));

        var result = schema.Evaluate(bom, options);

        Assert.IsTrue(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));

        // The validator is not vacuous: a document missing a required property, or with a bad hash, fails.
        var broken = JsonNode.Parse(SbomWriter.Generate(Request(), SbomFormat.CycloneDx))!.AsObject();
        broken.Remove("specVersion");
        Assert.IsFalse(schema.Evaluate(broken, options).IsValid);
        var badHash = JsonNode.Parse(SbomWriter.Generate(Request(), SbomFormat.CycloneDx))!.AsObject();
        badHash["components"]!.AsArray().First(c => c!["hashes"] is not null)!["hashes"]![0]!["content"] = "not-hex";
        Assert.IsFalse(schema.Evaluate(badHash, options).IsValid);
    }

    [TestMethod]
    public void Os_packages_are_deb_components_with_their_checksum_and_source_package_in_both_formats()
    {
        const string Purl = "pkg:deb/debian/curl@7.88.1-10+deb12u8?arch=amd64";
        var sha256 = new string('a', 64);
        var request = Request() with { OsPackages = [new SbomOsPackage("curl", "7.88.1-10+deb12u8", Purl, sha256, "curl 7.88.1-10+deb12u8")] };

        var (schema, options) = LoadCycloneDxSchema();
        var bom = JsonNode.Parse(SbomWriter.Generate(request, SbomFormat.CycloneDx))!;
        var result = schema.Evaluate(bom, options);
        Assert.IsTrue(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
        var component = bom["components"]!.AsArray().Single(c => (string?)c!["purl"] == Purl)!;
        Assert.AreEqual("curl", (string?)component["name"]);
        Assert.AreEqual("7.88.1-10+deb12u8", (string?)component["version"]);
        Assert.AreEqual(sha256, (string?)component["hashes"]![0]!["content"]);
        Assert.AreEqual("containers-sdk:deb:source", (string?)component["properties"]![0]!["name"]);
        Assert.AreEqual("curl 7.88.1-10+deb12u8", (string?)component["properties"]![0]!["value"]);

        var spdx = JsonNode.Parse(SbomWriter.Generate(request, SbomFormat.Spdx))!;
        var package = spdx["packages"]!.AsArray().Single(p => (string?)p!["name"] == "curl")!;
        Assert.AreEqual("built from the Debian source package curl 7.88.1-10+deb12u8", (string?)package["sourceInfo"]);
        Assert.AreEqual(Purl, (string?)package["externalRefs"]!.AsArray().Single(r => (string?)r!["referenceType"] == "purl")!["referenceLocator"]);
        Assert.AreEqual(sha256, (string?)package["checksums"]!.AsArray().Single(c => (string?)c!["algorithm"] == "SHA256")!["checksumValue"]);
    }

    [TestMethod]
    public void The_cache_reuses_an_SBOM_made_from_the_same_inputs_and_remakes_it_when_dependencies_change()
    {
        var cache = Path.Combine(_root, "cache");
        var request = Request() with { ImageDigest = null };

        var (first, firstReused) = SbomCache.GetOrGenerate(request, SbomFormat.Spdx, cache);
        var (second, secondReused) = SbomCache.GetOrGenerate(request, SbomFormat.Spdx, cache);
        File.WriteAllText(request.DepsFilePath, File.ReadAllText(request.DepsFilePath).Replace("\"Lib/2.1.0\": { \"runtime\"", "\"Lib/2.1.0\": { \"dependencies\": {}, \"runtime\"", StringComparison.Ordinal));
        var (third, thirdReused) = SbomCache.GetOrGenerate(request, SbomFormat.Spdx, cache);
        var (_, otherTimestampReused) = SbomCache.GetOrGenerate(request with { Created = DateTimeOffset.FromUnixTimeSeconds(1) }, SbomFormat.Spdx, cache);

        Assert.IsFalse(firstReused);
        Assert.IsTrue(secondReused);
        CollectionAssert.AreEqual(first, second);
        CollectionAssert.AreEqual(SbomWriter.Generate(request, SbomFormat.Spdx), second, "a cached SBOM is the one that would be made");
        Assert.IsFalse(thirdReused, "a changed deps.json is a new SBOM");
        CollectionAssert.AreEqual(first, third, "here the change does not alter the content, only the key");
        Assert.IsFalse(otherTimestampReused);
        Assert.HasCount(1, Directory.GetFiles(cache), "one entry per image and RID: the stale one is removed");
        Assert.IsFalse(Encoding.UTF8.GetString(first).Contains(ImageDigest.Hex, StringComparison.Ordinal), "without ImageDigest the document names no manifest");
    }

    [TestMethod]
    public void A_missing_deps_file_is_a_clear_error_naming_the_file_and_the_switch()
    {
        var error = Assert.ThrowsExactly<OciException>(() => SbomCollector.Collect(Request() with { DepsFilePath = Path.Combine(_root, "nope.deps.json") }));

        StringAssert.Contains(error.Message, "nope.deps.json");
        StringAssert.Contains(error.Message, "ContainerGenerateSbom=false");
    }

    private static (JsonSchema Schema, EvaluationOptions Options) LoadCycloneDxSchema()
    {
        // bom-1.6 refers to spdx.schema.json and jsf-0.82.schema.json by their $id: register them with this evaluation.
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List };
        foreach (var dependency in new[] { "spdx.schema.json", "jsf-0.82.schema.json" })
        {
            options.SchemaRegistry.Register(JsonSchema.FromText(TestSbomSchemas.ReadCycloneDxSchema(dependency)));
        }

        return (JsonSchema.FromText(TestSbomSchemas.ReadCycloneDxSchema("bom-1.6.schema.json")), options);
    }

    [GeneratedRegex("^SPDXRef-[A-Za-z0-9.-]+$")]
    private static partial Regex SpdxIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9.+()\- ]+$")]
    private static partial Regex LicenseExpressionPattern();
}
