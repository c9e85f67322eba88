namespace Containers.Cli.Tests;

/// <summary>The command line itself: help, and wrong input answered with one coded line and exit code 2.</summary>
[TestClass]
public sealed class CommandLineTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Unknown_command_is_one_coded_line_and_exit_code_2()
    {
        var result = await CliTool.RunAsync(["frobnicate"], cancellationToken: TestContext.CancellationToken);

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
        var result = await CliTool.RunAsync(["--help"], cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(0, result.ExitCode, result.ToString());
        StringAssert.Contains(result.StandardOutput, "Usage:");
        StringAssert.Contains(result.StandardOutput, "--verbose");
    }
}
