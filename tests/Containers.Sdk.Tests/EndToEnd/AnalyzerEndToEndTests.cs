using System.Text.Json;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// The packed package's source generator and analyzers in real builds: `dotnet build` (no publish)
/// reports bad container settings, and settings declared in code with the attributes reach the
/// published image config.
/// </summary>
public sealed partial class PublishContainerTests
{
    [TestMethod]
    public async Task Dotnet_build_warns_about_every_bad_msbuild_setting_and_a_Kestrel_port_mismatch_in_one_build()
    {
        var project = TestProject.Create(
            "BadSettings",
            """
                <ContainerRepository>Team/BadSettings</ContainerRepository>
                <ContainerImageTags>1.0+build;latest</ContainerImageTags>
                <ContainerUser>root</ContainerUser>
            """,
            // The only port is invalid: the Kestrel mismatch must still be reported in the same build.
            """
                <ContainerPort Include="70000" />
                <ContainerEnvironmentVariable Include="Logging:LogLevel" Value="Debug" />
                <ContainerEnvironmentVariable Include="ASPNETCORE_URLS" Value="http://+:8080;http://+:6000" />
            """,
            sdk: "Microsoft.NET.Sdk.Web",
            program: """
                var app = WebApplication.Create(args);
                app.MapGet("/", () => "hi");
                app.Run("http://0.0.0.0:5005");
                """);

        var build = await project.DotnetAsync(["build", project.ProjectFile, "-nologo", "-v:q", "-p:TreatWarningsAsErrors=false"], cancellationToken: TestContext.CancellationToken);
        var output = build.StandardOutput + build.StandardError;
        TestContext.WriteLine(output);

        // Settings only matter when publishing: the build (and so dotnet run and dotnet test) goes on.
        Assert.AreEqual(0, build.ExitCode, "bad container settings are warnings at build");
        Assert.DoesNotContain("error CSDK", output);
        Assert.Contains("warning CSDK1009: ContainerRepository 'Team/BadSettings' is not a valid repository name: repository 'Team/BadSettings' contains uppercase letter 'T'", output);
        Assert.Contains("Publishing fails on it (CONTAINER7000).", output);
        Assert.Contains("warning CSDK1010: ContainerImageTags has invalid tag '1.0+build'", output);
        Assert.Contains("warning CSDK1001: ContainerPort item: container port 70000 is outside 1 to 65535", output);
        Assert.Contains("warning CSDK1004: ContainerEnvironmentVariable item: container environment variable name 'Logging:LogLevel' is not valid", output);
        Assert.Contains("warning CSDK1005: ContainerUser 'root' makes the container run as root", output);
        Assert.Contains("warning CSDK1006: ContainerEnvironmentVariable 'ASPNETCORE_URLS' makes the app listen on port 6000", output);
        // The Kestrel mismatch is reported in code, at the URL, next to the invalid port rather than after its fix.
        StringAssert.Matches(output, new System.Text.RegularExpressions.Regex(@"Program\.cs\(3,9\): warning CSDK1006: The app listens on port 5005"));
        Assert.DoesNotContain("   at ", output, "no stack trace");

        // TreatWarningsAsErrors makes them errors, as for any compiler warning (a rebuild: the switch alone does not make the compiler run again).
        var strict = await project.DotnetAsync(["build", project.ProjectFile, "--no-incremental", "-nologo", "-v:q", "-p:TreatWarningsAsErrors=true"], cancellationToken: TestContext.CancellationToken);
        var strictOutput = strict.StandardOutput + strict.StandardError;
        Assert.AreNotEqual(0, strict.ExitCode, strictOutput);
        Assert.Contains("error CSDK1009: ContainerRepository 'Team/BadSettings'", strictOutput);
    }

    [TestMethod]
    public async Task Settings_declared_with_attributes_reach_the_published_image_config()
    {
        var project = TestProject.Create(
            "CodeSettings",
            $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry>",
            """<ContainerEnvironmentVariable Include="FROM_MSBUILD" Value="item;value" />""",
            program: """
                using Containers.Sdk;

                [assembly: ContainerPort(5005)]
                [assembly: ContainerEnvironment("GREETING", "hello; from code")]
                [assembly: ContainerUser("1654")]
                [assembly: ContainerWorkingDirectory("/srv/app/")]
                [assembly: ContainerHealthCheck("/healthz", Port = 5005, IntervalSeconds = 10)]

                // The typed API the generator emits, merged with the MSBuild items.
                System.Console.WriteLine($"{ContainerSettings.Ports[0].Port} {ContainerSettings.Environment["GREETING"]} {ContainerSettings.Environment["FROM_MSBUILD"]} {ContainerSettings.User}");
                """);

        await PublishCheckedAsync(project, "ContainerOciLayoutPath=layout");

        var config = JsonDocument.Parse((await TestTools.RunCheckedAsync(
            "skopeo", ["inspect", "--config", $"oci:{Path.Combine(project.Directory, "layout")}:latest"], cancellationToken: TestContext.CancellationToken)).StandardOutput).RootElement.GetProperty("config");
        Assert.IsTrue(config.GetProperty("ExposedPorts").TryGetProperty("5005/tcp", out _), config.ToString());
        var environment = config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()).ToList();
        CollectionAssert.Contains(environment, "GREETING=hello; from code");
        CollectionAssert.Contains(environment, "FROM_MSBUILD=item;value");
        Assert.AreEqual("1654", config.GetProperty("User").GetString());
        Assert.AreEqual("/srv/app/", config.GetProperty("WorkingDir").GetString());
        Assert.AreEqual(
            """{"intervalSeconds":10,"path":"/healthz","port":5005,"retries":3,"timeoutSeconds":5}""",
            config.GetProperty("Labels").GetProperty("dev.containers-sdk.health-check").GetString());

        // The base image's manifest digest is labelled (org.opencontainers.image.base.digest) and agrees with
        // the manifest's own base annotation.
        var layoutRef = $"oci:{Path.Combine(project.Directory, "layout")}:latest";
        var baseDigest = config.GetProperty("Labels").GetProperty("org.opencontainers.image.base.digest").GetString()!;
        StringAssert.Matches(baseDigest, new System.Text.RegularExpressions.Regex("^sha256:[0-9a-f]{64}$"));
        var manifest = JsonDocument.Parse((await TestTools.RunCheckedAsync("skopeo", ["inspect", "--raw", layoutRef], cancellationToken: TestContext.CancellationToken)).StandardOutput).RootElement;
        Assert.AreEqual(baseDigest, manifest.GetProperty("annotations").GetProperty("org.opencontainers.image.base.digest").GetString());

        // The app itself sees the same merged settings through the generated API.
        var run = await project.DotnetAsync(["run", "--project", project.ProjectFile, "--no-build", "-c", "Release"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("5005 hello; from code item;value 1654", run.StandardOutput.Trim(), run.StandardError);
    }
}
