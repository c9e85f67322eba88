namespace Containers.Cli.Tests;

/// <summary>The command line itself: help, and wrong input answered with one coded line and exit code 2.</summary>
[TestClass]
public sealed class CommandLineTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Unknown_command_is_one_coded_line_and_exit_code_2()
    {
        var result = await CliTool.RunAsync(["frobnicate"], TestContext.CancellationToken);

        Assert.AreEqual(2, result.ExitCode, result.ToString());
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, result.StandardError);
        StringAssert.StartsWith(lines[0], "dotnet container: error CONTAINER6001: ");
        StringAssert.Contains(lines[0], "frobnicate");
        Assert.AreEqual("", result.StandardOutput);
    }

    [TestMethod]
    public async Task Help_names_the_tool_and_the_verbose_option()
    {
        var result = await CliTool.RunAsync(["--help"], TestContext.CancellationToken);

        Assert.AreEqual(0, result.ExitCode, result.ToString());
        StringAssert.Contains(result.StandardOutput, "Usage:");
        StringAssert.Contains(result.StandardOutput, "--verbose");
    }

    [TestMethod]
    public void The_tool_installs_as_the_precompiled_package_of_this_machine()
    {
        var rid = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var store = Path.Combine(CliTool.ToolPath, ".store", "containers.cli", CliTool.Version);

        Assert.IsTrue(Directory.Exists(Path.Combine(store, "containers.cli." + rid)), $"dotnet tool install chose the {rid} package: {string.Join(", ", Directory.GetDirectories(store).Select(Path.GetFileName))}");
        var package = Path.Combine(store, "containers.cli." + rid);
        if (rid == "linux-x64")
        {
            // Native AOT: one ELF executable, no IL assembly and no runtime to load before the first command runs.
            var executable = Directory.GetFiles(package, "dotnet-container", SearchOption.AllDirectories).Single();
            var magic = new byte[4];
            using (var stream = File.OpenRead(executable))
            {
                stream.ReadExactly(magic);
            }

            CollectionAssert.AreEqual(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, magic, $"{executable} is a native executable");
            Assert.AreEqual(0, Directory.GetFiles(package, "dotnet-container.dll", SearchOption.AllDirectories).Length, "the linux-x64 package holds the native executable, not the tool's assembly");
            Assert.AreEqual(0, Directory.GetFiles(package, "System.Private.CoreLib.dll", SearchOption.AllDirectories).Length, "the linux-x64 package carries no .NET runtime of its own");
            var toolDirectory = Path.GetDirectoryName(executable)!;
            CollectionAssert.AreEquivalent(
                new[] { "DotnetToolSettings.xml", "dotnet-container" },
                Directory.GetFiles(toolDirectory).Select(Path.GetFileName).ToArray(),
                "the executable is the whole tool: no library docs, PDBs or runtimeconfig files beside it");
        }
        else
        {
            var assembly = Directory.GetFiles(package, "dotnet-container.dll", SearchOption.AllDirectories).Single();
            using var reader = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assembly));
            Assert.AreNotEqual(0, reader.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size, "the tool's assembly is ReadyToRun code: no JIT before the first command runs");
        }
    }

    [TestMethod]
    [DataRow("nonexistent-layout", "CONTAINER6004", "does not exist")]
    [DataRow("Not A Reference!", "CONTAINER6004", "is not an image: expected a registry reference")]
    [DataRow("containerd:app:1.0", "CONTAINER6004", "images are imported into containerd, not read from it")]
    public async Task Run_of_an_image_of_no_known_form_is_a_coded_usage_error(string image, string code, string mentions)
    {
        var argument = image == "nonexistent-layout" ? "oci:" + Path.Combine(CliTool.NewWorkDirectory("none"), "missing") : image;

        var result = await CliTool.RunAsync(["run", "-d", argument], TestContext.CancellationToken);

        ContainerCommandsTests.AssertOneCodedLine(result, 2, code, mentions);
        Assert.AreEqual("", result.StandardOutput);
    }

    [TestMethod]
    [DataRow("70000")]
    [DataRow("a:8080")]
    [DataRow("1:2:3")]
    public async Task Run_with_a_bad_publish_value_is_a_coded_usage_error_naming_it(string publish)
    {
        var result = await CliTool.RunAsync(["run", "-p", publish, "127.0.0.1:5000/app:1.0"], TestContext.CancellationToken);

        ContainerCommandsTests.AssertOneCodedLine(result, 2, "CONTAINER6007", $"-p '{publish}'");
    }

    [TestMethod]
    public async Task Run_with_a_bad_environment_value_is_a_coded_usage_error()
    {
        var result = await CliTool.RunAsync(["run", "-e", "=x", "127.0.0.1:5000/app:1.0"], TestContext.CancellationToken);

        ContainerCommandsTests.AssertOneCodedLine(result, 2, "CONTAINER6008", "-e '=x'");
    }

    [TestMethod]
    [DataRow("logs")]
    [DataRow("stop")]
    [DataRow("rm")]
    [DataRow("exec")]
    public async Task A_container_nobody_has_is_a_coded_error_with_exit_code_3(string command)
    {
        string[] arguments = command == "exec" ? [command, "no-such-container", "--", "true"] : [command, "no-such-container"];

        var result = await CliTool.RunAsync(arguments, TestContext.CancellationToken);

        ContainerCommandsTests.AssertOneCodedLine(result, 3, "CONTAINER6005", "no-such-container");
    }
}
