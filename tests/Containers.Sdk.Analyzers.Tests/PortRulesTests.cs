using Containers.Sdk.Analyzers.Rules;

namespace Containers.Sdk.Analyzers.Tests;

[TestClass]
public sealed class PortRulesTests
{
    [TestMethod]
    [DataRow("0")]
    [DataRow("65536")]
    [DataRow("-1")]
    public Task CSDK1001_reports_port_outside_range(string port) =>
        Verifier<PortOutOfRangeAnalyzer>.VerifyAsync($"[assembly: Containers.Sdk.ContainerPort([|{port}|])]");

    [TestMethod]
    [DataRow("1")]
    [DataRow("8080")]
    [DataRow("65535")]
    public Task CSDK1001_accepts_port_in_range(string port) =>
        Verifier<PortOutOfRangeAnalyzer>.VerifyAsync($"[assembly: Containers.Sdk.ContainerPort({port})]");

    [TestMethod]
    [DataRow("sctp")]
    [DataRow("TCP")]
    [DataRow("")]
    public Task CSDK1002_reports_unknown_protocol(string protocol) =>
        Verifier<UnknownPortProtocolAnalyzer>.VerifyAsync($"[assembly: Containers.Sdk.ContainerPort(8080, Protocol = [|\"{protocol}\"|])]");

    [TestMethod]
    public Task CSDK1002_accepts_tcp_udp_and_default() =>
        Verifier<UnknownPortProtocolAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(8080)]
            [assembly: Containers.Sdk.ContainerPort(8081, Protocol = "tcp")]
            [assembly: Containers.Sdk.ContainerPort(53, Protocol = "udp")]
            """);

    [TestMethod]
    public Task CSDK1003_reports_the_later_duplicate_with_default_protocol_equal_to_tcp() =>
        Verifier<DuplicatePortAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(8080)]
            [assembly: Containers.Sdk.ContainerPort([|8080|], Protocol = "tcp")]
            """);

    [TestMethod]
    public Task CSDK1003_accepts_same_port_on_different_protocols_and_different_ports() =>
        Verifier<DuplicatePortAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerPort(53)]
            [assembly: Containers.Sdk.ContainerPort(53, Protocol = "udp")]
            [assembly: Containers.Sdk.ContainerPort(8080)]
            """);
}
