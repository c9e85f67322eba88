using Containers.Sdk.Analyzers.Rules;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

/// <summary>ContainerPort items reach the analyzers as ContainerPortsForAnalyzers and are reported with the item name and no source location.</summary>
[TestClass]
public sealed class MSBuildPortRulesTests
{
    private static Dictionary<string, string> Ports(string joined) => new() { ["ContainerPortsForAnalyzers"] = joined };

    [TestMethod]
    [DataRow("0/tcp", "0")]
    [DataRow("8080/tcp,70000/", "70000")]
    [DataRow("http/tcp", "http")]
    public Task CSDK1001_reports_item_port_outside_range_with_the_item_name(string joined, string bad) =>
        Verifier<PortOutOfRangeAnalyzer>.VerifyAsync("", Ports(joined),
            new DiagnosticResult(Descriptors.PortOutOfRange).WithNoLocation().WithArguments("ContainerPort item", bad));

    [TestMethod]
    public Task CSDK1001_accepts_valid_items() =>
        Verifier<PortOutOfRangeAnalyzer>.VerifyAsync("", Ports("8080/tcp,53/udp,443/"));

    [TestMethod]
    public Task CSDK1002_reports_item_with_unknown_type() =>
        Verifier<UnknownPortProtocolAnalyzer>.VerifyAsync("", Ports("8080/tcp,9000/sctp"),
            new DiagnosticResult(Descriptors.UnknownPortProtocol).WithNoLocation().WithArguments("ContainerPort item Type", "sctp"));

    [TestMethod]
    public Task CSDK1002_accepts_items_with_tcp_udp_or_no_type() =>
        Verifier<UnknownPortProtocolAnalyzer>.VerifyAsync("", Ports("8080/tcp,53/udp,443/,444"));

    [TestMethod]
    public Task CSDK1003_reports_a_duplicate_item_with_no_location() =>
        Verifier<DuplicatePortAnalyzer>.VerifyAsync("[assembly: Containers.Sdk.ContainerPort(8080)]", Ports("8080/tcp,9090/,9090/tcp,53/udp,53/tcp"),
            new DiagnosticResult(Descriptors.DuplicatePort).WithNoLocation().WithArguments(9090, "tcp"));
}
