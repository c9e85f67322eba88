using System.Diagnostics;
using System.Text.Json;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// `dotnet publish -t:PublishContainer` of projects outside the repository that reference the packed
/// package, to a real local registry, a tarball and an OCI layout; the results are checked with skopeo,
/// podman and umoci + runc, never with our own reader.
/// </summary>
[TestClass]
public sealed partial class PublishContainerTests
{
    private static RegistryFixture? s_registry;

    public TestContext TestContext { get; set; } = null!;

    private static RegistryFixture Registry => s_registry ?? throw new InvalidOperationException("registry not started");

    [ClassInitialize]
    public static async Task StartRegistryAsync(TestContext context) =>
        s_registry = await RegistryFixture.StartAsync(context.CancellationToken);

    [ClassCleanup]
    public static async Task StopRegistryAsync()
    {
        if (s_registry is not null)
        {
            await s_registry.DisposeAsync();
        }
    }

    private async Task<ToolResult> PublishAsync(TestProject project, params string[] properties)
    {
        var arguments = new List<string> { "publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-v:n" };
        arguments.AddRange(properties.Select(p => "-p:" + p));
        var started = Stopwatch.StartNew();
        var result = await project.DotnetAsync(arguments, cancellationToken: TestContext.CancellationToken);
        TestContext.WriteLine($"dotnet publish {project.Name} {string.Join(' ', properties)}: exit {result.ExitCode} in {started.Elapsed.TotalSeconds:F1} s");
        return result;
    }

    private async Task<ToolResult> PublishCheckedAsync(TestProject project, params string[] properties)
    {
        var result = await PublishAsync(project, properties);
        if (result.ExitCode != 0)
        {
            Assert.Fail($"dotnet publish failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
        }

        Assert.DoesNotContain("   at ", result.StandardOutput, "no stack trace in a successful publish");
        return result;
    }

    [TestMethod]
    public async Task Console_app_pushed_to_the_registry_runs_under_runc()
    {
        RuncRunner.RequireRunc();
        var project = TestProject.Create(
            "HelloRunc",
            $"<ContainerRegistry>{Registry.Host}</ContainerRegistry><ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerImageTags>1.0.0;latest</ContainerImageTags>",
            """<ContainerAppCommandArgs Include="from-args" />""",
            program: """System.Console.WriteLine($"hello from the container {string.Join(' ', args)}");""");

        var publish = await PublishCheckedAsync(project);

        Assert.Contains($"Published {Registry.Host}/hellorunc:1.0.0", publish.StandardOutput);
        Assert.Contains("uploaded", publish.StandardOutput);
        var inspect = JsonDocument.Parse((await Registry.InspectAsync("hellorunc:1.0.0", raw: false, TestContext.CancellationToken)).StandardOutput).RootElement;
        var baseLayers = JsonDocument.Parse((await Registry.InspectAsync("dotnet/runtime:10.0", raw: false, TestContext.CancellationToken)).StandardOutput).RootElement.GetProperty("Layers").GetArrayLength();
        Assert.IsGreaterThan(baseLayers, inspect.GetProperty("Layers").GetArrayLength(), "the app adds layers on top of the base");
        Assert.AreEqual(
            inspect.GetProperty("Digest").GetString(),
            await Registry.DigestAsync("hellorunc:latest", TestContext.CancellationToken),
            "both tags name one manifest");

        var layout = await Registry.CopyToLayoutAsync("hellorunc:1.0.0", project.Directory, TestContext.CancellationToken);
        var bundle = await RuncRunner.UnpackAsync(layout, "image", project.Directory, TestContext.CancellationToken);
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/HelloRunc.dll", "from-args" }, RuncRunner.ProcessArguments(bundle).ToArray());
        var run = await RuncRunner.RunToCompletionAsync(bundle, TestContext.CancellationToken);

        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        Assert.Contains("hello from the container from-args", run.StandardOutput);

        var republish = await PublishCheckedAsync(project);
        Assert.Contains(inspect.GetProperty("Digest").GetString()!, republish.StandardOutput, "an unchanged project gives the same image");
        Assert.Contains("uploaded 0 B", republish.StandardOutput, "nothing is uploaded again");

        // Another tag names the same image: tags say where an image goes, not what is in it.
        var retagged = await PublishCheckedAsync(project, "ContainerImageTags=", "ContainerImageTag=2.0.0");
        Assert.Contains($"Published {Registry.Host}/hellorunc:2.0.0", retagged.StandardOutput);
        Assert.AreEqual(inspect.GetProperty("Digest").GetString(), await Registry.DigestAsync("hellorunc:2.0.0", TestContext.CancellationToken), "a new tag, the same image");
        Assert.Contains("uploaded 0 B", retagged.StandardOutput, "and nothing uploaded but the tag");
    }

    [TestMethod]
    [DataRow("Microsoft.NET.Sdk")]
    [DataRow("Microsoft.NET.Sdk.Web")]
    public async Task DefaultContainer_publish_profile_publishes_the_image(string sdk)
    {
        var repository = "profile-" + (sdk.EndsWith("Web", StringComparison.Ordinal) ? "web" : "console");
        var project = TestProject.Create(
            "Profile",
            $"<ContainerRegistry>{Registry.Host}</ContainerRegistry><ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerRepository>{repository}</ContainerRepository>",
            sdk: sdk,
            program: sdk.EndsWith("Web", StringComparison.Ordinal) ? "WebApplication.Create(args).Run();" : "System.Console.WriteLine(\"profile\");");

        var result = await project.DotnetAsync(["publish", project.ProjectFile, "-nologo", "-p:PublishProfile=DefaultContainer"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(0, result.ExitCode, result.StandardOutput + result.StandardError);
        Assert.Contains($"Published {Registry.Host}/{repository}:latest", result.StandardOutput);
        Assert.AreEqual(1, CountLines(result.StandardOutput, "Published "), "the image is built once");
        await Registry.InspectAsync(repository + ":latest", raw: true, TestContext.CancellationToken);
    }

    [TestMethod]
    public async Task Without_registry_or_container_cli_the_image_goes_to_an_oci_layout_under_the_output()
    {
        var project = TestProject.Create("NoCli", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry>");
        // PATH with nothing but the dotnet host: no docker, no podman.
        var dotnetDirectory = Path.GetDirectoryName(TestTools.FindOnPath("dotnet") ?? throw new InvalidOperationException("dotnet not on PATH"))!;
        var onlyDotnet = Directory.CreateDirectory(Path.Combine(project.Directory, "path-with-only-dotnet")).FullName;
        File.CreateSymbolicLink(Path.Combine(onlyDotnet, "dotnet"), Path.Combine(Path.GetFullPath(dotnetDirectory), "dotnet"));

        var result = await project.DotnetAsync(
            ["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-getProperty:GeneratedOciLayoutPath", "-getProperty:GeneratedContainerDigest", "-getItem:GeneratedContainer", "-getItem:ContainerImageReference"],
            new Dictionary<string, string> { ["PATH"] = onlyDotnet },
            TestContext.CancellationToken);

        Assert.AreEqual(0, result.ExitCode, result.StandardOutput + result.StandardError);
        var outputs = EvaluationResult.Parse(result.StandardOutput);
        var layout = outputs.Property("GeneratedOciLayoutPath");
        Assert.AreEqual(Path.Combine(project.Directory, "bin", "Release", "net10.0", "container"), layout.TrimEnd(Path.DirectorySeparatorChar));
        var container = outputs.Items("GeneratedContainer").Single();
        Assert.AreEqual(outputs.Property("GeneratedContainerDigest"), container["ManifestDigest"]);
        Assert.StartsWith("sha256:", container["ConfigDigest"]);
        Assert.Contains("\"layers\"", container["Manifest"]);
        Assert.Contains("\"Entrypoint\"", container["Configuration"]);
        // A layout keeps no name with a digest: the reference is the one tools read it by, the digest rides along.
        var reference = outputs.Items("ContainerImageReference").Single();
        Assert.AreEqual($"oci:{layout.TrimEnd(Path.DirectorySeparatorChar)}:latest", reference["Identity"]);
        Assert.AreEqual(container["ManifestDigest"], reference["Digest"]);
        Assert.AreEqual("false", reference["IsDigestPinned"]);
        Assert.AreEqual("OciLayout", reference["DestinationKind"]);
        var inspect = await TestTools.RunCheckedAsync("skopeo", ["inspect", $"oci:{layout}:latest"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(container["ManifestDigest"], JsonDocument.Parse(inspect.StandardOutput).RootElement.GetProperty("Digest").GetString());
    }

    [TestMethod]
    public async Task Without_a_destination_a_docker_client_without_daemon_is_passed_over_for_podman_but_an_explicit_docker_fails()
    {
        var podman = TestTools.Require("podman", "podman");
        if (TestTools.FindOnPath("docker") is null || (await TestTools.RunAsync("docker", ["version", "--format", "{{.Server.Version}}"], cancellationToken: TestContext.CancellationToken)).ExitCode == 0)
        {
            Assert.Inconclusive("This test needs a docker client whose daemon does not run (as on this project's CI machines).");
        }

        var repository = "fallback-" + Guid.NewGuid().ToString("N")[..8];
        var project = TestProject.Create("Fallback", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerRepository>{repository}</ContainerRepository>");

        var publish = await PublishCheckedAsync(project);
        try
        {
            Assert.AreEqual(1, CountLines(publish.StandardOutput, "No destination is set: docker (no daemon: "), publish.StandardOutput);
            Assert.Contains("does not answer; loading into podman", publish.StandardOutput);
            Assert.Contains("To choose, set LocalRegistry=docker or LocalRegistry=podman", publish.StandardOutput);
            var images = await TestTools.RunCheckedAsync(podman, ["images", "--format", "{{.Repository}}:{{.Tag}}"], cancellationToken: TestContext.CancellationToken);
            Assert.Contains($"localhost/{repository}:latest", images.StandardOutput);
        }
        finally
        {
            await TestTools.RunAsync(podman, ["rmi", "--force", $"localhost/{repository}:latest"], cancellationToken: CancellationToken.None);
        }

        var explicitDocker = await PublishAsync(project, "LocalRegistry=docker");
        Assert.AreNotEqual(0, explicitDocker.ExitCode);
        Assert.Contains("error CONTAINER8010: LocalRegistry is 'docker' but the docker engine is not running", explicitDocker.StandardOutput);
        Assert.Contains("LocalRegistry=podman", explicitDocker.StandardOutput);
        Assert.DoesNotContain("   at ", explicitDocker.StandardOutput);
    }

    [TestMethod]
    public async Task ContainerLayer_items_carve_their_own_layer()
    {
        var project = TestProject.Create(
            "CustomLayer",
            $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry>",
            """
                <None Include="settings/*.json" CopyToPublishDirectory="PreserveNewest" />
                <ContainerLayer Include="settings" Files="settings/**" />
            """);
        Directory.CreateDirectory(Path.Combine(project.Directory, "settings"));
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "settings", "app.json"), "{ \"mode\": \"container\" }", TestContext.CancellationToken);

        var publish = await PublishCheckedAsync(project, "ContainerOciLayoutPath=layout");

        Assert.Contains("Layer 'settings' (1 files)", publish.StandardOutput);
        var inspect = await TestTools.RunCheckedAsync("skopeo", ["inspect", $"oci:{Path.Combine(project.Directory, "layout")}:latest"], cancellationToken: TestContext.CancellationToken);
        var baseLayers = JsonDocument.Parse((await Registry.InspectAsync("dotnet/runtime:10.0", raw: false, TestContext.CancellationToken)).StandardOutput).RootElement.GetProperty("Layers").GetArrayLength();
        Assert.AreEqual(baseLayers + 2, JsonDocument.Parse(inspect.StandardOutput).RootElement.GetProperty("Layers").GetArrayLength(), "app layer plus the settings layer");
    }

    [TestMethod]
    public async Task A_self_contained_app_copies_its_runtime_packs_deflate_data_and_runs_under_runc()
    {
        RuncRunner.RequireRunc();
        var rid = "linux-" + System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        var project = TestProject.Create(
            "SelfContainedCopy",
            $"<RuntimeIdentifier>{rid}</RuntimeIdentifier><SelfContained>true</SelfContained><ContainerBaseImage>{Registry.Host}/dotnet/runtime-deps:10.0</ContainerBaseImage><ContainerLayerCacheDirectory></ContainerLayerCacheDirectory>",
            program: """System.Console.WriteLine($"self-contained on {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");""");

        var first = await PublishCheckedAsync(project, "ContainerOciLayoutPath=copied");
        var second = await PublishCheckedAsync(project, "ContainerOciLayoutPath=compressed", "ContainerReusePackageCompression=false");
        Assert.Contains("from the app's NuGet packages instead of compressing them", first.StandardOutput);
        Assert.DoesNotContain("Copied the deflate data", second.StandardOutput);

        var copied = ReadLayout(Path.Combine(project.Directory, "copied"));
        var compressed = ReadLayout(Path.Combine(project.Directory, "compressed"));
        CollectionAssert.AreEqual(compressed.DiffIds, copied.DiffIds, "the same files in every layer");
        CollectionAssert.AreNotEqual(compressed.Layers, copied.Layers, "the runtime layer's blob differs");

        // System.Private.CoreLib.dll's deflate data from the runtime pack's .nupkg is in the runtime layer as it is.
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Directory, "obj", "project.assets.json")));
        var folders = assets.RootElement.GetProperty("packageFolders").EnumerateObject().Select(f => f.Name).ToArray();
        var depsFile = Directory.EnumerateFiles(Path.Combine(project.Directory, "bin"), "SelfContainedCopy.deps.json", SearchOption.AllDirectories).First(f => f.Contains("publish", StringComparison.Ordinal));
        using var deps = JsonDocument.Parse(File.ReadAllText(depsFile));
        var version = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name).Single(n => n.StartsWith("runtimepack.Microsoft.NETCore.App.Runtime.", StringComparison.Ordinal)).Split('/')[1];
        var nupkg = folders.Select(f => Path.Combine(f, $"microsoft.netcore.app.runtime.{rid}", version, $"microsoft.netcore.app.runtime.{rid}.{version}.nupkg")).First(File.Exists);
        var coreLib = DeflateDataOf(nupkg, $"runtimes/{rid}/lib/net10.0/System.Private.CoreLib.dll");
        Assert.IsTrue(copied.Layers.Any(layer => File.ReadAllBytes(Path.Combine(project.Directory, "copied", "blobs", "sha256", layer[7..])).AsSpan().IndexOf(coreLib) >= 0));

        // umoci (Go's gzip reader) unpacks the layers of several gzip members, and the runtime in them runs.
        var bundle = await RuncRunner.UnpackAsync(Path.Combine(project.Directory, "copied"), "latest", project.Directory, TestContext.CancellationToken);
        var run = await RuncRunner.RunToCompletionAsync(bundle, TestContext.CancellationToken);
        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        Assert.Contains("self-contained on .NET", run.StandardOutput);
    }

    // The layer digests and diff ids of the image an OCI layout's index names first.
    private static (string[] Layers, string[] DiffIds) ReadLayout(string layout)
    {
        JsonElement Blob(string digest) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", digest[7..]))).RootElement;
        var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json"))).RootElement;
        var manifest = Blob(index.GetProperty("manifests")[0].GetProperty("digest").GetString()!);
        var config = Blob(manifest.GetProperty("config").GetProperty("digest").GetString()!);
        return (
            manifest.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToArray(),
            config.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToArray());
    }

    private static byte[] DeflateDataOf(string zipPath, string entryName)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(zipPath);
        var entry = zip.GetEntry(entryName) ?? throw new AssertFailedException($"{zipPath} has no {entryName}");
        var bytes = File.ReadAllBytes(zipPath);

        // The entry's data is the stretch of the archive that inflates to the entry: found from its local header.
        var name = System.Text.Encoding.UTF8.GetBytes(entryName);
        for (var at = bytes.AsSpan().IndexOf(name); at >= 30; at = bytes.AsSpan(at + 1).IndexOf(name) is var next and >= 0 ? at + 1 + next : -1)
        {
            if (BitConverter.ToUInt32(bytes, at - 30) == 0x04034b50)
            {
                var start = at + name.Length + BitConverter.ToUInt16(bytes, at - 2);
                return bytes.AsSpan(start, (int)entry.CompressedLength).ToArray();
            }
        }

        throw new AssertFailedException($"no local header for {entryName} in {zipPath}");
    }

    private static int CountLines(string text, string start) =>
        text.Split('\n').Count(line => line.TrimStart().StartsWith(start, StringComparison.Ordinal));

    [TestMethod]
    public async Task Tarball_and_LocalRegistry_load_into_podman_and_layout_is_read_by_skopeo()
    {
        var podman = TestTools.Require("podman", "podman");
        var repository = "tarball-" + Guid.NewGuid().ToString("N")[..8];
        var project = TestProject.Create("Tarball", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerRepository>{repository}</ContainerRepository>");

        var tarball = await PublishCheckedAsync(project, "ContainerArchiveOutputPath=out/image.tar.gz");
        var archive = Path.Combine(project.Directory, "out", "image.tar.gz");
        Assert.IsTrue(File.Exists(archive), archive);
        // A docker-archive stays a plain tar (podman 4 cannot load a gzip'd one) and the name's promise is corrected.
        Assert.Contains("warning CONTAINER8033", tarball.StandardOutput);
        var load = await TestTools.RunAsync(podman, ["load", "--input", archive], cancellationToken: TestContext.CancellationToken);
        try
        {
            Assert.AreEqual(0, load.ExitCode, load.StandardOutput + load.StandardError);
            Assert.Contains(repository + ":latest", load.StandardOutput + load.StandardError);
        }
        finally
        {
            await TestTools.RunAsync(podman, ["rmi", "--force", "localhost/" + repository + ":latest"], cancellationToken: CancellationToken.None);
        }

        await PublishCheckedAsync(project, "LocalRegistry=Podman", "ContainerImageTag=loaded");
        try
        {
            var images = await TestTools.RunCheckedAsync(podman, ["images", "--format", "{{.Repository}}:{{.Tag}}"], cancellationToken: TestContext.CancellationToken);
            Assert.Contains($"localhost/{repository}:loaded", images.StandardOutput);
        }
        finally
        {
            await TestTools.RunAsync(podman, ["rmi", "--force", $"localhost/{repository}:loaded"], cancellationToken: CancellationToken.None);
        }

        var publish = await PublishCheckedAsync(project, "ContainerOciLayoutPath=out/layout", "ContainerImageTag=layout");
        var layout = Path.Combine(project.Directory, "out", "layout");
        Assert.Contains(layout, publish.StandardOutput);
        Assert.Contains($"Read it as oci:{layout}:layout", publish.StandardOutput, "the summary gives the exact reference");
        var inspect = await TestTools.RunCheckedAsync("skopeo", ["inspect", $"oci:{layout}:layout"], cancellationToken: TestContext.CancellationToken);
        var config = JsonDocument.Parse(inspect.StandardOutput).RootElement;
        Assert.AreEqual("amd64", config.GetProperty("Architecture").GetString());
    }

    [TestMethod]
    public async Task Two_runtime_identifiers_make_a_two_entry_index()
    {
        var project = TestProject.Create(
            "MultiArch",
            $"""
                <ContainerRegistry>{Registry.Host}</ContainerRegistry>
                <ContainerBaseImage>{Registry.Host}/dotnet/multiarch:10.0</ContainerBaseImage>
                <RuntimeIdentifiers>linux-x64;linux-arm64</RuntimeIdentifiers>
                <ContainerRuntimeIdentifiers>linux-x64;linux-arm64</ContainerRuntimeIdentifiers>
                <UseAppHost>false</UseAppHost>
            """);

        await PublishCheckedAsync(project);

        var index = JsonDocument.Parse((await Registry.InspectAsync("multiarch:latest", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
        var platforms = index.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("platform").GetProperty("os").GetString() + "/" + m.GetProperty("platform").GetProperty("architecture").GetString())
            .ToArray();
        CollectionAssert.AreEquivalent(new[] { "linux/amd64", "linux/arm64" }, platforms);

        // The index carries the generated annotations (not base.digest: each platform has its own base), and each
        // platform manifest has its own SBOM referrer, listed under its sha256-<hex> fallback tag.
        var annotations = index.GetProperty("annotations");
        Assert.AreEqual($"{Registry.Host}/dotnet/multiarch:10.0", annotations.GetProperty("org.opencontainers.image.base.name").GetString());
        Assert.IsFalse(annotations.TryGetProperty("org.opencontainers.image.base.digest", out _));
        foreach (var manifest in index.GetProperty("manifests").EnumerateArray())
        {
            var fallbackTag = manifest.GetProperty("digest").GetString()!.Replace(':', '-');
            var referrers = JsonDocument.Parse((await Registry.InspectAsync($"multiarch:{fallbackTag}", raw: true, TestContext.CancellationToken)).StandardOutput).RootElement;
            Assert.AreEqual("application/spdx+json", referrers.GetProperty("manifests").EnumerateArray().Single().GetProperty("artifactType").GetString());
        }
    }

    [TestMethod]
    public async Task Clean_publishes_in_different_directories_give_the_same_digest()
    {
        var digests = new List<string>();
        var sboms = new List<string>();
        foreach (var copy in new[] { "first", "second" })
        {
            var project = TestProject.Create("Reproducible", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry>", parentDirectory: PackageFeed.NewWorkDirectory(copy));
            await PublishCheckedAsync(project, "ContainerOciLayoutPath=layout", "ContainerLayerCacheDirectory=");
            var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(project.Directory, "layout", "index.json"), TestContext.CancellationToken)).RootElement;
            // The layout lists the image (tagged) and its SBOM referrer (untagged, with an artifactType).
            var image = index.GetProperty("manifests").EnumerateArray().Single(m => !m.TryGetProperty("artifactType", out _));
            var referrer = index.GetProperty("manifests").EnumerateArray().Single(m => m.TryGetProperty("artifactType", out _));
            digests.Add(image.GetProperty("digest").GetString()!);
            sboms.Add(referrer.GetProperty("digest").GetString()!);
        }

        Assert.AreEqual(digests[0], digests[1]);
        Assert.AreEqual(sboms[0], sboms[1], "the SBOM (and so its referrer manifest) is byte-identical too");
    }

    [TestMethod]
    public async Task Invalid_repository_builds_with_a_warning_and_fails_to_publish_with_a_coded_error()
    {
        var project = TestProject.Create("BadRepository", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerRepository>My_App</ContainerRepository>");

        // A setting that only matters when publishing does not stop the build (nor dotnet run, nor dotnet test)...
        var build = await project.DotnetAsync(["build", project.ProjectFile, "-nologo", "-v:q", "-p:TreatWarningsAsErrors=false"], cancellationToken: TestContext.CancellationToken);
        var output = build.StandardOutput + build.StandardError;
        Assert.AreEqual(0, build.ExitCode, output);
        Assert.Contains("warning CSDK1009: ContainerRepository 'My_App' is not a valid repository name: repository 'My_App' contains uppercase letter 'M'", output);

        // ...but publishing refuses it with the publish tasks' coded error, the same rule text, and no image.
        var result = await PublishAsync(project, $"ContainerRegistry={Registry.Host}", "TreatWarningsAsErrors=false");
        output = result.StandardOutput + result.StandardError;
        Assert.AreNotEqual(0, result.ExitCode, output);
        Assert.Contains("error CONTAINER7000: ContainerRepository 'My_App' is not a valid repository name: repository 'My_App' contains uppercase letter 'M'", output);
        Assert.DoesNotContain("Published ", output);
        Assert.DoesNotContain("   at ", output);
    }

    [TestMethod]
    public async Task A_root_user_is_reported_once_at_build_and_once_at_publish()
    {
        var project = TestProject.Create("RootUser", $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerUser>root</ContainerUser>");

        var build = await project.DotnetAsync(["build", project.ProjectFile, "-nologo", "-v:q", "-p:TreatWarningsAsErrors=false"], cancellationToken: TestContext.CancellationToken);
        var buildOutput = build.StandardOutput + build.StandardError;
        Assert.AreEqual(0, build.ExitCode, buildOutput);
        Assert.AreEqual(1, CountLinesContaining(buildOutput, "warning CSDK1005: ContainerUser 'root' makes the container run as root"), buildOutput);

        // ComputeContainerConfig and PublishContainerImage both resolve the settings; the warning is logged by the first only.
        var publish = await project.DotnetAsync(
            ["publish", project.ProjectFile, "-t:PublishContainer", "-nologo", "-v:n", "-p:ContainerOciLayoutPath=layout", "-p:TreatWarningsAsErrors=false"],
            cancellationToken: TestContext.CancellationToken);
        var output = publish.StandardOutput + publish.StandardError;
        Assert.AreEqual(0, publish.ExitCode, output);
        Assert.AreEqual(1, CountLinesContaining(output, "warning CONTAINER7021:"), output);
    }

    // MSBuild's console logger repeats every warning in its summary after "Build succeeded."; count the log itself.
    private static int CountLinesContaining(string output, string text) =>
        output.Split('\n')
            .TakeWhile(line => line.Trim() is not ("Build succeeded." or "Build FAILED."))
            .Count(line => line.Contains(text, StringComparison.Ordinal));

    [TestMethod]
    public async Task Unreachable_registry_fails_with_a_coded_error_and_no_stack_trace()
    {
        var project = TestProject.Create("Unreachable", "<ContainerRegistry>127.0.0.1:1</ContainerRegistry><ContainerBaseImage>127.0.0.1:1/dotnet/runtime:10.0</ContainerBaseImage>");

        var result = await PublishAsync(project);

        var output = result.StandardOutput + result.StandardError;
        Assert.AreNotEqual(0, result.ExitCode, output);
        Assert.Contains("error CONTAINER8021:", output);
        Assert.Contains("127.0.0.1:1", output);
        Assert.DoesNotContain("   at ", output);
    }
}
