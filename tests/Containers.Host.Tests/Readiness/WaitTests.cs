using Containers.Oci;
using Containers.Oci.Models;

namespace Containers.Host.Tests.Readiness;

/// <summary>
/// Waits written as text (MSBuild items, the command line) and the image's default wait: each form becomes the wait it
/// names, bad text names the forms, and the default prefers the app's own port over the base image's.
/// </summary>
[TestClass]
public sealed class WaitTests
{
    [TestMethod]
    [DataRow("tcp:5432", ContainerWaitKind.TcpPort, "TCP port 5432 to accept connections")]
    [DataRow(" TCP:80 ", ContainerWaitKind.TcpPort, "TCP port 80 to accept connections")]
    [DataRow("http:/healthz", ContainerWaitKind.Http, "GET /healthz on port (first published) to answer 200")]
    [DataRow("http:8081/ready", ContainerWaitKind.Http, "GET /ready on port 8081 to answer 200")]
    [DataRow("http:/live=204", ContainerWaitKind.Http, "GET /live on port (first published) to answer 204")]
    [DataRow("log:^ready to accept connections", ContainerWaitKind.LogLine, "a log line matching /^ready to accept connections/")]
    [DataRow("log:a:b", ContainerWaitKind.LogLine, "a log line matching /a:b/")]
    [DataRow("healthcheck", ContainerWaitKind.HealthCheck, "the image's health check")]
    [DataRow("exit", ContainerWaitKind.Exit, "the container to exit")]
    [DataRow("exit:3", ContainerWaitKind.Exit, "the container to exit with code 3")]
    public void Each_text_form_is_the_wait_it_names(string text, ContainerWaitKind kind, string description)
    {
        var wait = Wait.Parse(text);

        Assert.AreEqual(kind, wait.Kind);
        Assert.AreEqual(description, wait.Description);
    }

    [TestMethod]
    [DataRow("tcp:0")]
    [DataRow("tcp:70000")]
    [DataRow("tcp:")]
    [DataRow("http:healthz")]
    [DataRow("http:/x=20")]
    [DataRow("log:")]
    [DataRow("healthcheck:/x")]
    [DataRow("exit:zero")]
    [DataRow("ready")]
    public void Other_text_is_refused_with_the_forms(string text)
    {
        var error = Assert.ThrowsExactly<OciException>(() => Wait.Parse(text, "The Wait of 'db'"));

        Assert.AreEqual($"The Wait of 'db' '{text}' is not a wait; write one of tcp:PORT, http:/PATH, http:PORT/PATH, http:/PATH=STATUS, log:REGEX, healthcheck, exit or exit:CODE.", error.Message);
    }

    [TestMethod]
    public void A_log_wait_whose_regex_does_not_compile_says_so()
    {
        var error = Assert.ThrowsExactly<OciException>(() => Wait.Parse("log:([", "The Wait of 'db'"));

        StringAssert.StartsWith(error.Message, "The Wait of 'db' 'log:([' is not a valid regular expression: ");
    }

    [TestMethod]
    public void The_image_default_prefers_its_health_check_then_the_app_port_then_the_first_exposed_port()
    {
        Assert.AreEqual("the image's health check", Wait.ImageDefaultFor(Image(["8080/tcp"], healthCheck: true))!.Description);
        Assert.AreEqual("TCP port 9090 to accept connections", Wait.ImageDefaultFor(Image(["8080/tcp", "9090/tcp"], ["ASPNETCORE_HTTP_PORTS=9090"]))!.Description, "the app's port, not the base image's 8080");
        Assert.AreEqual("TCP port 8080 to accept connections", Wait.ImageDefaultFor(Image(["8080/tcp"], ["ASPNETCORE_HTTP_PORTS=5000"]))!.Description, "a port the image does not expose is not waited for");
        Assert.AreEqual("TCP port 5432 to accept connections", Wait.ImageDefaultFor(Image(["53/udp", "5432/tcp"]))!.Description, "UDP is skipped");
        Assert.AreEqual("TCP port 8080 to accept connections", Wait.ImageDefaultFor(Image(["8080/tcp"], ["ASPNETCORE_HTTP_PORTS=8080"]))!.Description, "the base image's default when nothing else is there");
        Assert.IsNull(Wait.ImageDefaultFor(Image([])), "nothing to wait for");
    }

    [TestMethod]
    [DataRow(new[] { "8080/tcp", "9090/tcp" }, new[] { "ASPNETCORE_HTTP_PORTS=8080" }, null, 9090, DisplayName = "ContainerPort 9090 with the base image's ASPNETCORE_HTTP_PORTS=8080 (the app's port set in its code or appsettings)")]
    [DataRow(new[] { "8080/tcp", "9090/tcp" }, new[] { "ASPNETCORE_HTTP_PORTS=8080", "ASPNETCORE_URLS=http://+:9090" }, null, 9090, DisplayName = "ASPNETCORE_URLS, which replaces ASPNETCORE_HTTP_PORTS")]
    [DataRow(new[] { "8080/tcp", "9090/tcp" }, new[] { "ASPNETCORE_HTTP_PORTS=8080", "ASPNETCORE_HTTP_PORTS=9090" }, null, 9090, DisplayName = "The later of two entries, as the app reads them")]
    [DataRow(new[] { "8080/tcp", "8443/tcp" }, new[] { "ASPNETCORE_HTTP_PORTS=", "ASPNETCORE_HTTPS_PORTS=8443" }, null, 8443, DisplayName = "ASPNETCORE_HTTPS_PORTS")]
    [DataRow(new[] { "8080/tcp", "9090/tcp", "9091/tcp" }, new[] { "ASPNETCORE_HTTP_PORTS=8080" }, "9091", 9091, DisplayName = "ASPNETCORE_HTTP_PORTS set by the start (the ContainerUnderTest's Environment)")]
    [DataRow(new[] { "8080/tcp" }, new[] { "ASPNETCORE_HTTP_PORTS=9090" }, "8080", 8080, DisplayName = "The start's 8080 over the image's 9090")]
    public void The_image_default_waits_for_the_app_port_not_the_base_image_default(string[] exposed, string[] env, string? startHttpPorts, int expected)
    {
        var start = startHttpPorts is null ? null : new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = startHttpPorts };

        var wait = Wait.ImageDefaultFor(Image(exposed, env), start);

        Assert.AreEqual($"TCP port {expected} to accept connections", wait!.Description);
    }

    [TestMethod]
    [DataRow("      Now listening on: http://[::]:9090", 9090)]
    [DataRow("Now listening on: http://+:9090", 9090)]
    [DataRow("info: Now listening on: http://0.0.0.0:9090", 9090)]
    [DataRow("Now listening on: http://localhost:9090", 9090)]
    [DataRow("Now listening on: https://[::]:8443/", 8443)]
    [DataRow("Now listening on: http://*:80", 80)]
    public void Kestrel_listening_lines_give_the_port(string line, int port)
    {
        Assert.AreEqual(port, AspNetCorePorts.FromLogLine(line)?.Port);
    }

    [TestMethod]
    [DataRow("Application started. Press Ctrl+C to shut down.")]
    [DataRow("Now listening on: unix:/tmp/kestrel.sock")]
    [DataRow("listening")]
    public void Other_lines_give_no_port(string line)
    {
        Assert.IsNull(AspNetCorePorts.FromLogLine(line));
    }

    [TestMethod]
    [DataRow(0, "0")]
    [DataRow(1, "1")]
    [DataRow(128, "128")]
    [DataRow(137, "137 (killed by signal SIGKILL — killed: beyond its memory limit, or stopped by force)")]
    [DataRow(143, "143 (killed by signal SIGTERM — asked to stop)")]
    [DataRow(129, "129 (killed by signal SIGHUP)")]
    [DataRow(255, "255")]
    public void Exit_codes_above_128_name_their_signal(int code, string expected)
    {
        Assert.AreEqual(expected, ExitCodes.Describe(code));
    }

    private static ImageConfig Image(string[] ports, string[]? env = null, bool healthCheck = false) => new()
    {
        Architecture = "amd64",
        OS = "linux",
        RootFs = new RootFs { Type = "layers", DiffIds = [] },
        Config = new ContainerConfig
        {
            ExposedPorts = ports.ToDictionary(p => p, _ => new EmptyObject()),
            Env = env,
            Labels = healthCheck ? new Dictionary<string, string> { ["dev.containers-sdk.health-check"] = """{"path":"/healthz","port":0}""" } : null,
        },
    };
}
