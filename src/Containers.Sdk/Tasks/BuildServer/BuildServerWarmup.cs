using System.Collections;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.Registry;
using Containers.Oci.Stores;
using Microsoft.Build.Framework;
using TaskItem = Microsoft.Build.Utilities.TaskItem;

namespace Containers.Sdk.Tasks.BuildServer;

/// <summary>
/// Right after it starts, the server publishes a tiny app of its own once (into a temporary OCI layout, on an
/// empty base read from another one) and asks a loopback stub for a manifest: the publish path and the HTTP
/// stack are then compiled and loaded before the first build asks, which is the point of having a server.
/// Nothing leaves the temporary directory; any failure only means a colder first request.
/// </summary>
internal static class BuildServerWarmup
{
    public static async Task RunAsync()
    {
        var root = Directory.CreateTempSubdirectory("containers-sdk-warmup-").FullName;
        try
        {
            var platform = new Platform { OS = "linux", Architecture = "amd64" };
            var baseLayout = OciLayout.Create(Path.Combine(root, "base"));
            await baseLayout.WriteImageAsync(Image.Empty(platform), ["latest"]).ConfigureAwait(false);
            var publishDirectory = await WriteTinyAppAsync(root).ConfigureAwait(false);

            // The settings resolution, with an inferred base image, as for a web app.
            var settings = AsTinyApp(new ComputeContainerConfig(), Path.Combine(root, "project"));
            settings.UsesAspNetCore = 1;
            settings.ContainerRegistry = "localhost:5000";
            settings.Execute();

            // Into an OCI layout (as Containers.Testing builds), from a layout.
            Publish(root, publishDirectory, task =>
            {
                task.ContainerBaseImageLayoutPath = Path.Combine(root, "base");
                task.ContainerBaseImage = "localhost/warmup-base:latest";
                task.ContainerOciLayoutPath = Path.Combine(root, "image");
            });

            // To a registry, from a registry: the HTTP stack, the registry client's pull, push, existence checks and
            // referrer fallback; twice, the second time as a publish with no change.
            var registry = WarmupRegistry.Start();
            await using var stopRegistry = registry.ConfigureAwait(false);
            using (var client = new RegistryClient())
            {
                await client.PushImageAsync(Image.Empty(platform), registry.Host, "warmup/base", ["latest"], [], CancellationToken.None).ConfigureAwait(false);
            }

            for (var i = 0; i < 2; i++)
            {
                Publish(root, publishDirectory, task =>
                {
                    task.ContainerRegistry = registry.Host;
                    task.ContainerBaseImage = registry.Host + "/warmup/base:latest";
                    task.ContainerImageTags = "1.0;latest";
                });
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A warm-up that fails leaves the first build's request colder, nothing else.
            lock (WarmupErrors)
            {
                WarmupErrors.Add(exception.GetType().Name + ": " + exception.Message);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    // An app with one NuGet package (in a package folder of its own, with a nuspec): the layering of package assets
    // and the SBOM's package reading run too.
    private static async Task<string> WriteTinyAppAsync(string root)
    {
        var package = Directory.CreateDirectory(Path.Combine(root, "packages", "warmup.package", "1.0.0")).FullName;
        Directory.CreateDirectory(Path.Combine(package, "lib", "net8.0"));
        await File.WriteAllBytesAsync(Path.Combine(package, "lib", "net8.0", "Warmup.Package.dll"), new byte[2048]).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(package, "warmup.package.nuspec"), """
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata><id>Warmup.Package</id><version>1.0.0</version><authors>Containers.Sdk</authors><description>warm-up</description><license type="expression">MIT</license></metadata>
            </package>
            """).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(package, "warmup.package.1.0.0.nupkg.sha512"), "AAAA").ConfigureAwait(false);

        var publish = Directory.CreateDirectory(Path.Combine(root, "project", "publish")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(publish, "Warmup.dll"), new byte[4096]).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Path.Combine(publish, "Warmup.Package.dll"), new byte[2048]).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(publish, "Warmup.runtimeconfig.json"), """{"runtimeOptions":{"tfm":"net8.0","framework":{"name":"Microsoft.NETCore.App","version":"8.0.0"}}}""").ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(publish, "Warmup.deps.json"), """
            {"runtimeTarget":{"name":".NETCoreApp,Version=v8.0/linux-x64"},
             "targets":{".NETCoreApp,Version=v8.0/linux-x64":{
               "Warmup/1.0.0":{"dependencies":{"Warmup.Package":"1.0.0"},"runtime":{"Warmup.dll":{}}},
               "Warmup.Package/1.0.0":{"runtime":{"lib/net8.0/Warmup.Package.dll":{"assemblyVersion":"1.0.0.0","fileVersion":"1.0.0.0"}}}}},
             "libraries":{
               "Warmup/1.0.0":{"type":"project","serviceable":false,"sha512":""},
               "Warmup.Package/1.0.0":{"type":"package","serviceable":true,"sha512":"sha512-AAAA","path":"warmup.package/1.0.0","hashPath":"warmup.package.1.0.0.nupkg.sha512"}}}
            """).ConfigureAwait(false);
        return publish;
    }

    private static void Publish(string root, string publishDirectory, Action<PublishContainerImage> destination)
    {
        var project = Path.GetDirectoryName(publishDirectory)!;
        var task = AsTinyApp(new PublishContainerImage(), project);
        task.ProjectDirectory = project;
        task.PublishDirectories = [new TaskItem(publishDirectory, new Dictionary<string, string> { ["RuntimeIdentifier"] = "linux-x64" })];
        task.ContainerRepository = "warmup/app";
        task.ContainerLayerCacheDirectory = Path.Combine(root, "layers");
        task.ContainerSbomOutputDirectory = Path.Combine(root, "sbom");
        task.NuGetPackageFolders = Path.Combine(root, "packages");
        task.SourceDateEpoch = "0";
        destination(task);
        task.Execute();
    }

    // The project facts MSBuild would pass for the tiny app, run here and silently.
    private static T AsTinyApp<T>(T task, string projectDirectory)
        where T : ContainerSettingsTask
    {
        task.BuildEngine = new SilentBuildEngine();
        task.ContainerUseBuildServer = "false";
        task.ProjectFullPath = Path.Combine(projectDirectory, "Warmup.csproj");
        task.AssemblyName = "Warmup";
        task.TargetFileName = "Warmup.dll";
        task.TargetFrameworkVersion = "8.0";
        task.TargetFrameworkIdentifier = ".NETCoreApp";
        task.SdkVersion = "8.0.100";
        task.RuntimeIdentifier = "linux-x64";
        return task;
    }

    private sealed class SilentBuildEngine : IBuildEngine
    {
        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => "";

        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;

        public void LogCustomEvent(CustomBuildEventArgs e)
        {
        }

        public void LogErrorEvent(BuildErrorEventArgs e)
        {
            lock (WarmupErrors)
            {
                WarmupErrors.Add(e.Code + ": " + e.Message);
            }
        }

        public void LogMessageEvent(BuildMessageEventArgs e)
        {
        }

        public void LogWarningEvent(BuildWarningEventArgs e)
        {
        }
    }

    /// <summary>Errors of the warm-up's publish (for tests and debugging: a warm-up that fails warms less).</summary>
    public static List<string> WarmupErrors { get; } = [];
}
