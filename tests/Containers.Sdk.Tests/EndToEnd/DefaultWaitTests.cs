using System.Text.RegularExpressions;
using Containers.Sdk.Tests.Infrastructure;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// The default wait of a real ASP.NET Core app that listens on 9090, not on the base image's 8080: a test project's
/// ContainerUnderTest declares <c>ASPNETCORE_HTTP_PORTS=9090</c> and the app <c>&lt;ContainerPort Include="9090" /&gt;</c>,
/// so the image exposes 8080 (for the base image's variable) and 9090 — the start waits for 9090 and passes; a wait
/// pointed at 8080 fails at once from Kestrel's "Now listening on:" line instead of after 60 s.
/// </summary>
public sealed partial class PublishContainerTests
{
    [TestMethod]
    public async Task An_app_on_port_9090_is_waited_for_on_9090_and_a_wait_on_8080_fails_at_once_naming_both()
    {
        RuncRunner.RequireRunc();
        var root = PackageFeed.NewWorkDirectory("port9090");
        var samples = Path.Combine(PackageFeed.RepositoryRoot, "samples");
        File.Copy(Path.Combine(samples, "Directory.Build.props"), Path.Combine(root, "Directory.Build.props"));
        File.Copy(Path.Combine(samples, "Directory.Build.targets"), Path.Combine(root, "Directory.Build.targets"));
        CopyDirectory(Path.Combine(samples, "WebApi"), Path.Combine(root, "WebApi"));
        var app = Path.Combine(root, "WebApi", "WebApi.csproj");
        await File.WriteAllTextAsync(app, (await File.ReadAllTextAsync(app, TestContext.CancellationToken)).Replace("<ContainerPort Include=\"8080\" Type=\"tcp\" />", "<ContainerPort Include=\"9090\" Type=\"tcp\" />", StringComparison.Ordinal), TestContext.CancellationToken);
        StringAssert.Contains(await File.ReadAllTextAsync(app, TestContext.CancellationToken), "9090");
        var tests = Directory.CreateDirectory(Path.Combine(root, "WebApi.SmokeTests")).FullName;
        await File.WriteAllTextAsync(Path.Combine(tests, "WebApi.SmokeTests.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <IsPackable>false</IsPackable>
                <IsTestProject>true</IsTestProject>
              </PropertyGroup>
              <ItemGroup>
                <ContainerUnderTest Include="../WebApi/WebApi.csproj">
                  <Environment>ASPNETCORE_HTTP_PORTS=9090</Environment>
                </ContainerUnderTest>
              </ItemGroup>
            </Project>
            """, TestContext.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(tests, "PortTests.cs"), """
            using System.Diagnostics;

            [TestClass]
            public sealed class PortTests
            {
                public TestContext TestContext { get; set; } = null!;

                [TestMethod]
                public async Task Default_wait_takes_the_app_port()
                {
                    await using var app = await ContainersUnderTest.WebApi.StartAsync(TestContext);
                    using var http = app.CreateHttpClient(9090);
                    Assert.AreEqual("ok", await http.GetStringAsync("/healthz", TestContext.CancellationToken));
                }

                [TestMethod]
                public async Task A_wait_on_8080_fails_at_once()
                {
                    var clock = Stopwatch.StartNew();
                    var error = await Assert.ThrowsAsync<ContainerStartException>(() => ContainersUnderTest.WebApi.StartAsync(TestContext, options =>
                    {
                        options.WaitStrategies.Clear();
                        options.WaitStrategies.Add(Wait.ForTcpPort(8080));
                    }));
                    TestContext.WriteLine("MESSAGE: " + error.Message);
                    Assert.IsLessThan(30_000, clock.ElapsedMilliseconds, "not after the 60 s startup timeout");
                    StringAssert.Contains(error.Message, "The app listens on port 9090 (its output: 'Now listening on: http://[::]:9090'), not on port 8080 that the wait is for");
                }
            }
            """, TestContext.CancellationToken);
        TestProject.WriteNuGetConfig(root);

        var result = await TestProject.RunDotnetAsync(
            ["test", Path.Combine(tests, "WebApi.SmokeTests.csproj"), "-nologo", $"-p:ContainersSdkVersion={PackageFeed.PackageVersion}", $"-p:ContainerBaseRegistry={Registry.Host}", "--logger", "console;verbosity=detailed"],
            root,
            TestContext.CancellationToken);
        var output = result.StandardOutput + result.StandardError;
        TestContext.WriteLine(output);

        Assert.AreEqual(0, result.ExitCode, FailuresFirst(output));
        StringAssert.Matches(output, new Regex(@"Total tests: 2\s+Passed: 2\s"));
    }
}
