using Containers.Build.Configuration;

namespace Containers.Build.Tests.Configuration;

[TestClass]
public sealed class ContainerCommandTests
{
    private const string Dll = "dotnet /app/MyApp.dll";

    // Items are ';'-separated lists, "-" for empty; expected entrypoint "(base)" means "keep the base image's".
    [TestMethod]
    [DataRow("-", "-", "-", "-", "-", "", Dll, "-")]
    [DataRow("-", "-", "-", "-", "--verbose", "", Dll + " --verbose", "-")]
    [DataRow("-", "-", "serve;--port;80", "-", "-", "", Dll, "serve --port 80")]
    [DataRow("/bin/sh;-c", "-", "-", "-", "-", "", "/bin/sh -c", Dll)]
    [DataRow("/tini", "--", "x", "-", "-", "", "/tini --", Dll + " x")]
    [DataRow("-", "a;b", "-", "-", "-", "", Dll, "a b")]
    [DataRow("-", "-", "-", "-", "-", "DefaultArgs", "(base)", Dll)]
    [DataRow("/entry", "-", "x", "-", "-", "DefaultArgs", "/entry", Dll + " x")]
    [DataRow("/entry", "e", "x", "-", "-", "None", "/entry e", "x")]
    [DataRow("-", "-", "x", "-", "-", "None", "(base)", "x")]
    [DataRow("-", "-", "-", "/app/run.sh", "-", "", "/app/run.sh", "-")]
    [DataRow("-", "-", "-", "/app/run.sh", "--fast", "entrypoint", "/app/run.sh --fast", "-")]
    [DataRow("/entry", "-", "-", "/app/run.sh", "--fast", "DefaultArgs", "/entry", "/app/run.sh --fast")]
    public void Entrypoint_and_cmd_follow_the_sdk(string entrypoint, string entrypointArgs, string defaultArgs, string appCommand, string appCommandArgs, string instruction, string expectedEntrypoint, string expectedCmd)
    {
        var settings = new ContainerSettings
        {
            ContainerEntrypoint = Items(entrypoint),
            ContainerEntrypointArgs = Items(entrypointArgs),
            ContainerDefaultArgs = Items(defaultArgs),
            ContainerAppCommand = Items(appCommand),
            ContainerAppCommandArgs = Items(appCommandArgs),
            ContainerAppCommandInstruction = instruction,
        };

        var command = TestProjects.Resolve(settings).Command;

        Assert.AreEqual(expectedEntrypoint, command.Entrypoint is null ? "(base)" : string.Join(" ", command.Entrypoint));
        Assert.AreEqual(expectedCmd, command.Cmd.Count == 0 ? "-" : string.Join(" ", command.Cmd));
        Assert.AreEqual(string.IsNullOrEmpty(instruction) && entrypoint == "-" && entrypointArgs == "-", command.ReplacesBaseEntrypoint);
    }

    [TestMethod]
    public void EntrypointArgs_alone_is_the_legacy_form_with_a_warning()
    {
        var resolution = ContainerSettingsResolver.Resolve(new ContainerSettings { ContainerRepository = "app", ContainerEntrypointArgs = ["a"] }, TestProjects.Console());

        Assert.AreEqual(ContainerDiagnosticCodes.EntrypointArgsPreferAppCommandArgs.Code, resolution.Diagnostics.Single().Code);
        Assert.Contains("ContainerAppCommandArgs", resolution.Diagnostics.Single().Message);
    }

    [TestMethod]
    [DataRow(true, "/app/", "/app/MyApp")]
    [DataRow(false, "/srv/app", "dotnet /srv/app/MyApp.dll")]
    [DataRow(true, "/srv/app", "/srv/app/MyApp")]
    public void The_default_app_command_runs_the_app_from_the_working_directory(bool selfContained, string workingDirectory, string expected)
    {
        var project = selfContained ? TestProjects.SelfContained() : TestProjects.Console();

        var command = TestProjects.Resolve(new ContainerSettings { ContainerWorkingDirectory = workingDirectory }, project).Command;

        Assert.AreEqual(expected, string.Join(" ", command.Entrypoint!));
    }

    [TestMethod]
    public void Aot_apps_run_their_native_executable()
    {
        var command = TestProjects.Resolve(new ContainerSettings(), TestProjects.Aot()).Command;

        CollectionAssert.AreEqual(new[] { "/app/MyApp" }, command.Entrypoint!.ToArray());
    }

    [TestMethod]
    [DataRow("/entry", "-", "-", "-", "Entrypoint", "CONTAINER7027", "ContainerEntrypoint")]
    [DataRow("-", "-", "/app/x", "-", "None", "CONTAINER7026", "ContainerAppCommand")]
    [DataRow("-", "-", "-", "--x", "None", "CONTAINER7025", "ContainerAppCommandArgs")]
    [DataRow("-", "e", "-", "-", "Entrypoint", "CONTAINER7024", "ContainerEntrypointArgs")]
    [DataRow("-", "e", "-", "-", "DefaultArgs", "CONTAINER7024", "ContainerEntrypointArgs")]
    public void Conflicting_command_settings_are_errors_naming_the_property(string entrypoint, string entrypointArgs, string appCommand, string appCommandArgs, string instruction, string code, string property)
    {
        var settings = new ContainerSettings
        {
            ContainerRepository = "app",
            ContainerEntrypoint = Items(entrypoint),
            ContainerEntrypointArgs = Items(entrypointArgs),
            ContainerAppCommand = Items(appCommand),
            ContainerAppCommandArgs = Items(appCommandArgs),
            ContainerAppCommandInstruction = instruction,
        };

        var error = TestProjects.SingleError(settings);

        Assert.AreEqual(code, error.Code);
        Assert.AreEqual(property, error.Property);
        Assert.Contains(property, error.Message);
    }

    [TestMethod]
    public void A_missing_TargetFileName_is_reported_instead_of_a_broken_command()
    {
        var error = TestProjects.SingleError(new ContainerSettings { ContainerRepository = "app" }, TestProjects.Console() with { TargetFileName = "" });

        Assert.AreEqual(ContainerDiagnosticCodes.MissingProjectFact.Code, error.Code);
        Assert.Contains("TargetFileName", error.Message);
    }

    private static string[] Items(string list) => list == "-" ? [] : list.Split(';');
}
