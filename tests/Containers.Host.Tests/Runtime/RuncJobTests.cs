using System.Diagnostics;
using Containers.Oci;
using Containers.TestSupport;

namespace Containers.Host.Tests.Runtime;

[TestClass]
public sealed class RuncJobTests
{
    private string _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() =>
        _work = Directory.CreateTempSubdirectory("host-runc-").FullName;

    [TestCleanup]
    public void RemoveWorkDirectory() => Directory.Delete(_work, recursive: true);

    [TestMethod]
    public async Task Runtime_image_lists_its_runtimes_and_leaves_nothing_behind()
    {
        var token = TestContext.CancellationToken;
        var image = await OciLayout.Open(TestBaseImages.LayoutDirectory).ReadImageAsync("runtime-10.0", cancellationToken: token);
        var rootfs = await new RootfsCache(Path.Combine(_work, "cache")).CreateContainerRootAsync(image, Path.Combine(_work, "rootfs"), token);
        var state = Path.Combine(_work, "state");

        var result = await RuncJob.RunAsync(rootfs, image.Config, ["dotnet", "--list-runtimes"], state, token);

        Assert.AreEqual(0, result.ExitCode, result.StandardError);
        Assert.Contains("Microsoft.NETCore.App 10.", result.StandardOutput);
        Assert.IsEmpty(Directory.GetFileSystemEntries(state), "the bundle directory was removed");
        var list = Process.Start(new ProcessStartInfo("runc", "list -q") { RedirectStandardOutput = true })!;
        var ids = await list.StandardOutput.ReadToEndAsync(token);
        await list.WaitForExitAsync(token);
        Assert.IsFalse(ids.Split('\n').Any(id => id.StartsWith(RuncJob.IdPrefix, StringComparison.Ordinal)), ids);
    }

    [TestMethod]
    public async Task Failing_command_reports_its_exit_code_and_stderr()
    {
        var token = TestContext.CancellationToken;
        var image = await OciLayout.Open(TestBaseImages.LayoutDirectory).ReadImageAsync("runtime-deps-10.0", cancellationToken: token);
        var rootfs = await new RootfsCache(Path.Combine(_work, "cache")).CreateContainerRootAsync(image, Path.Combine(_work, "rootfs"), token);

        var result = await RuncJob.RunAsync(rootfs, image.Config, ["/bin/sh", "-c", "echo broken >&2; exit 3"], Path.Combine(_work, "state"), token);

        Assert.AreEqual(3, result.ExitCode);
        Assert.Contains("broken", result.StandardError);
    }
}
