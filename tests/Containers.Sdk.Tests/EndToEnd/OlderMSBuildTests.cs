using System.Security;
using System.Text;
using System.Text.RegularExpressions;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// The package in the MSBuild of older SDKs (docs/msbuild.md, "SDK 8 and 9"). Only SDK 10 is installed here, so
/// tests/compat/MSBuildHost stands in for the older SDKs' `dotnet` CLI: MSBuild 17.11 (the engine of SDK 8.0.4xx)
/// running on the .NET 8 or 9 runtime pack, in process, building a project that imports the packed package's
/// props and targets. SDK 10 compiles and publishes the app first; the project the old MSBuild builds carries the
/// facts the SDK's targets computed for it (target framework, publish directory, assets file ...), so the
/// container step alone runs on the old engine and runtime, in the build and in the build server.
/// </summary>
public sealed partial class PublishContainerTests
{
    // The SDK's properties the package's targets read (build/Containers.Sdk.targets), as SDK 10 computed them.
    private static readonly string[] SdkFacts =
    [
        "TargetFramework", "TargetFrameworkIdentifier", "_TargetFrameworkVersionWithoutV", "AssemblyName", "TargetFileName", "OutputType",
        "OutputPath", "IntermediateOutputPath", "PublishDir", "ProjectAssetsFile", "NuGetPackageFolders", "NuGetPackageRoot",
        "NETCoreSdkVersion", "NETCoreSdkPortableRuntimeIdentifier", "EnableSdkContainerSupport", "IsPublishable", "RuntimeIdentifier",
        "RuntimeIdentifiers", "SelfContained", "PublishSelfContained", "PublishAot", "PublishTrimmed", "InvariantGlobalization", "IsRidAgnostic",
        "Version", "PackageVersion", "Authors", "Description", "Title", "PackageProjectUrl", "PackageLicenseExpression",
        "PublishRepositoryUrl", "PrivateRepositoryUrl", "RepositoryType", "SourceRevisionId",
    ];

    [TestMethod]
    [DataRow("net8.0", "8.0.")]
    [DataRow("net9.0", "9.0.")]
    public async Task MSBuild_17_11_on_the_runtime_of_SDK_8_and_9_runs_the_tasks_and_the_build_server(string hostFramework, string runtimeVersionPrefix)
    {
        var host = await PublishOlderMSBuildAsync(hostFramework);
        var name = "OlderMSBuild" + hostFramework.Replace(".", "", StringComparison.Ordinal);
        var project = TestProject.Create(name);
        var settings = new[] { $"-p:ContainerRegistry={Registry.Host}", $"-p:ContainerBaseRegistry={Registry.Host}" };
        string[] outputs = ["-getProperty:GeneratedContainerDigest", "-getProperty:GeneratedArchiveOutputPath", "-getItem:GeneratedContainer"];

        var sdk10 = await project.DotnetAsync(
            ["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-p:ContainerImageTag=sdk10", .. settings, .. outputs,
             .. SdkFacts.Select(fact => "-getProperty:" + fact), "-getItem:IntermediateAssembly", "-getItem:FrameworkReference"],
            cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, sdk10.ExitCode, sdk10.StandardOutput + sdk10.StandardError);
        var sdk10Result = EvaluationResult.Parse(sdk10.StandardOutput);
        var digest = sdk10Result.Property("GeneratedContainerDigest");
        var configDigest = sdk10Result.Items("GeneratedContainer").Single()["ConfigDigest"];
        StringAssert.StartsWith(digest, "sha256:");
        var olderProject = WriteOlderMSBuildProject(project, sdk10Result);

        // In the build's own process, with the layer cache SDK 10's publish filled: the same image, byte for byte.
        var inProcess = await RunOlderMSBuildAsync(host, olderProject, "inprocess", new Dictionary<string, string>(), settings, outputs);
        StringAssert.Contains(inProcess.Log, $"MSBuildHost: .NET {runtimeVersionPrefix}", "the tasks ran on the older runtime");
        StringAssert.Contains(inProcess.Log, "MSBuild 17.11.", "in the older MSBuild");
        Assert.AreEqual(digest, inProcess.Result.Property("GeneratedContainerDigest"), "the same image as SDK 10's:\n" + inProcess.Log);
        Assert.Contains($"Published {Registry.Host}/{name.ToLowerInvariant()}:inprocess", inProcess.Log);
        Assert.AreEqual(digest, await Registry.DigestAsync($"{name.ToLowerInvariant()}:inprocess", TestContext.CancellationToken));

        // With an empty layer cache the older runtime compresses the layers itself: its gzip (the system's zlib on .NET 8,
        // another zlib-ng than .NET 10's on .NET 9) may give other blob bytes, but the image config, which names every
        // layer by its uncompressed digest, is the same.
        var freshCache = new Dictionary<string, string> { ["ContainerLayerCacheDirectory"] = PackageFeed.NewWorkDirectory("older-cache") };
        var rebuilt = await RunOlderMSBuildAsync(host, olderProject, "rebuilt", freshCache, settings, outputs);
        StringAssert.Matches(rebuilt.Log, new Regex(@"Layer 'app' \(\d+ files\): [0-9a-f]{12}, [0-9.]+ KiB, built in"), "the layer was built, not taken from a cache");
        Assert.AreEqual(configDigest, rebuilt.Result.Items("GeneratedContainer").Single()["ConfigDigest"], "the same config and uncompressed layers:\n" + rebuilt.Log);
        Assert.AreEqual(rebuilt.Result.Property("GeneratedContainerDigest"), await Registry.DigestAsync($"{name.ToLowerInvariant()}:rebuilt", TestContext.CancellationToken));

        // The build server, started as the older SDK's CLI would start it: on the runtime MSBuild runs on.
        using var scope = new BuildServerScope(idleSeconds: 60);
        var first = await RunOlderMSBuildAsync(host, olderProject, "server1", scope.Environment, settings, outputs);
        scope.RecordStartedServer(new ToolResult(0, first.Log, ""));
        await scope.WaitForWarmupAsync(TestContext.CancellationToken);
        StringAssert.Contains(scope.Log, $"(pid {scope.ServerProcessId}, .NET {runtimeVersionPrefix}", "the server runs on the build's runtime:\n" + scope.Log);
        var served = scope.Served;
        var viaServer = await RunOlderMSBuildAsync(host, olderProject, "server2", scope.Environment, settings, outputs);
        Assert.AreEqual(served + 1, scope.Served, "the publish ran in the server:\n" + scope.Log);
        Assert.AreEqual(digest, first.Result.Property("GeneratedContainerDigest"), first.Log);
        Assert.AreEqual(digest, viaServer.Result.Property("GeneratedContainerDigest"), "the server built the same image:\n" + viaServer.Log);
        Assert.Contains($"Published {Registry.Host}/{name.ToLowerInvariant()}:server2", viaServer.Log, "the server's log reached the build");
        Assert.AreEqual(digest, await Registry.DigestAsync($"{name.ToLowerInvariant()}:server2", TestContext.CancellationToken));

        // A docker-archive tarball holds the layers uncompressed: written on the older runtime (its layers compressed
        // there too, from an empty cache), it is the same file as SDK 10's, byte for byte. Last: the tag is a setting the
        // source generator compiles into the app, so this SDK 10 publish compiles another app.
        var sdk10Archive = Path.Combine(project.Directory, "sdk10.tar");
        var sdk10Archived = await project.DotnetAsync(
            ["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-p:ContainerImageTag=archived", .. settings, $"-p:ContainerArchiveOutputPath={sdk10Archive}"],
            cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, sdk10Archived.ExitCode, sdk10Archived.StandardOutput + sdk10Archived.StandardError);
        var olderArchive = Path.Combine(project.Directory, "older.tar");
        var archiveCache = new Dictionary<string, string> { ["ContainerLayerCacheDirectory"] = PackageFeed.NewWorkDirectory("older-cache") };
        var archived = await RunOlderMSBuildAsync(host, olderProject, "archived", archiveCache, [.. settings, $"-p:ContainerArchiveOutputPath={olderArchive}"], outputs);
        Assert.AreEqual(olderArchive, archived.Result.Property("GeneratedArchiveOutputPath"), archived.Log);
        Assert.AreEqual(Sha256Of(sdk10Archive), Sha256Of(olderArchive), "the same archive as SDK 10's");
    }

    private static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(file));
    }

    // Publishes tests/compat/MSBuildHost for one framework into a work directory (outside the repository, so the
    // repository's build settings stay out of it) and returns the host executable.
    private async Task<string> PublishOlderMSBuildAsync(string framework)
    {
        var directory = PackageFeed.NewWorkDirectory("msbuild-host");
        foreach (var file in Directory.GetFiles(Path.Combine(PackageFeed.RepositoryRoot, "tests", "compat", "MSBuildHost")))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        // The machine's package folder: the runtime and MSBuild packages are large and the same in every run.
        var environment = DotnetEnvironment.WithMachinePackageFolder();
        var output = Path.Combine(directory, "out");
        await TestTools.RunCheckedAsync("dotnet", ["publish", "MSBuildHost.csproj", "-f", framework, "-o", output, "-nologo", "-v:q"], directory, environment, TestContext.CancellationToken);
        return Path.Combine(output, "MSBuildHost");
    }

    // The project the older MSBuild builds: SDK 10's facts about the app, the package's props and targets, and a
    // Publish (and CoreCompile) with nothing left to do, since SDK 10 has compiled and published the app already.
    private static string WriteOlderMSBuildProject(TestProject project, EvaluationResult sdk10)
    {
        static string Escape(string value) =>
            SecurityElement.Escape(value.Replace("%", "%25", StringComparison.Ordinal).Replace("$", "%24", StringComparison.Ordinal).Replace("@", "%40", StringComparison.Ordinal));

        var facts = new StringBuilder();
        foreach (var fact in SdkFacts)
        {
            facts.AppendLine($"    <{fact}>{Escape(sdk10.Property(fact))}</{fact}>");
        }

        var items = new StringBuilder();
        foreach (var itemType in new[] { "IntermediateAssembly", "FrameworkReference" })
        {
            foreach (var identity in sdk10.ItemIdentities(itemType))
            {
                items.AppendLine($"    <{itemType} Include=\"{Escape(identity)}\" />");
            }
        }

        var build = Path.Combine(PackageFeed.PackagesDirectory, "containers.sdk", PackageFeed.PackageVersion.ToLowerInvariant(), "build");
        var path = Path.Combine(project.Directory, project.Name + ".older.proj");
        File.WriteAllText(path, $"""
            <Project>
              <PropertyGroup>
            {facts}  </PropertyGroup>
              <ItemGroup>
            {items}  </ItemGroup>
              <Import Project="{Path.Combine(build, "Containers.Sdk.props")}" />
              <Import Project="{Path.Combine(build, "Containers.Sdk.targets")}" />
              <Target Name="CoreCompile" />
              <Target Name="Publish" />
            </Project>
            """);
        return path;
    }

    // `dotnet publish -t:PublishContainer` as the older SDK's CLI runs it: _IsPublishing set, CoreCompile (which the
    // build server's start hooks) then PublishContainer, in one build.
    private async Task<(string Log, EvaluationResult Result)> RunOlderMSBuildAsync(
        string host, string project, string tag, IDictionary<string, string> environment, string[] settings, string[] outputs)
    {
        var outputsFile = Path.Combine(Path.GetDirectoryName(project)!, $"outputs-{tag}.json");
        var result = await TestTools.RunAsync(
            host,
            [project, "-t:CoreCompile;PublishContainer", "-v:n", "-p:_IsPublishing=true", $"-p:ContainerImageTag={tag}", .. settings, .. outputs, $"-outputs:{outputsFile}"],
            Path.GetDirectoryName(project)!,
            DotnetEnvironment.With(environment),
            TestContext.CancellationToken);
        Assert.AreEqual(0, result.ExitCode, $"the older MSBuild's build failed:\n{result.StandardOutput}\n{result.StandardError}");
        return (result.StandardOutput, EvaluationResult.Parse(File.ReadAllText(outputsFile)));
    }
}
