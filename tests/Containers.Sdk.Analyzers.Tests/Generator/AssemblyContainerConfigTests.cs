using Containers.Build.Configuration;
using Containers.Oci;
using Microsoft.CodeAnalysis;

namespace Containers.Sdk.Analyzers.Tests.Generator;

/// <summary>The publish side reads back, from a real built assembly, exactly what the generator embedded.</summary>
[TestClass]
public sealed class AssemblyContainerConfigTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Reads_the_settings_the_generator_embedded_in_a_built_assembly()
    {
        var path = Build("""
            using Containers.Sdk;
            [assembly: ContainerPort(8080)]
            [assembly: ContainerPort(53, Protocol = "udp")]
            [assembly: ContainerEnvironment("GREETING", "say \"hi\"")]
            [assembly: ContainerLabel("team", "core")]
            [assembly: ContainerUser("app")]
            [assembly: ContainerWorkingDirectory("/srv/app")]
            [assembly: ContainerHealthCheck("/healthz", Port = 8080, IntervalSeconds = 10, Retries = 5)]
            [assembly: System.Reflection.AssemblyMetadata("Other", "ignored")]
            """);

        var config = AssemblyContainerConfig.TryRead(path);

        Assert.IsNotNull(config);
        CollectionAssert.AreEqual(
            new[] { new AssemblyContainerConfig.ExposedPort(53, "udp"), new AssemblyContainerConfig.ExposedPort(8080, "tcp") },
            config.Ports.ToArray());
        Assert.AreEqual("say \"hi\"", config.Environment["GREETING"]);
        Assert.AreEqual("core", config.Labels["team"]);
        Assert.AreEqual("app", config.User);
        Assert.AreEqual("/srv/app", config.WorkingDirectory);
        Assert.AreEqual(new AssemblyContainerConfig.HealthCheckEndpoint("/healthz", 8080, 10, 5, 5), config.HealthCheck);
    }

    [TestMethod]
    public void Assembly_without_container_attributes_embeds_an_empty_config()
    {
        var config = AssemblyContainerConfig.TryRead(Build("public static class Program { }"));

        Assert.IsNotNull(config);
        Assert.IsEmpty(config.Ports);
        Assert.IsNull(config.User);
        Assert.IsNull(config.HealthCheck);
    }

    [TestMethod]
    public void Assembly_built_without_the_generator_has_no_config()
    {
        var path = Path.Combine(TestContext.TestRunDirectory!, Guid.NewGuid().ToString("N") + ".dll");
        var result = GeneratorHarness.Compile("public static class Program { }").Emit(path);
        Assert.IsTrue(result.Success);

        Assert.IsNull(AssemblyContainerConfig.TryRead(path));
    }

    [TestMethod]
    public void A_file_that_is_not_an_assembly_is_reported_by_name()
    {
        var path = Path.Combine(TestContext.TestRunDirectory!, "not-an-assembly.dll");
        File.WriteAllText(path, "hello");

        var exception = Assert.ThrowsExactly<OciException>(() => AssemblyContainerConfig.TryRead(path));
        Assert.Contains("not-an-assembly.dll", exception.Message);
    }

    [TestMethod]
    public void Invalid_embedded_json_names_the_source_and_the_key()
    {
        var exception = Assert.ThrowsExactly<OciException>(() => AssemblyContainerConfig.Parse("{\"ports\":[{\"port\":\"x\"}]}", "app.dll"));
        Assert.Contains("app.dll", exception.Message);
        Assert.Contains(AssemblyContainerConfig.MetadataKey, exception.Message);
    }

    private string Build(string source)
    {
        var (_, output, _) = GeneratorHarness.Run(source);
        var path = Path.Combine(TestContext.TestRunDirectory!, Guid.NewGuid().ToString("N") + ".dll");
        var result = output.Emit(path);
        Assert.IsTrue(result.Success, string.Join("\n", result.Diagnostics));
        return path;
    }
}
