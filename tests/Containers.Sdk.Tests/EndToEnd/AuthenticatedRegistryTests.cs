using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// Publishing to a registry that wants htpasswd Basic auth, with the credential environment variables
/// of the SDK's built-in support.
/// </summary>
[TestClass]
public sealed class AuthenticatedRegistryTests
{
    private static RegistryFixture? s_registry;

    public TestContext TestContext { get; set; } = null!;

    private static RegistryFixture Registry => s_registry ?? throw new InvalidOperationException("registry not started");

    [ClassInitialize]
    public static async Task StartRegistryAsync(TestContext context) =>
        s_registry = await RegistryFixture.StartAsync(context.CancellationToken, RegistryAuthMode.Basic, onlyRuntime: true);

    [ClassCleanup]
    public static async Task StopRegistryAsync()
    {
        if (s_registry is not null)
        {
            await s_registry.DisposeAsync();
        }
    }

    private async Task<ToolResult> PublishAsync(string name, string password, IDictionary<string, string>? environment = null)
    {
        var project = TestProject.Create(name, $"<ContainerRegistry>{Registry.Host}</ContainerRegistry><ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry>");
        return await project.DotnetAsync(
            ["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-v:n"],
            new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
            {
                ["DOTNET_CONTAINER_REGISTRY_UNAME"] = Registry.Registry.Username,
                ["DOTNET_CONTAINER_REGISTRY_PWORD"] = password,
                // No docker or podman credential files of the machine may answer instead.
                ["HOME"] = project.Directory,
                ["DOCKER_CONFIG"] = Path.Combine(project.Directory, ".docker"),
                ["REGISTRY_AUTH_FILE"] = Path.Combine(project.Directory, "auth.json"),
            },
            TestContext.CancellationToken);
    }

    [TestMethod]
    public async Task Credentials_from_the_sdk_environment_variables_push_the_image()
    {
        var result = await PublishAsync("AuthOk", Registry.Registry.Password);

        Assert.AreEqual(0, result.ExitCode, result.StandardOutput + result.StandardError);
        Assert.Contains($"Published {Registry.Host}/authok:latest", result.StandardOutput);
    }

    [TestMethod]
    public async Task Wrong_password_fails_with_a_coded_error_naming_the_registry_and_no_secret()
    {
        var result = await PublishAsync("AuthBad", "definitely-wrong-password");

        var output = result.StandardOutput + result.StandardError;
        Assert.AreNotEqual(0, result.ExitCode, output);
        Assert.Contains("error CONTAINER8020:", output);
        Assert.Contains(Registry.Host, output);
        Assert.DoesNotContain("definitely-wrong-password", output);
        Assert.DoesNotContain("   at ", output);
    }

    [TestMethod]
    public async Task The_build_server_publishes_with_each_builds_own_credentials_and_exits_when_idle()
    {
        using var server = new BuildServerScope(idleSeconds: 20);

        // Started by a publish whose password is wrong: the server must not keep that build's environment.
        var started = await PublishAsync("ServerAuthStart", "definitely-wrong-password", server.Environment);
        Assert.AreNotEqual(0, started.ExitCode, started.StandardOutput);
        server.RecordStartedServer(started);
        await server.WaitForWarmupAsync(TestContext.CancellationToken);
        var served = server.Served;

        var good = await PublishAsync("ServerAuthGood", Registry.Registry.Password, server.Environment);
        Assert.AreEqual(0, good.ExitCode, good.StandardOutput + good.StandardError + "\n" + server.Log);
        Assert.Contains($"Published {Registry.Host}/serverauthgood:latest", good.StandardOutput);
        Assert.AreEqual(served + 1, server.Served, "published in the server with this build's credentials:\n" + server.Log);

        var bad = await PublishAsync("ServerAuthBad", "definitely-wrong-password", server.Environment);
        var output = bad.StandardOutput + bad.StandardError;
        Assert.AreNotEqual(0, bad.ExitCode, output);
        Assert.AreEqual(served + 2, server.Served, "and the next build's wrong ones fail there:\n" + server.Log);
        Assert.Contains("error CONTAINER8020:", output);
        Assert.DoesNotContain("definitely-wrong-password", output);
        Assert.DoesNotContain("   at ", output);

        Assert.IsTrue(await server.WaitForExitAsync(TimeSpan.FromSeconds(90), TestContext.CancellationToken), "the server exits after 20 s without work:\n" + server.Log);
        Assert.IsEmpty(server.Sockets, "and removes its socket:\n" + server.Log);
        StringAssert.Contains(server.Log, "idle: exiting");
    }
}
