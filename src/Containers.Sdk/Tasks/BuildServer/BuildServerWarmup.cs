using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Containers.Oci;
using Containers.Oci.Registry;
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
            await PublishTinyAppAsync(root).ConfigureAwait(false);
            await AskLoopbackRegistryAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A warm-up that fails leaves the first build's request colder, nothing else.
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

    private static async Task PublishTinyAppAsync(string root)
    {
        var baseLayout = OciLayout.Create(Path.Combine(root, "base"));
        await baseLayout.WriteImageAsync(Image.Empty(new Platform { OS = "linux", Architecture = "amd64" }), ["latest"]).ConfigureAwait(false);

        var project = Directory.CreateDirectory(Path.Combine(root, "project")).FullName;
        var publish = Directory.CreateDirectory(Path.Combine(project, "publish")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(publish, "Warmup.dll"), new byte[4096]).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(publish, "Warmup.runtimeconfig.json"), """{"runtimeOptions":{"tfm":"net8.0","framework":{"name":"Microsoft.NETCore.App","version":"8.0.0"}}}""").ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(publish, "Warmup.deps.json"), """
            {"runtimeTarget":{"name":".NETCoreApp,Version=v8.0/linux-x64"},
             "targets":{".NETCoreApp,Version=v8.0/linux-x64":{"Warmup/1.0.0":{"runtime":{"Warmup.dll":{}}}}},
             "libraries":{"Warmup/1.0.0":{"type":"project","serviceable":false,"sha512":""}}}
            """).ConfigureAwait(false);

        var task = new PublishContainerImage
        {
            BuildEngine = new SilentBuildEngine(),
            ContainerUseBuildServer = "false",
            ProjectFullPath = Path.Combine(project, "Warmup.csproj"),
            ProjectDirectory = project,
            PublishDirectories = [new TaskItem(publish, new Dictionary<string, string> { ["RuntimeIdentifier"] = "linux-x64" })],
            ContainerBaseImageLayoutPath = Path.Combine(root, "base"),
            ContainerBaseImage = "localhost/warmup-base:latest",
            ContainerOciLayoutPath = Path.Combine(root, "image"),
            ContainerRepository = "warmup",
            ContainerLayerCacheDirectory = Path.Combine(root, "layers"),
            ContainerSbomOutputDirectory = Path.Combine(root, "sbom"),
            AssemblyName = "Warmup",
            TargetFileName = "Warmup.dll",
            TargetFrameworkVersion = "8.0",
            TargetFrameworkIdentifier = ".NETCoreApp",
            SdkVersion = "8.0.100",
            RuntimeIdentifier = "linux-x64",
            SourceDateEpoch = "0",
        };
        await Task.Run(task.Execute).ConfigureAwait(false);
    }

    // A GET of a manifest from a stub on loopback that answers 404: the registry client's HTTP path, minus the registry.
    private static async Task AskLoopbackRegistryAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var stub = Task.Run(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                using var client = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
                var stream = client.GetStream();
                var buffer = new byte[8192];
                var received = new StringBuilder();
                while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var count = await stream.ReadAsync(buffer).ConfigureAwait(false);
                    if (count == 0)
                    {
                        break;
                    }

                    received.Append(Encoding.ASCII.GetString(buffer, 0, count));
                }

                var answer = Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                await stream.WriteAsync(answer).ConfigureAwait(false);
            }
        });

        using var registry = new RegistryClient(new RegistryClientOptions { InsecureRegistries = ["127.0.0.1:" + port] });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await registry.GetImageAsync("127.0.0.1:" + port, "warmup", "latest", new Platform { OS = "linux", Architecture = "amd64" }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OciException or HttpRequestException or OperationCanceledException)
        {
            // Expected: the stub has no images.
        }

        listener.Stop();
        try
        {
            await stub.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or IOException)
        {
        }
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

        public void LogErrorEvent(BuildErrorEventArgs e) => WarmupErrors.Add(e.Code + ": " + e.Message);

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
