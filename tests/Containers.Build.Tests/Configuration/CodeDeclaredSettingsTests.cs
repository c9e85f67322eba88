using Containers.Build.Configuration;

namespace Containers.Build.Tests.Configuration;

[TestClass]
public sealed class CodeDeclaredSettingsTests
{
    private static readonly AssemblyContainerConfig Code = AssemblyContainerConfig.Parse(
        """{"environment":{"A":"code","B":"code"},"healthCheck":{"intervalSeconds":10,"path":"/healthz","port":8080,"retries":3,"timeoutSeconds":5},"labels":{"team":"code"},"ports":[{"port":8080,"protocol":"tcp"},{"port":53,"protocol":"udp"}],"user":"app","workingDirectory":"/srv"}""",
        "test");

    [TestMethod]
    public void No_code_settings_leave_the_msbuild_settings_unchanged()
    {
        var settings = new ContainerSettings { ContainerUser = "1000" };
        Assert.AreSame(settings, CodeDeclaredSettings.Merge(settings, null));
    }

    [TestMethod]
    public void Code_settings_fill_what_msbuild_leaves_empty()
    {
        var merged = CodeDeclaredSettings.Merge(new ContainerSettings(), Code);
        Assert.AreEqual("app", merged.ContainerUser);
        Assert.AreEqual("/srv", merged.ContainerWorkingDirectory);
        CollectionAssert.AreEqual(new[] { new ContainerPortItem("8080", "tcp"), new ContainerPortItem("53", "udp") }, merged.ContainerPorts.ToList());
        CollectionAssert.AreEqual(new[] { new ContainerEnvironmentVariableItem("A", "code"), new ContainerEnvironmentVariableItem("B", "code") }, merged.ContainerEnvironmentVariables.ToList());
        CollectionAssert.AreEqual(
            new[]
            {
                new ContainerLabelItem(CodeDeclaredSettings.HealthCheckLabel, """{"intervalSeconds":10,"path":"/healthz","port":8080,"retries":3,"timeoutSeconds":5}"""),
                new ContainerLabelItem("team", "code"),
            },
            merged.ContainerLabels.ToList());
    }

    [TestMethod]
    public void Msbuild_wins_for_scalars_and_same_named_items_and_ports_are_a_union()
    {
        var settings = new ContainerSettings
        {
            ContainerUser = "1000",
            ContainerWorkingDirectory = "/app/",
            ContainerPorts = [new ContainerPortItem("8080"), new ContainerPortItem("9090", "tcp")],
            ContainerEnvironmentVariables = [new ContainerEnvironmentVariableItem("B", "msbuild")],
            ContainerLabels = [new ContainerLabelItem("team", "msbuild")],
        };

        var merged = CodeDeclaredSettings.Merge(settings, Code);

        Assert.AreEqual("1000", merged.ContainerUser);
        Assert.AreEqual("/app/", merged.ContainerWorkingDirectory);
        CollectionAssert.AreEqual(new[] { new ContainerPortItem("8080"), new ContainerPortItem("9090", "tcp"), new ContainerPortItem("53", "udp") }, merged.ContainerPorts.ToList());
        CollectionAssert.AreEqual(new[] { new ContainerEnvironmentVariableItem("A", "code"), new ContainerEnvironmentVariableItem("B", "msbuild") }, merged.ContainerEnvironmentVariables.ToList());
        Assert.AreEqual("msbuild", merged.ContainerLabels.Single(l => l.Name == "team").Value);
    }

    [TestMethod]
    public void Merged_settings_pass_the_same_validation_with_no_duplicate_findings()
    {
        var settings = new ContainerSettings { ContainerEnvironmentVariables = [new ContainerEnvironmentVariableItem("A", "x")], ContainerLabels = [new ContainerLabelItem("team", "x")] };
        var merged = CodeDeclaredSettings.Merge(settings, Code);
        Assert.IsEmpty(ContainerSettingsValidator.CheckEnvironmentVariables(merged.ContainerEnvironmentVariables));
        Assert.IsEmpty(ContainerSettingsValidator.CheckLabels(merged.ContainerLabels));
        Assert.IsEmpty(ContainerSettingsValidator.CheckPorts(merged.ContainerPorts));
    }
}
