using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.Evaluation;

/// <summary>
/// Runs the ComputeContainerConfig target of generated projects that reference the packed package and
/// reads back the properties and items it resolves, the way a user's own targets would see them.
/// </summary>
[TestClass]
public sealed class ComputeContainerConfigTests
{
    private static readonly string[] ResolvedProperties =
    [
        "ContainerBaseImage", "ContainerBaseRegistry", "ContainerBaseName", "ContainerBaseTag", "ContainerRegistry",
        "ContainerRepository", "ContainerUser", "ContainerWorkingDirectory", "ContainerRuntimeIdentifier",
        "ContainerRuntimeIdentifiers", "_IsMultiRIDBuild", "_ContainerKeepsBaseEntrypoint", "_ContainerResolvedImageFormat",
        "_ContainerDestinationKind",
    ];

    private static readonly string[] ResolvedItems =
    [
        "ContainerImageTags", "_ContainerResolvedEntrypoint", "_ContainerResolvedCmd", "ContainerEnvironmentVariables",
        "_ContainerResolvedPort", "_ContainerResolvedLabel", "_ContainerTargetRuntimeIdentifier",
    ];

    public TestContext TestContext { get; set; } = null!;

    private Task<EvaluationResult> ComputeAsync(TestProject project, params string[] globalProperties) =>
        project.EvaluateAsync("ComputeContainerConfig", ResolvedProperties, ResolvedItems, globalProperties, TestContext.CancellationToken);

    [TestMethod]
    public async Task Console_app_gets_the_sdk_defaults()
    {
        var result = await ComputeAsync(TestProject.Create("DefaultsApp"));

        Assert.AreEqual("mcr.microsoft.com/dotnet/runtime:10.0", result.Property("ContainerBaseImage"));
        Assert.AreEqual("mcr.microsoft.com", result.Property("ContainerBaseRegistry"));
        Assert.AreEqual("dotnet/runtime", result.Property("ContainerBaseName"));
        Assert.AreEqual("10.0", result.Property("ContainerBaseTag"));
        Assert.AreEqual("", result.Property("ContainerRegistry"));
        Assert.AreEqual("defaultsapp", result.Property("ContainerRepository"));
        Assert.AreEqual("/app/", result.Property("ContainerWorkingDirectory"));
        Assert.AreEqual("", result.Property("ContainerUser"), "empty: the base image's APP_UID decides");
        Assert.StartsWith("linux-", result.Property("ContainerRuntimeIdentifier"));
        CollectionAssert.AreEqual(new[] { "latest" }, result.ItemIdentities("ContainerImageTags").ToArray());
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/DefaultsApp.dll" }, result.ItemIdentities("_ContainerResolvedEntrypoint").ToArray());
        Assert.AreEqual(0, result.ItemIdentities("_ContainerResolvedCmd").Count);
        var labels = result.Items("_ContainerResolvedLabel").ToDictionary(l => l["Identity"], l => l["Value"]);
        Assert.AreEqual("mcr.microsoft.com/dotnet/runtime:10.0", labels["org.opencontainers.image.base.name"]);
        Assert.AreEqual("10.0", labels["net.dot.runtime.majorminor"]);
        Assert.IsTrue(labels.ContainsKey("net.dot.sdk.version"));
    }

    [TestMethod]
    [DataRow("Microsoft.NET.Sdk.Web", "", "mcr.microsoft.com/dotnet/aspnet:10.0")]
    [DataRow("Microsoft.NET.Sdk.Worker", "", "mcr.microsoft.com/dotnet/runtime:10.0")]
    [DataRow("Microsoft.NET.Sdk", "<SelfContained>true</SelfContained><RuntimeIdentifier>linux-x64</RuntimeIdentifier>", "mcr.microsoft.com/dotnet/runtime-deps:10.0")]
    [DataRow("Microsoft.NET.Sdk", "<ContainerFamily>noble-chiseled</ContainerFamily>", "mcr.microsoft.com/dotnet/runtime:10.0-noble-chiseled-extra")]
    [DataRow("Microsoft.NET.Sdk", "<ContainerFamily>noble-chiseled</ContainerFamily><InvariantGlobalization>true</InvariantGlobalization>", "mcr.microsoft.com/dotnet/runtime:10.0-noble-chiseled")]
    [DataRow("Microsoft.NET.Sdk", "<ContainerBaseRegistry>127.0.0.1:5000/mirror</ContainerBaseRegistry>", "127.0.0.1:5000/mirror/dotnet/runtime:10.0")]
    [DataRow("Microsoft.NET.Sdk", "<ContainerBaseImage>127.0.0.1:5000/base/image:1.2</ContainerBaseImage>", "127.0.0.1:5000/base/image:1.2")]
    public async Task Base_image_is_inferred_from_the_project_or_taken_as_given(string sdk, string properties, string expected)
    {
        var project = TestProject.Create("BaseImage", properties, sdk: sdk);

        var result = await project.EvaluateAsync("ComputeContainerBaseImage", ["ContainerBaseImage"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(expected, result.Property("ContainerBaseImage"));
    }

    [TestMethod]
    public async Task Explicit_settings_come_back_resolved()
    {
        var project = TestProject.Create(
            "Explicit",
            """
                <ContainerRegistry>127.0.0.1:5000</ContainerRegistry>
                <ContainerRepository>team/explicit-app</ContainerRepository>
                <ContainerImageTags>1.2.3;beta</ContainerImageTags>
                <ContainerUser>1654</ContainerUser>
                <ContainerWorkingDirectory>/srv/app/</ContainerWorkingDirectory>
                <ContainerImageFormat>OCI</ContainerImageFormat>
                <ContainerRuntimeIdentifier>linux-arm64</ContainerRuntimeIdentifier>
            """,
            """
                <ContainerPort Include="8080" Type="tcp" />
                <ContainerPort Include="5353" Type="udp" />
                <ContainerEnvironmentVariable Include="GREETING" Value="hello world" />
                <ContainerLabel Include="com.example.team" Value="platform" />
                <ContainerAppCommandArgs Include="--verbose" />
                <ContainerDefaultArgs Include="serve" />
            """);

        var result = await ComputeAsync(project);

        Assert.AreEqual("127.0.0.1:5000", result.Property("ContainerRegistry"));
        Assert.AreEqual("team/explicit-app", result.Property("ContainerRepository"));
        CollectionAssert.AreEqual(new[] { "1.2.3", "beta" }, result.ItemIdentities("ContainerImageTags").ToArray());
        Assert.AreEqual("1654", result.Property("ContainerUser"));
        Assert.AreEqual("/srv/app/", result.Property("ContainerWorkingDirectory"));
        Assert.AreEqual("OCI", result.Property("_ContainerResolvedImageFormat"));
        Assert.AreEqual("linux-arm64", result.Property("ContainerRuntimeIdentifier"));
        Assert.AreEqual("Registry", result.Property("_ContainerDestinationKind"));
        CollectionAssert.AreEqual(new[] { "dotnet", "/srv/app/Explicit.dll", "--verbose" }, result.ItemIdentities("_ContainerResolvedEntrypoint").ToArray());
        CollectionAssert.AreEqual(new[] { "serve" }, result.ItemIdentities("_ContainerResolvedCmd").ToArray());
        var ports = result.Items("_ContainerResolvedPort").Select(p => p["Identity"] + "/" + p["Type"]).ToArray();
        CollectionAssert.AreEqual(new[] { "8080/tcp", "5353/udp" }, ports);
        var env = result.Items("ContainerEnvironmentVariables").Single();
        Assert.AreEqual("GREETING", env["Identity"]);
        Assert.AreEqual("hello world", env["Value"]);
        Assert.IsTrue(result.Items("_ContainerResolvedLabel").Any(l => l["Identity"] == "com.example.team" && l["Value"] == "platform"));
    }

    [TestMethod]
    public async Task Entrypoint_and_app_command_instruction_follow_the_sdk_rules()
    {
        var project = TestProject.Create(
            "Instruction",
            "<ContainerAppCommandInstruction>DefaultArgs</ContainerAppCommandInstruction>",
            """
                <ContainerEntrypoint Include="/usr/bin/tini" />
                <ContainerEntrypoint Include="--" />
            """);

        var result = await ComputeAsync(project);

        CollectionAssert.AreEqual(new[] { "/usr/bin/tini", "--" }, result.ItemIdentities("_ContainerResolvedEntrypoint").ToArray());
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/Instruction.dll" }, result.ItemIdentities("_ContainerResolvedCmd").ToArray());
    }

    [TestMethod]
    public async Task Container_runtime_identifiers_make_a_multi_platform_build()
    {
        var project = TestProject.Create("MultiRid", "<ContainerRuntimeIdentifiers>linux-x64;linux-arm64</ContainerRuntimeIdentifiers>");

        var result = await ComputeAsync(project);

        Assert.AreEqual("true", result.Property("_IsMultiRIDBuild"));
        CollectionAssert.AreEqual(new[] { "linux-x64", "linux-arm64" }, result.ItemIdentities("_ContainerTargetRuntimeIdentifier").ToArray());
        CollectionAssert.AreEqual(
            new[] { "linux/amd64", "linux/arm64/v8" },
            result.Items("_ContainerTargetRuntimeIdentifier").Select(i => i["Platform"]).ToArray());
    }

    [TestMethod]
    public async Task Runtime_identifiers_default_the_container_runtime_identifiers()
    {
        var project = TestProject.Create("RidsDefault", "<RuntimeIdentifiers>linux-x64;linux-arm64</RuntimeIdentifiers>");

        var result = await ComputeAsync(project);

        Assert.AreEqual("true", result.Property("_IsMultiRIDBuild"));
        CollectionAssert.AreEqual(new[] { "linux-x64", "linux-arm64" }, result.ItemIdentities("_ContainerTargetRuntimeIdentifier").ToArray());
    }

    [TestMethod]
    public async Task Generated_labels_can_be_switched_off()
    {
        var project = TestProject.Create(
            "NoLabels",
            "<ContainerGenerateLabels>false</ContainerGenerateLabels><Description>not a label</Description>",
            """<ContainerLabel Include="kept" Value="yes" />""");

        var result = await ComputeAsync(project);

        CollectionAssert.AreEqual(new[] { "kept" }, result.ItemIdentities("_ContainerResolvedLabel").ToArray());
    }

    [TestMethod]
    [DataRow("OciLayout", "<ContainerOciLayoutPath>layout</ContainerOciLayoutPath>")]
    [DataRow("Archive", "<ContainerArchiveOutputPath>image.tar.gz</ContainerArchiveOutputPath><ContainerRegistry>127.0.0.1:5000</ContainerRegistry>")]
    [DataRow("LocalDaemon", "<LocalRegistry>Podman</LocalRegistry>")]
    [DataRow("Containerd", "<LocalRegistry>containerd</LocalRegistry>")]
    [DataRow("Containerd", "<LocalRegistry> ContainerD </LocalRegistry>")]
    [DataRow("Registry", "<LocalRegistry>containerd</LocalRegistry><ContainerRegistry>127.0.0.1:5000</ContainerRegistry>")]
    public async Task Destination_follows_the_documented_order(string expected, string properties)
    {
        var result = await ComputeAsync(TestProject.Create("Destination", properties));

        Assert.AreEqual(expected, result.Property("_ContainerDestinationKind"));
    }

    [TestMethod]
    [DataRow("<ContainerRepository>Bad Repo!</ContainerRepository>", "CONTAINER7000", "ContainerRepository")]
    [DataRow("<ContainerImageTag>no spaces allowed</ContainerImageTag>", "CONTAINER7004", "ContainerImageTag")]
    [DataRow("<ContainerRegistry>https://127.0.0.1:5000</ContainerRegistry>", "CONTAINER7003", "ContainerRegistry")]
    [DataRow("<ContainerWorkingDirectory>relative/dir</ContainerWorkingDirectory>", "CONTAINER7030", "ContainerWorkingDirectory")]
    public async Task Invalid_settings_fail_with_a_coded_error_naming_the_property(string properties, string code, string property)
    {
        var project = TestProject.Create("Invalid", properties);

        var result = await project.RunTargetAsync("ComputeContainerConfig", ["ContainerRepository"], cancellationToken: TestContext.CancellationToken);

        var output = result.StandardOutput + result.StandardError;
        Assert.AreNotEqual(0, result.ExitCode, output);
        Assert.Contains($"{project.ProjectFile} : error {code}:", output, "the error points at the project, not at our .targets");
        Assert.Contains(property, output);
        Assert.DoesNotContain("   at ", output, "no stack trace");
    }

    [TestMethod]
    public async Task Invalid_port_fails_and_obsolete_image_name_warns()
    {
        var project = TestProject.Create("Ports", "<ContainerImageName>old-name</ContainerImageName>", """<ContainerPort Include="70000" />""");

        var result = await project.RunTargetAsync("ComputeContainerConfig", ["ContainerRepository"], cancellationToken: TestContext.CancellationToken);

        var output = result.StandardOutput + result.StandardError;
        Assert.AreNotEqual(0, result.ExitCode, output);
        Assert.Contains("error CONTAINER7014:", output);
        Assert.Contains("70000", output);
        Assert.Contains("warning CONTAINER7031:", output);
    }

    [TestMethod]
    public async Task Label_properties_and_switches_shape_the_generated_labels()
    {
        var project = TestProject.Create(
            "Labels",
            """
                <ContainerDescription>An app</ContainerDescription>
                <ContainerAuthors>Team A</ContainerAuthors>
                <ContainerInformationUrl>https://example.invalid/info</ContainerInformationUrl>
                <ContainerDocumentationUrl>https://example.invalid/docs</ContainerDocumentationUrl>
                <ContainerVersion>2.0.0</ContainerVersion>
                <ContainerVendor>Example</ContainerVendor>
                <ContainerLicenseExpression>MIT</ContainerLicenseExpression>
                <ContainerTitle>Labels App</ContainerTitle>
                <ContainerGenerateLabelsImageBaseName>false</ContainerGenerateLabelsImageBaseName>
                <ContainerGenerateLabelsDotnetToolset>false</ContainerGenerateLabelsDotnetToolset>
                <PublishRepositoryUrl>true</PublishRepositoryUrl>
                <PrivateRepositoryUrl>https://example.invalid/repo.git</PrivateRepositoryUrl>
                <RepositoryType>git</RepositoryType>
                <SourceRevisionId>0123abc</SourceRevisionId>
            """);

        var result = await ComputeAsync(project);

        var labels = result.Items("_ContainerResolvedLabel").ToDictionary(l => l["Identity"], l => l["Value"]);
        Assert.AreEqual("An app", labels["org.opencontainers.image.description"]);
        Assert.AreEqual("Team A", labels["org.opencontainers.image.authors"]);
        Assert.AreEqual("https://example.invalid/info", labels["org.opencontainers.image.url"]);
        Assert.AreEqual("https://example.invalid/docs", labels["org.opencontainers.image.documentation"]);
        Assert.AreEqual("2.0.0", labels["org.opencontainers.image.version"]);
        Assert.AreEqual("Example", labels["org.opencontainers.image.vendor"]);
        Assert.AreEqual("MIT", labels["org.opencontainers.image.licenses"]);
        Assert.AreEqual("Labels App", labels["org.opencontainers.image.title"]);
        Assert.AreEqual("https://example.invalid/repo", labels["org.opencontainers.image.source"]);
        Assert.AreEqual("0123abc", labels["org.opencontainers.image.revision"]);
        Assert.IsFalse(labels.ContainsKey("org.opencontainers.image.base.name"));
        Assert.IsFalse(labels.ContainsKey("net.dot.sdk.version"));
    }

    [TestMethod]
    public async Task App_command_entrypoint_and_single_tag_are_taken_as_given()
    {
        var project = TestProject.Create(
            "Command",
            """
                <ContainerImageTag>v1</ContainerImageTag>
                <ContainerAppCommandInstruction>None</ContainerAppCommandInstruction>
            """,
            """
                <ContainerEntrypoint Include="/bin/sh" />
                <ContainerEntrypointArgs Include="-c" />
                <ContainerDefaultArgs Include="echo hi" />
            """);

        var result = await ComputeAsync(project);

        CollectionAssert.AreEqual(new[] { "v1" }, result.ItemIdentities("ContainerImageTags").ToArray());
        CollectionAssert.AreEqual(new[] { "/bin/sh", "-c" }, result.ItemIdentities("_ContainerResolvedEntrypoint").ToArray());
        CollectionAssert.AreEqual(new[] { "echo hi" }, result.ItemIdentities("_ContainerResolvedCmd").ToArray());
    }

    [TestMethod]
    public async Task Self_contained_app_runs_its_own_executable_and_visual_studio_names_are_honoured()
    {
        var project = TestProject.Create(
            "SelfContained",
            """
                <SelfContained>true</SelfContained>
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <ContainerImageFormat>Docker</ContainerImageFormat>
            """,
            """
                <ContainerAppCommand Include="/app/SelfContained" />
                <ContainerAppCommandArgs Include="--mode=container" />
            """);

        var result = await ComputeAsync(project, "RegistryUrl=127.0.0.1:5000", "PublishImageTag=from-vs");

        Assert.AreEqual("mcr.microsoft.com/dotnet/runtime-deps:10.0", result.Property("ContainerBaseImage"));
        Assert.AreEqual("127.0.0.1:5000", result.Property("ContainerRegistry"));
        CollectionAssert.AreEqual(new[] { "from-vs" }, result.ItemIdentities("ContainerImageTags").ToArray());
        CollectionAssert.AreEqual(new[] { "/app/SelfContained", "--mode=container" }, result.ItemIdentities("_ContainerResolvedEntrypoint").ToArray());
        Assert.AreEqual("Docker", result.Property("_ContainerResolvedImageFormat"));
        Assert.AreEqual("linux-x64", result.Property("ContainerRuntimeIdentifier"));
    }
}
