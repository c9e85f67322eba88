using System.Text.RegularExpressions;
using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// Containers.Testing with the MSTest a user has: the test project of docs/containers-testing.md, as written there, on
/// the MSTest that `dotnet new mstest` pins, runs its test; an adapter and a framework of two versions stop the build
/// with CONTAINER9030 instead of a green run that ran nothing.
/// </summary>
public sealed partial class PublishContainerTests
{
    // What `dotnet new mstest` of this SDK pins (the template's MSTest metapackage version).
    private const string TemplateMSTestVersion = "4.0.2";

    [TestMethod]
    public async Task The_documented_test_project_on_the_mstest_template_version_runs_its_test()
    {
        RuncRunner.RequireRunc();
        var root = PackageFeed.NewWorkDirectory("docs-sample");
        var samples = Path.Combine(PackageFeed.RepositoryRoot, "samples");
        File.Copy(Path.Combine(samples, "Directory.Build.props"), Path.Combine(root, "Directory.Build.props"));
        CopyDirectory(Path.Combine(samples, "WebApi"), Path.Combine(root, "WebApi"));
        TestProject.WriteNuGetConfig(root);

        // The docs' first project and first C# file, with only the versions replaced; no Directory.Build.* of the
        // samples applies to it (a Directory.Build.targets in a directory of its own stops the search upwards).
        var docs = await File.ReadAllTextAsync(Path.Combine(PackageFeed.RepositoryRoot, "docs", "containers-testing.md"), TestContext.CancellationToken);
        var project = Regex.Match(docs, "```xml\n(<Project.*?</Project>)\n```", RegexOptions.Singleline).Groups[1].Value
            .Replace("""<PackageReference Include="MSTest" Version="4.5.2" />""", $"""<PackageReference Include="MSTest" Version="{TemplateMSTestVersion}" />""", StringComparison.Ordinal)
            .Replace("""<PackageReference Include="Containers.Testing" Version="0.1.0" />""", $"""<PackageReference Include="Containers.Testing" Version="{PackageFeed.PackageVersion}" />""", StringComparison.Ordinal);
        var test = Regex.Match(docs, "```csharp\n(.*?)\n```", RegexOptions.Singleline).Groups[1].Value;
        StringAssert.Contains(project, TemplateMSTestVersion);
        StringAssert.Contains(project, PackageFeed.PackageVersion);
        var tests = Directory.CreateDirectory(Path.Combine(root, "WebApi.Tests")).FullName;
        await File.WriteAllTextAsync(Path.Combine(tests, "Directory.Build.props"), "<Project />", TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(tests, "Directory.Build.targets"), "<Project />", TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(tests, "WebApi.Tests.csproj"), project, TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(tests, "WebApiSmokeTests.cs"), test, TestContext.CancellationToken);

        var result = await TestProject.RunDotnetAsync(
            ["test", Path.Combine(tests, "WebApi.Tests.csproj"), "-nologo", $"-p:ContainersSdkVersion={PackageFeed.PackageVersion}", $"-p:ContainerBaseRegistry={Registry.Host}", "--logger", "console;verbosity=detailed"],
            root,
            TestContext.CancellationToken);
        var output = result.StandardOutput + result.StandardError;
        TestContext.WriteLine(output);

        Assert.AreEqual(0, result.ExitCode, FailuresFirst(output));
        StringAssert.Matches(output, new Regex(@"Total tests: 1\s+Passed: 1\s"), "the test ran and passed, not \"No test is available\"");
        StringAssert.Contains(output, "Passed Healthz_answers_ok");
    }

    [TestMethod]
    public async Task A_test_adapter_and_framework_of_two_versions_stop_the_build_with_CONTAINER9030()
    {
        var root = PackageFeed.NewWorkDirectory("mstest-mismatch");
        TestProject.WriteNuGetConfig(root);
        var directory = Directory.CreateDirectory(Path.Combine(root, "Mismatched.Tests")).FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "Mismatched.Tests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
                <PackageReference Include="MSTest.TestAdapter" Version="{TemplateMSTestVersion}" />
                <PackageReference Include="MSTest.TestFramework" Version="4.5.2" />
                <PackageReference Include="Containers.Testing" Version="{PackageFeed.PackageVersion}" />
              </ItemGroup>
            </Project>
            """, TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "Test1.cs"), """
            [TestClass]
            public sealed class Test1
            {
                [TestMethod]
                public void Runs() => Assert.IsTrue(true);
            }
            """, TestContext.CancellationToken);

        var result = await TestProject.RunDotnetAsync(["test", Path.Combine(directory, "Mismatched.Tests.csproj"), "-nologo"], root, TestContext.CancellationToken);
        var output = result.StandardOutput + result.StandardError;
        TestContext.WriteLine(output);

        Assert.AreNotEqual(0, result.ExitCode, output);
        StringAssert.Contains(output, $"error CONTAINER9030: The test adapter MSTest.TestAdapter {TemplateMSTestVersion} and the test framework MSTest.TestFramework 4.5.2 differ");
        StringAssert.Contains(output, """Reference the MSTest metapackage alone, which brings both in one version (<PackageReference Include="MSTest" Version="4.5.2" />)""");
        Assert.DoesNotContain("Test run for", output, "the build stopped before any test run");
    }
}
