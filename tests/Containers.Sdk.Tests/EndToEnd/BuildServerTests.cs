using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// The Containers.Sdk build server (docs/build-server.md): the first publish starts it, the next ones run in it with
/// their own environment, and give the same image, log and outputs as a publish in the build's own process.
/// </summary>
public sealed partial class PublishContainerTests
{
    // The outputs of both tasks: ComputeContainerConfig's resolved settings and PublishContainerImage's results.
    private static readonly string[] OutputQueries =
    [
        "-getProperty:ContainerBaseImage", "-getProperty:ContainerRepository", "-getProperty:ContainerUser", "-getProperty:ContainerWorkingDirectory",
        "-getProperty:ContainerRuntimeIdentifier", "-getItem:ContainerImageTags", "-getItem:ContainerEnvironmentVariables",
        "-getProperty:GeneratedContainerDigest", "-getProperty:GeneratedContainerMediaType", "-getItem:GeneratedContainer", "-getItem:GeneratedContainerName", "-getItem:GeneratedContainerSbom",
    ];

    private Task<ToolResult> PublishWithAsync(TestProject project, IDictionary<string, string> environment, params string[] arguments) =>
        project.DotnetAsync(["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", .. arguments], environment, TestContext.CancellationToken);

    [TestMethod]
    public async Task After_the_first_publish_the_build_server_publishes_the_same_image_with_the_same_log_and_outputs()
    {
        using var scope = new BuildServerScope(idleSeconds: 120);
        var project = TestProject.Create(
            "ViaServer",
            $"<ContainerRegistry>{Registry.Host}</ContainerRegistry><ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerImageTags>1.0;latest</ContainerImageTags>",
            // Escaped in the project file: the evaluated value has MSBuild's special characters, which must cross as they are.
            """<ContainerLabel Include="dev.chars" Value="50%25 %40(not an item) %24(nor a property) %3B" />""");

        var first = await PublishWithAsync(project, scope.Environment, "-v:n");
        Assert.AreEqual(0, first.ExitCode, first.StandardOutput + first.StandardError);
        scope.RecordStartedServer(first);
        await scope.WaitForWarmupAsync(TestContext.CancellationToken);
        // The server started while the project compiled, so even the first container step ran in it.
        Assert.AreEqual(1, scope.Served, "the first publish's container step ran in the server its build started:\n" + scope.Log);
        var first0 = scope.Served;
        var resolved0 = scope.ResolvedInServer;
        var socketDirectory = Path.GetDirectoryName(scope.Sockets.Single())!;
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(socketDirectory), "only its user can reach the server");

        // The outputs (items with metadata, properties) of a publish in the server and of one in the build's own process.
        var viaServer = await PublishWithAsync(project, scope.Environment, OutputQueries);
        Assert.AreEqual(0, viaServer.ExitCode, viaServer.StandardOutput + viaServer.StandardError);
        Assert.AreEqual(first0 + 1, scope.Served, "the second publish ran in the server:\n" + scope.Log);
        Assert.AreEqual(resolved0 + 1, scope.ResolvedInServer, "and so did its settings resolution");
        var inProcess = await PublishWithAsync(project, new Dictionary<string, string>(scope.Environment) { ["ContainerUseBuildServer"] = "false" }, OutputQueries);
        Assert.AreEqual(0, inProcess.ExitCode, inProcess.StandardOutput + inProcess.StandardError);
        Assert.AreEqual(first0 + 1, scope.Served, "ContainerUseBuildServer=false publishes in the build's own process");
        Assert.AreEqual(resolved0 + 1, scope.ResolvedInServer);
        var serverOutputs = JsonDocument.Parse(viaServer.StandardOutput).RootElement;
        // The file times MSBuild adds to file items (the SBOM file) are when each publish wrote it.
        static string WithoutFileTimes(string json) => Regex.Replace(json, @"""(Modified|Created|Accessed)Time"": ""[^""]*""", "");
        Assert.AreEqual(WithoutFileTimes(inProcess.StandardOutput), WithoutFileTimes(viaServer.StandardOutput), "same outputs either way");
        var digest = serverOutputs.GetProperty("Properties").GetProperty("GeneratedContainerDigest").GetString();
        StringAssert.EndsWith(serverOutputs.GetProperty("Properties").GetProperty("ContainerBaseImage").GetString(), "/dotnet/runtime:10.0", "the base inferred from the project's facts (a console app), which cross as bools and ints");
        StringAssert.StartsWith(digest, "sha256:");
        Assert.AreEqual(
            await Registry.DigestAsync("viaserver:1.0", TestContext.CancellationToken),
            digest);
        var labels = JsonDocument.Parse((await Registry.InspectAsync("viaserver:latest", raw: false, TestContext.CancellationToken)).StandardOutput).RootElement.GetProperty("Labels");
        Assert.AreEqual("50% @(not an item) $(nor a property) ;", labels.GetProperty("dev.chars").GetString(), "item metadata crossed to the server unchanged");

        // Its log reaches the build as the build's own: per-layer lines, the summary, at their importance.
        var logged = await PublishWithAsync(project, scope.Environment, "-v:n");
        Assert.AreEqual(0, logged.ExitCode, logged.StandardOutput + logged.StandardError);
        Assert.AreEqual(first0 + 2, scope.Served);
        Assert.Contains($"Published {Registry.Host}/viaserver:1.0, {Registry.Host}/viaserver:latest", logged.StandardOutput);
        StringAssert.Matches(logged.StandardOutput, new Regex(@"Layer 'app' \(\d+ files\): [0-9a-f]{12}, .*unchanged \(cached\)"));
        StringAssert.Matches(logged.StandardOutput, new Regex(@"linux-x64: manifest sha256:[0-9a-f]{64}, \d+ layers"));

        // A failure in the server is the build's failure: one coded line, no stack trace, the tags left alone.
        var failed = await PublishWithAsync(project, scope.Environment, "-v:n", "-p:ContainerRegistry=127.0.0.1:1");
        Assert.AreNotEqual(0, failed.ExitCode);
        Assert.AreEqual(first0 + 3, scope.Served, "the failing publish ran in the server too:\n" + scope.Log);
        Assert.Contains("error CONTAINER8021:", failed.StandardOutput);
        Assert.DoesNotContain("   at ", failed.StandardOutput);
        Assert.Contains("ViaServer.csproj", failed.StandardOutput.Split('\n').First(l => l.Contains("error CONTAINER8021:", StringComparison.Ordinal)), "the error names the project");

        // A settings error found in the server: the same coded error, and no publish.
        var invalid = await PublishWithAsync(project, scope.Environment, "-v:n", "-p:ContainerImageTags=not:valid", "-p:RunAnalyzers=false");
        Assert.AreNotEqual(0, invalid.ExitCode);
        Assert.Contains("error CONTAINER7004:", invalid.StandardOutput);
        Assert.AreEqual(first0 + 3, scope.Served, "nothing published:\n" + scope.Log);
        StringAssert.Contains(scope.Log, "ComputeContainerConfig for " + project.ProjectFile + ": failed");
    }

    [TestMethod]
    public async Task StopContainerBuildServer_stops_the_callers_servers_and_removes_their_sockets()
    {
        using var scope = new BuildServerScope(idleSeconds: 600);
        var project = TestProject.Create("StopServer", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerOciLayoutPath>layout</ContainerOciLayoutPath>");
        var publish = await PublishWithAsync(project, scope.Environment, "-v:n");
        Assert.AreEqual(0, publish.ExitCode, publish.StandardOutput + publish.StandardError);
        scope.RecordStartedServer(publish);
        await scope.WaitForWarmupAsync(TestContext.CancellationToken);
        Assert.HasCount(1, scope.Sockets);

        var stop = await project.DotnetAsync(["msbuild", project.ProjectFile, "-t:StopContainerBuildServer", "-nologo"], scope.Environment, TestContext.CancellationToken);

        Assert.AreEqual(0, stop.ExitCode, stop.StandardOutput + stop.StandardError);
        Assert.Contains($"Stopped the Containers.Sdk build server (pid {scope.ServerProcessId}", stop.StandardOutput);
        Assert.IsEmpty(scope.Sockets, "the socket is gone");
        Assert.IsTrue(await scope.WaitForExitAsync(TimeSpan.FromSeconds(5), TestContext.CancellationToken), "the process is gone:\n" + scope.Log);
        StringAssert.Contains(scope.Log, "asked to stop: exiting");

        // Nothing left to stop: says so, and succeeds.
        var again = await project.DotnetAsync(["msbuild", project.ProjectFile, "-t:StopContainerBuildServer", "-nologo"], scope.Environment, TestContext.CancellationToken);
        Assert.AreEqual(0, again.ExitCode, again.StandardOutput + again.StandardError);
        Assert.Contains("No Containers.Sdk build server is running", again.StandardOutput);
    }

    [TestMethod]
    public async Task A_build_that_goes_away_mid_publish_has_its_publish_in_the_server_cancelled_moves_no_tag_and_frees_the_server()
    {
        using var scope = new BuildServerScope(idleSeconds: 120);
        var project = TestProject.Create(
            "GoneBuild",
            $"<ContainerRegistry>{Registry.Host}</ContainerRegistry><ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerImageTag>latest</ContainerImageTag>",
            """<None Include="payload/**" CopyToPublishDirectory="PreserveNewest" />""");
        var first = await PublishWithAsync(project, scope.Environment, "-v:n");
        Assert.AreEqual(0, first.ExitCode, first.StandardOutput + first.StandardError);
        scope.RecordStartedServer(first);
        await scope.WaitForWarmupAsync(TestContext.CancellationToken);
        var published = await Registry.DigestAsync("gonebuild:latest", TestContext.CancellationToken);
        var served = scope.Served;

        // A payload whose layer takes seconds to compress: 200 MB of base64 text.
        var payload = Directory.CreateDirectory(Path.Combine(project.Directory, "payload")).FullName;
        var random = new Random(17);
        var bytes = new byte[3 * 1024 * 1024];
        await using (var text = new StreamWriter(Path.Combine(payload, "payload.txt")))
        {
            for (var i = 0; i < 50; i++)
            {
                random.NextBytes(bytes);
                await text.WriteLineAsync(Convert.ToBase64String(bytes));
            }
        }

        // The build is killed (a closed terminal, a CI job cancelled) while the server writes its layers.
        var building = Regex.Matches(scope.Log, "Building image").Count;
        using var goAway = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        var publishing = project.DotnetAsync(["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-v:n"], scope.Environment, goAway.Token);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Regex.Matches(scope.Log, "Building image").Count == building)
        {
            Assert.IsFalse(publishing.IsCompleted, "the publish ended before the server began it:\n" + (publishing.IsCompletedSuccessfully ? publishing.Result.StandardOutput : "") + scope.Log);
            Assert.IsLessThan(180, waited.Elapsed.TotalSeconds, "the server begins the publish:\n" + scope.Log);
            await Task.Delay(50, TestContext.CancellationToken);
        }

        await goAway.CancelAsync();
        await Assert.ThrowsAsync<OperationCanceledException>(() => publishing);

        // The server notices that its build is gone, ends that publish, and leaves the tag where it was.
        waited.Restart();
        while (scope.Served == served)
        {
            Assert.IsLessThan(30, waited.Elapsed.TotalSeconds, "the server ends the publish of a build that went away:\n" + scope.Log);
            await Task.Delay(100, TestContext.CancellationToken);
        }

        StringAssert.Contains(scope.Log, $"PublishContainerImage for {project.ProjectFile}: failed", "cancelled, not completed:\n" + scope.Log);
        Assert.AreEqual(published, await Registry.DigestAsync("gonebuild:latest", TestContext.CancellationToken), "no tag moved");

        // And it is free for the next build, which publishes the payload.
        var next = await PublishWithAsync(project, scope.Environment, "-v:n");
        Assert.AreEqual(0, next.ExitCode, next.StandardOutput + next.StandardError);
        Assert.AreEqual(served + 2, scope.Served, "the next publish ran in the same server:\n" + scope.Log);
        Assert.AreNotEqual(published, await Registry.DigestAsync("gonebuild:latest", TestContext.CancellationToken));
    }
}
