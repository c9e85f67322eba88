namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// <see cref="HostHelperProcesses"/> lets an app with Containers.Host compiled in run the host's helpers as itself (the
/// Native AOT dotnet container tool does, and Containers.Cli.Tests' rootless run proves its port forwarder works that
/// way); here, where Containers.Host.dll is a file, it must leave an app's own arguments and the dotnet exec path alone.
/// </summary>
[TestClass]
public sealed class HostHelperProcessesTests
{
    [TestMethod]
    [DataRow(new string[0])]
    [DataRow(new[] { "run", "-d", "oci:layout" })]
    [DataRow(new[] { "--supervise" })]
    [DataRow(new[] { "--port-forwarder" })]
    public async Task Arguments_that_name_no_helper_role_are_the_apps_own(string[] args)
    {
        Assert.IsNull(await HostHelperProcesses.RunIfHelperAsync(args));
    }

    [TestMethod]
    public async Task With_Containers_Host_as_a_file_helpers_stay_dotnet_exec_of_it()
    {
        await HostHelperProcesses.RunIfHelperAsync(["test"]);

        Assert.IsNotNull(HostHelperProcesses.HostAssemblyFile, "Containers.Host.dll is a file in the test's output");
        Assert.IsNull(HostHelperProcesses.OwnExecutable, "the test host (dotnet) is not started as the host's helpers");
    }

    [TestMethod]
    public async Task Null_arguments_are_refused()
    {
        await Assert.ThrowsExactlyAsync<ArgumentNullException>(() => HostHelperProcesses.RunIfHelperAsync(null!));
    }
}
