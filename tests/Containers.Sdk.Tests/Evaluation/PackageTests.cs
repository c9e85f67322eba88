using System.IO.Compression;
using System.Xml.Linq;
using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.Evaluation;

[TestClass]
public sealed class PackageTests
{
    public TestContext TestContext { get; set; } = null!;

    private static ZipArchive OpenPackage() =>
        ZipFile.OpenRead(Directory.GetFiles(PackageFeed.FeedDirectory, "Containers.Sdk.*.nupkg").Single());

    [TestMethod]
    public void Package_carries_task_assembly_with_dependencies_and_build_assets()
    {
        using var package = OpenPackage();
        var entries = package.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);

        foreach (var expected in new[]
        {
            "tasks/net8.0/Containers.Sdk.dll", "tasks/net8.0/Containers.Build.dll", "tasks/net8.0/Containers.Oci.dll",
            "tasks/net8.0/ZstdSharp.dll", "tasks/net8.0/BouncyCastle.Cryptography.dll", "tasks/net8.0/SharpCompress.dll", "tasks/net8.0/System.IO.Hashing.dll", "build/Containers.Sdk.props", "build/Containers.Sdk.targets",
            "build/PublishProfiles/DefaultContainer.pubxml", "buildTransitive/Containers.Sdk.props", "buildTransitive/Containers.Sdk.targets",
        })
        {
            Assert.Contains(expected, entries);
        }

        Assert.IsFalse(entries.Any(e => Path.GetFileName(e).StartsWith("Microsoft.Build", StringComparison.Ordinal)), "MSBuild's own assemblies must not ship: " + string.Join(", ", entries));
        Assert.IsFalse(entries.Any(e => e.StartsWith("lib/", StringComparison.Ordinal)), "nothing to compile against: " + string.Join(", ", entries));
    }

    [TestMethod]
    public void Package_has_no_dependencies_and_the_repository_version()
    {
        using var package = OpenPackage();
        var nuspecEntry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspecEntry.Open();
        var nuspec = XDocument.Load(stream);
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;

        Assert.AreEqual("Containers.Sdk", metadata.Element(ns + "id")!.Value);
        Assert.AreEqual(PackageFeed.PackageVersion, metadata.Element(ns + "version")!.Value);
        Assert.IsFalse(metadata.Descendants(ns + "dependency").Any(), nuspec.ToString());
    }

    [TestMethod]
    public void Testing_package_has_its_readme_and_takes_MSTest_from_the_mstest_template_version_on()
    {
        using var package = ZipFile.OpenRead(Directory.GetFiles(PackageFeed.FeedDirectory, "Containers.Testing.*.nupkg").Single());
        using var stream = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var nuspec = XDocument.Load(stream);
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;

        Assert.AreEqual("README.md", metadata.Element(ns + "readme")?.Value, nuspec.ToString());
        Assert.IsNotNull(package.GetEntry("README.md"), "the readme is in the package");
        var mstest = metadata.Descendants(ns + "dependency").Single(d => (string?)d.Attribute("id") == "MSTest.TestFramework");
        Assert.AreEqual("4.0.2", (string?)mstest.Attribute("version"), "the version `dotnet new mstest` pins, so that its projects keep one MSTest");
    }

    [TestMethod]
    public async Task Referencing_the_package_keeps_the_sdk_container_targets_out()
    {
        var project = TestProject.Create("TakeOver");

        var result = await project.EvaluateAsync("_ContainerEstablishRIDNess", ["_ContainersTargetsDir", "_IsNotSetContainersTargetsDir", "ContainersSdkTasksAssembly"], cancellationToken: TestContext.CancellationToken);

        var ourBuildDirectory = Path.Combine(PackageFeed.PackagesDirectory, "containers.sdk", PackageFeed.PackageVersion, "build") + Path.DirectorySeparatorChar;
        Assert.AreEqual(ourBuildDirectory, result.Property("_ContainersTargetsDir"));
        Assert.AreEqual("false", result.Property("_IsNotSetContainersTargetsDir"));
        Assert.IsTrue(File.Exists(result.Property("ContainersSdkTasksAssembly")), result.Property("ContainersSdkTasksAssembly"));

        var preprocessed = Path.Combine(project.Directory, "preprocessed.xml");
        var preprocess = await project.DotnetAsync(["msbuild", project.ProjectFile, "-nologo", "-pp:" + preprocessed], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, preprocess.ExitCode, preprocess.StandardOutput);
        var text = await File.ReadAllTextAsync(preprocessed, TestContext.CancellationToken);
        Assert.AreEqual(1, CountOccurrences(text, "<Target Name=\"PublishContainer\""), "exactly one PublishContainer target, ours");
        Assert.AreEqual(0, CountOccurrences(text, "<Target Name=\"_PublishSingleContainer\""), "the SDK's container targets were imported");
    }

    [TestMethod]
    [DataRow("Microsoft.NET.Sdk")]
    [DataRow("Microsoft.NET.Sdk.Web")]
    [DataRow("Microsoft.NET.Sdk.Worker")]
    public async Task DefaultContainer_publish_profile_selects_container_publishing_for_every_project_kind(string sdk)
    {
        var project = TestProject.Create("Profile" + sdk.Replace(".", "", StringComparison.Ordinal), sdk: sdk);

        var result = await project.EvaluateAsync("_ContainerEstablishRIDNess", ["WebPublishMethod", "PublishProfileImported"], globalProperties: ["PublishProfile=DefaultContainer"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual("Container", result.Property("WebPublishMethod"));
        Assert.AreEqual("true", result.Property("PublishProfileImported"));
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var index = text.IndexOf(value, StringComparison.Ordinal); index >= 0; index = text.IndexOf(value, index + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
