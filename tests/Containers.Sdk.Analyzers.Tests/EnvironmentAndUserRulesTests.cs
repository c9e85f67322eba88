using Containers.Sdk.Analyzers.Rules;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

[TestClass]
public sealed class EnvironmentAndUserRulesTests
{
    [TestMethod]
    [DataRow("1ST")]
    [DataRow("MY-VAR")]
    [DataRow("A=B")]
    [DataRow("")]
    [DataRow("CAFÉ")]
    public Task CSDK1004_reports_invalid_name(string name) =>
        Verifier<InvalidEnvironmentVariableNameAnalyzer>.VerifyAsync($"[assembly: Containers.Sdk.ContainerEnvironment([|\"{name}\"|], \"value\")]");

    [TestMethod]
    public Task CSDK1004_reports_an_invalid_ContainerEnvironmentVariable_item_with_the_item_name() =>
        Verifier<InvalidEnvironmentVariableNameAnalyzer>.VerifyAsync("",
            new Dictionary<string, string> { ["ContainerEnvironmentForAnalyzers"] = @"GOOD=1,BAD-NAME=x\x3By,Logging:LogLevel=Debug" },
            new DiagnosticResult(Descriptors.InvalidEnvironmentVariableName).WithNoLocation().WithArguments("ContainerEnvironmentVariable item", "BAD-NAME"),
            new DiagnosticResult(Descriptors.InvalidEnvironmentVariableName).WithNoLocation().WithArguments("ContainerEnvironmentVariable item", "Logging:LogLevel"));

    [TestMethod]
    public Task CSDK1004_accepts_portable_names() =>
        Verifier<InvalidEnvironmentVariableNameAnalyzer>.VerifyAsync("""
            [assembly: Containers.Sdk.ContainerEnvironment("ASPNETCORE_HTTP_PORTS", "8080")]
            [assembly: Containers.Sdk.ContainerEnvironment("_private1", "x")]
            """);

    [TestMethod]
    [DataRow("root")]
    [DataRow("0")]
    [DataRow("root:root")]
    [DataRow("0:1000")]
    public Task CSDK1005_reports_root_user(string user) =>
        Verifier<ContainerUserIsRootAnalyzer>.VerifyAsync($"[assembly: Containers.Sdk.ContainerUser([|\"{user}\"|])]");

    [TestMethod]
    [DataRow("app")]
    [DataRow("1000")]
    [DataRow("1000:0")]
    [DataRow("rooter")]
    public Task CSDK1005_accepts_non_root_user(string user) =>
        Verifier<ContainerUserIsRootAnalyzer>.VerifyAsync($"[assembly: Containers.Sdk.ContainerUser(\"{user}\")]");

    [TestMethod]
    [DataRow("root")]
    [DataRow(" 0:0 ")]
    public Task CSDK1005_reports_a_root_ContainerUser_property_with_the_property_name(string user) =>
        Verifier<ContainerUserIsRootAnalyzer>.VerifyAsync("",
            new Dictionary<string, string> { ["ContainerUser"] = user },
            new DiagnosticResult(RuleIds.ContainerUserIsRoot, DiagnosticSeverity.Warning).WithNoLocation().WithMessage(
                $"ContainerUser '{user.Trim()}' makes the container run as root; leave ContainerUser empty to use the base image's non-root user (APP_UID), or set a non-root user such as \"app\""));

    [TestMethod]
    [DataRow("app")]
    [DataRow("")]
    public Task CSDK1005_accepts_a_non_root_or_empty_ContainerUser_property(string user) =>
        Verifier<ContainerUserIsRootAnalyzer>.VerifyAsync("", new Dictionary<string, string> { ["ContainerUser"] = user });
}
