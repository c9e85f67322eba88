using Containers.Build.Configuration;
using Containers.Oci;
using Containers.Oci.Descriptors;

namespace Containers.Build.Tests.Configuration;

[TestClass]
public sealed class ContainerSettingsResolverTests
{
    [TestMethod]
    public void Defaults_match_the_sdk()
    {
        var resolution = ContainerSettingsResolver.Resolve(new ContainerSettings(), TestProjects.Console() with { SdkPortableRuntimeIdentifier = "linux-arm64" });
        var resolved = resolution.GetSettingsOrThrow();

        Assert.IsNull(resolved.Registry);
        Assert.AreEqual("myapp", resolved.Repository);
        CollectionAssert.AreEqual(new[] { "latest" }, resolved.Tags.ToArray());
        Assert.AreEqual("linux-arm64", resolved.Targets.Single().RuntimeIdentifier);
        Assert.AreEqual("linux/arm64/v8", resolved.Targets.Single().Platform.ToString());
        Assert.IsFalse(resolved.IsMultiPlatform);
        Assert.AreEqual("/app/", resolved.WorkingDirectory);
        Assert.IsNull(resolved.User);
        Assert.IsNull(resolved.ImageFormat);
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/MyApp.dll" }, resolved.Command.Entrypoint!.ToArray());
        Assert.IsEmpty(resolved.Command.Cmd);
        Assert.IsTrue(resolved.GenerateCreatedLabel);
        Assert.IsTrue(resolved.GenerateBaseDigestLabel);
        Assert.AreEqual(ContainerDiagnosticCodes.RepositoryNormalizedFromAssemblyName.Code, resolution.Diagnostics.Single().Code);
        Assert.AreEqual(ContainerDiagnosticSeverity.Info, resolution.Diagnostics.Single().Severity);
    }

    [TestMethod]
    public void Explicit_values_are_used_as_given()
    {
        var resolved = TestProjects.Resolve(new ContainerSettings
        {
            ContainerRegistry = "127.0.0.1:5000",
            ContainerRepository = "team/my-app",
            ContainerImageTags = ["1.2.3", "stable"],
            ContainerRuntimeIdentifier = "linux-arm64",
            ContainerWorkingDirectory = "/srv/app/",
            ContainerUser = "1000:1000",
            ContainerImageFormat = "oci",
        });

        Assert.AreEqual("127.0.0.1:5000", resolved.Registry);
        Assert.AreEqual("team/my-app", resolved.Repository);
        CollectionAssert.AreEqual(new[] { "1.2.3", "stable" }, resolved.Tags.ToArray());
        Assert.AreEqual("linux-arm64", resolved.Targets.Single().RuntimeIdentifier);
        Assert.AreEqual("/srv/app/", resolved.WorkingDirectory);
        Assert.AreEqual("1000:1000", resolved.User);
        Assert.AreEqual(ManifestFormat.Oci, resolved.ImageFormat);
        Assert.AreEqual("/srv/app/MyApp.dll", resolved.Command.Entrypoint![1]);
    }

    [TestMethod]
    [DataRow("MyApp", "myapp")]
    [DataRow("My.App", "my-app")]
    [DataRow("my_app", "my_app")]
    [DataRow("Contoso.Web API", "contoso-web-api")]
    [DataRow("web.api", "web.api")]
    public void The_default_repository_is_derived_from_AssemblyName_like_the_sdk(string assemblyName, string expected)
    {
        var resolved = TestProjects.Resolve(new ContainerSettings(), TestProjects.Console() with { AssemblyName = assemblyName });

        Assert.AreEqual(expected, resolved.Repository);
    }

    [TestMethod]
    [DataRow("_private")]
    [DataRow(".hidden")]
    public void An_AssemblyName_that_cannot_become_a_repository_asks_for_ContainerRepository(string assemblyName)
    {
        var error = TestProjects.SingleError(new ContainerSettings(), TestProjects.Console() with { AssemblyName = assemblyName });

        Assert.AreEqual(ContainerDiagnosticCodes.AssemblyNameUnusableAsRepository.Code, error.Code);
        Assert.Contains("Set ContainerRepository", error.Message);
    }

    [TestMethod]
    public void The_obsolete_ContainerImageName_still_works_with_a_warning()
    {
        var resolution = ContainerSettingsResolver.Resolve(new ContainerSettings { ContainerImageName = "legacy", ContainerRepository = "ignored" }, TestProjects.Console());

        Assert.AreEqual("legacy", resolution.GetSettingsOrThrow().Repository);
        Assert.AreEqual(ContainerDiagnosticCodes.ObsoleteImageName.Code, resolution.Diagnostics.Single().Code);
    }

    public static IEnumerable<object[]> InvalidSettings =>
    [
        [new ContainerSettings { ContainerRepository = "MyApp" }, "CONTAINER7000", "ContainerRepository", "MyApp"],
        [new ContainerSettings { ContainerRepository = "my app" }, "CONTAINER7000", "ContainerRepository", "my app"],
        [new ContainerSettings { ContainerRepository = "-app" }, "CONTAINER7000", "ContainerRepository", "-app"],
        [new ContainerSettings { ContainerImageName = "Bad Name" }, "CONTAINER7000", "ContainerImageName", "Bad Name"],
        [new ContainerSettings { ContainerRegistry = "https://registry.example.com" }, "CONTAINER7003", "ContainerRegistry", "https://registry.example.com"],
        [new ContainerSettings { ContainerRegistry = "registry.example.com/team" }, "CONTAINER7003", "ContainerRegistry", "registry.example.com/team"],
        [new ContainerSettings { ContainerImageTag = "-beta" }, "CONTAINER7004", "ContainerImageTag", "-beta"],
        [new ContainerSettings { ContainerImageTag = "1.0+build" }, "CONTAINER7004", "ContainerImageTag", "1.0+build"],
        [new ContainerSettings { ContainerImageTags = ["ok", "not ok"] }, "CONTAINER7004", "ContainerImageTags", "not ok"],
        [new ContainerSettings { ContainerImageTag = "a", ContainerImageTags = ["b"] }, "CONTAINER7005", "ContainerImageTags", "ContainerImageTag"],
        [new ContainerSettings { ContainerRuntimeIdentifier = "linux-x65" }, "CONTAINER7012", "ContainerRuntimeIdentifier", "linux-x65"],
        [new ContainerSettings { ContainerRuntimeIdentifiers = ["linux-x64", "Linux-arm64"] }, "CONTAINER7012", "ContainerRuntimeIdentifiers", "Linux-arm64"],
        [new ContainerSettings { ContainerRuntimeIdentifier = "osx-arm64" }, "CONTAINER7012", "ContainerRuntimeIdentifier", "linux-arm64"],
        [new ContainerSettings { ContainerRuntimeIdentifiers = ["linux-x64", "win-x64"], ContainerBaseImage = "base:1" }, "CONTAINER7013", "ContainerRuntimeIdentifiers", "win-x64"],
        [new ContainerSettings { ContainerPorts = [new("70000")] }, "CONTAINER7014", "ContainerPort", "70000"],
        [new ContainerSettings { ContainerPorts = [new("0")] }, "CONTAINER7014", "ContainerPort", "'0'"],
        [new ContainerSettings { ContainerPorts = [new("http")] }, "CONTAINER7014", "ContainerPort", "http"],
        [new ContainerSettings { ContainerPorts = [new("-80")] }, "CONTAINER7014", "ContainerPort", "-80"],
        [new ContainerSettings { ContainerPorts = [new("8080", "sctp")] }, "CONTAINER7015", "ContainerPort", "sctp"],
        [new ContainerSettings { ContainerPorts = [new("8080", "TCP")] }, "CONTAINER7015", "ContainerPort", "TCP"],
        [new ContainerSettings { ContainerEnvironmentVariables = [new("1BAD", "x")] }, "CONTAINER7017", "ContainerEnvironmentVariable", "1BAD"],
        [new ContainerSettings { ContainerEnvironmentVariables = [new("MY-VAR", "x")] }, "CONTAINER7017", "ContainerEnvironmentVariable", "MY-VAR"],
        [new ContainerSettings { ContainerEnvironmentVariables = [new("Logging:LogLevel", "x")] }, "CONTAINER7017", "ContainerEnvironmentVariable", "Logging:LogLevel"],
        [new ContainerSettings { ContainerEnvironmentVariables = [new("", "x")] }, "CONTAINER7017", "ContainerEnvironmentVariable", "''"],
        [new ContainerSettings { ContainerLabels = [new(" ", "x")] }, "CONTAINER7019", "ContainerLabel", "value 'x'"],
        [new ContainerSettings { ContainerImageFormat = "tar" }, "CONTAINER7022", "ContainerImageFormat", "tar"],
        [new ContainerSettings { ContainerAppCommandInstruction = "Cmd" }, "CONTAINER7023", "ContainerAppCommandInstruction", "Cmd"],
        [new ContainerSettings { ContainerWorkingDirectory = "app" }, "CONTAINER7030", "ContainerWorkingDirectory", "'app'"],
        [new ContainerSettings { ContainerWorkingDirectory = @"C:\app\" }, "CONTAINER7030", "ContainerWorkingDirectory", @"C:\app\"],
    ];

    [TestMethod]
    [DynamicData(nameof(InvalidSettings))]
    public void Each_invalid_value_is_one_coded_error_that_names_the_property_and_the_value(ContainerSettings settings, string code, string property, string valueInMessage)
    {
        var error = TestProjects.SingleError(settings);

        Assert.AreEqual(code, error.Code);
        Assert.AreEqual(property, error.Property);
        Assert.Contains(property, error.Message);
        Assert.Contains(valueInMessage, error.Message);
        Assert.IsTrue(ContainerDiagnosticCodes.All.Any(c => c.Code == code && c.Severity == ContainerDiagnosticSeverity.Error));
    }

    [TestMethod]
    public void Errors_throw_with_every_diagnostic_attached()
    {
        var resolution = ContainerSettingsResolver.Resolve(new ContainerSettings { ContainerRepository = "Bad", ContainerPorts = [new("99999")] }, TestProjects.Console());

        var exception = Assert.ThrowsExactly<ContainerSettingsException>(() => resolution.GetSettingsOrThrow());
        Assert.HasCount(2, exception.Diagnostics);
        Assert.Contains("ContainerRepository 'Bad'", exception.Message);
        Assert.Contains("ContainerPort '99999'", exception.Message);
        Assert.IsInstanceOfType<OciException>(exception);
    }

    [TestMethod]
    [DataRow("root")]
    [DataRow("0")]
    [DataRow("root:root")]
    [DataRow("0:0")]
    public void A_root_user_is_kept_with_a_warning(string user)
    {
        var resolution = ContainerSettingsResolver.Resolve(new ContainerSettings { ContainerRepository = "app", ContainerUser = user }, TestProjects.Console());

        Assert.AreEqual(user, resolution.GetSettingsOrThrow().User);
        var warning = resolution.Diagnostics.Single();
        Assert.AreEqual(ContainerDiagnosticCodes.RootUser.Code, warning.Code);
        Assert.AreEqual(ContainerDiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains($"ContainerUser '{user}'", warning.Message);
    }

    [TestMethod]
    [DataRow("app")]
    [DataRow("1654")]
    [DataRow("rootless")]
    [DataRow("10:0")]
    public void A_non_root_user_gets_no_warning(string user)
    {
        var resolution = ContainerSettingsResolver.Resolve(new ContainerSettings { ContainerRepository = "app", ContainerUser = user }, TestProjects.Console());

        Assert.IsEmpty(resolution.Diagnostics);
    }

    [TestMethod]
    public void Duplicates_are_warnings_and_the_last_value_wins()
    {
        var resolution = ContainerSettingsResolver.Resolve(
            new ContainerSettings
            {
                ContainerRepository = "app",
                ContainerPorts = [new("80"), new("80", "tcp"), new("80", "udp")],
                ContainerEnvironmentVariables = [new("A", "1"), new("B", "2"), new("A", "3")],
                ContainerLabels = [new("team", "x"), new("team", "y")],
            },
            TestProjects.Console());

        var resolved = resolution.GetSettingsOrThrow();
        CollectionAssert.AreEqual(new[] { "80/tcp", "80/udp" }, resolved.Ports.Select(p => p.Key).ToArray());
        CollectionAssert.AreEqual(new[] { "A=3", "B=2" }, resolved.EnvironmentVariables.Select(v => v.Name + "=" + v.Value).ToArray());
        Assert.AreEqual("y", resolved.Labels.Single(l => l.Name == "team").Value);
        CollectionAssert.AreEqual(
            new[] { "CONTAINER7016", "CONTAINER7018", "CONTAINER7020" },
            resolution.Diagnostics.Select(d => d.Code).Order(StringComparer.Ordinal).ToArray());
        Assert.IsTrue(resolution.Diagnostics.All(d => d.Severity == ContainerDiagnosticSeverity.Warning));
    }

    [TestMethod]
    [DataRow("Docker", ManifestFormat.Docker)]
    [DataRow("docker", ManifestFormat.Docker)]
    [DataRow("OCI", ManifestFormat.Oci)]
    public void ContainerImageFormat_accepts_Docker_and_OCI(string format, ManifestFormat expected)
    {
        Assert.AreEqual(expected, TestProjects.Resolve(new ContainerSettings { ContainerImageFormat = format }).ImageFormat);
    }

    [TestMethod]
    public void ContainerRuntimeIdentifiers_make_a_multi_platform_image()
    {
        var resolved = TestProjects.Resolve(new ContainerSettings { ContainerRuntimeIdentifiers = ["linux-x64", "linux-arm64"] });

        Assert.IsTrue(resolved.IsMultiPlatform);
        CollectionAssert.AreEqual(new[] { "linux/amd64", "linux/arm64/v8" }, resolved.Targets.Select(t => t.Platform.ToString()).ToArray());
    }

    [TestMethod]
    public void RuntimeIdentifiers_of_the_project_are_the_default_container_rids_unless_rid_agnostic()
    {
        var project = TestProjects.Console() with { RuntimeIdentifiers = ["linux-x64", "linux-arm64"] };

        Assert.HasCount(2, TestProjects.Resolve(new ContainerSettings(), project).Targets);
        Assert.AreEqual("linux-x64", TestProjects.Resolve(new ContainerSettings(), project with { IsRidAgnostic = true }).Targets.Single().RuntimeIdentifier);
    }

    [TestMethod]
    public void A_single_rid_wins_over_the_list()
    {
        var project = TestProjects.Console() with { RuntimeIdentifier = "linux-arm64", RuntimeIdentifiers = ["linux-x64", "linux-arm64"] };

        var resolved = TestProjects.Resolve(new ContainerSettings(), project);

        Assert.AreEqual("linux-arm64", resolved.Targets.Single().RuntimeIdentifier);
        Assert.IsFalse(resolved.IsMultiPlatform);
        Assert.AreEqual("linux-x64", TestProjects.Resolve(new ContainerSettings { ContainerRuntimeIdentifier = "linux-x64" }, project).Targets.Single().RuntimeIdentifier);
    }

    [TestMethod]
    public void Windows_rids_get_the_windows_working_directory_and_user_on_inferred_images()
    {
        var resolved = TestProjects.Resolve(new ContainerSettings { ContainerRuntimeIdentifier = "win-x64" }, TestProjects.SelfContained() with { RuntimeIdentifier = "win-x64" });

        Assert.AreEqual(@"C:\app\", resolved.WorkingDirectory);
        Assert.AreEqual("ContainerUser", resolved.User);
        CollectionAssert.AreEqual(new[] { @"C:\app\MyApp.exe" }, resolved.Command.Entrypoint!.ToArray());
        Assert.IsNull(TestProjects.Resolve(new ContainerSettings { ContainerRuntimeIdentifier = "win-x64", ContainerBaseImage = "base:1" }).User);
    }

    [TestMethod]
    public void Generated_labels_follow_the_sdk_defaults()
    {
        var project = TestProjects.Web() with
        {
            Description = "An app",
            Authors = "Team",
            PackageProjectUrl = "https://example.com/app",
            PackageVersion = "1.2.3",
            PackageLicenseExpression = "MIT",
            Title = "App",
            PublishRepositoryUrl = true,
            RepositoryUrl = "https://example.com/app.git",
            RepositoryType = "git",
            SourceRevisionId = "abc123",
        };

        var labels = TestProjects.Resolve(new ContainerSettings { ContainerVendor = "Contoso" }, project).Labels.ToDictionary(l => l.Name, l => l.Value);

        Assert.AreEqual("An app", labels["org.opencontainers.image.description"]);
        Assert.AreEqual("An app", labels["org.opencontainers.artifact.description"]);
        Assert.AreEqual("Team", labels["org.opencontainers.image.authors"]);
        Assert.AreEqual("https://example.com/app", labels["org.opencontainers.image.url"]);
        Assert.AreEqual("https://example.com/app", labels["org.opencontainers.image.documentation"]);
        Assert.AreEqual("1.2.3", labels["org.opencontainers.image.version"]);
        Assert.AreEqual("Contoso", labels["org.opencontainers.image.vendor"]);
        Assert.AreEqual("MIT", labels["org.opencontainers.image.licenses"]);
        Assert.AreEqual("App", labels["org.opencontainers.image.title"]);
        Assert.AreEqual("mcr.microsoft.com/dotnet/aspnet:10.0", labels["org.opencontainers.image.base.name"]);
        Assert.AreEqual("10.0", labels["net.dot.runtime.majorminor"]);
        Assert.AreEqual(TestProjects.Sdk, labels["net.dot.sdk.version"]);
        Assert.AreEqual("https://example.com/app", labels["org.opencontainers.image.source"]);
        Assert.AreEqual("abc123", labels["org.opencontainers.image.revision"]);
    }

    [TestMethod]
    public void Source_labels_need_PublishRepositoryUrl()
    {
        var project = TestProjects.Console() with { RepositoryUrl = "https://example.com/app.git", RepositoryType = "git", SourceRevisionId = "abc" };

        var labels = TestProjects.Resolve(new ContainerSettings(), project).Labels.Select(l => l.Name).ToArray();

        CollectionAssert.DoesNotContain(labels, "org.opencontainers.image.source");
        CollectionAssert.DoesNotContain(labels, "org.opencontainers.image.revision");
    }

    [TestMethod]
    public void Container_properties_override_project_properties_and_switches_turn_labels_off()
    {
        var project = TestProjects.Console() with { Description = "from project", PackageVersion = "1.0.0" };
        var settings = new ContainerSettings
        {
            ContainerDescription = "from container",
            LabelGeneration = LabelGenerationSwitches.Default with { ImageVersion = false, DotnetToolset = false, ImageCreated = false, ImageBaseDigest = false },
        };

        var resolved = TestProjects.Resolve(settings, project);
        var labels = resolved.Labels.ToDictionary(l => l.Name, l => l.Value);

        Assert.AreEqual("from container", labels["org.opencontainers.image.description"]);
        Assert.IsFalse(labels.ContainsKey("org.opencontainers.image.version"));
        Assert.IsFalse(labels.ContainsKey("net.dot.sdk.version"));
        Assert.IsFalse(resolved.GenerateCreatedLabel);
        Assert.IsFalse(resolved.GenerateBaseDigestLabel);
    }

    [TestMethod]
    public void ContainerGenerateLabels_false_drops_generated_labels_but_keeps_the_users()
    {
        var settings = new ContainerSettings { LabelGeneration = LabelGenerationSwitches.Default with { Enabled = false }, ContainerLabels = [new("team", "core")] };

        var resolved = TestProjects.Resolve(settings, TestProjects.Console() with { Description = "d" });

        Assert.AreEqual("team=core", string.Join(",", resolved.Labels.Select(l => l.Name + "=" + l.Value)));
        Assert.IsFalse(resolved.GenerateCreatedLabel);
        Assert.IsFalse(resolved.GenerateBaseDigestLabel);
    }

    [TestMethod]
    public void A_ContainerLabel_wins_over_the_generated_label_of_the_same_name()
    {
        var settings = new ContainerSettings { ContainerLabels = [new("org.opencontainers.image.version", "custom")] };

        var resolved = TestProjects.Resolve(settings, TestProjects.Console() with { PackageVersion = "1.0.0" });

        Assert.AreEqual("custom", resolved.Labels.Single(l => l.Name == "org.opencontainers.image.version").Value);
    }
}
