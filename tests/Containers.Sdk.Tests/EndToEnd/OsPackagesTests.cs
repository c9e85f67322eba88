using System.Text.Json;
using System.Text.RegularExpressions;
using Containers.Sdk.Tests.Infrastructure;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.EndToEnd;

/// <summary>
/// ContainerOsPackage end to end: `dotnet publish -t:PublishContainer` of a real project against the packed package,
/// with curl and fonts-dejavu-core from a real signed apt repository on 127.0.0.1, on the test base from the real
/// registry; the image runs under runc and uses both; the lock file is kept; a wrong key is refused with a coded error.
/// </summary>
public sealed partial class PublishContainerTests
{
    private const string FontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    [TestMethod]
    public async Task Os_packages_are_a_locked_layer_that_the_app_uses_under_runc()
    {
        RuncRunner.RequireRunc();
        await using var apt = await LocalAptRepository.CreateAsync(["curl", "fonts-dejavu-core"], TestContext.CancellationToken);
        var releaseUrl = new Uri(apt.Uri, $"dists/{LocalAptRepository.Suite}/Release");
        var project = TestProject.Create(
            "OsPackagesApp",
            $"<ContainerBaseRegistry>{Registry.Host}</ContainerBaseRegistry><ContainerOciLayoutPath>layout</ContainerOciLayoutPath><ContainerImageTag>1.0</ContainerImageTag><ContainerOsPackagesCacheDirectory>os-package-cache</ContainerOsPackagesCacheDirectory>",
            $"""
                <ContainerOsPackage Include="curl" />
                <ContainerOsPackage Include="fonts-dejavu-core" />
                <ContainerOsPackageSource Include="{apt.Uri}" Suite="{LocalAptRepository.Suite}" Components="{LocalAptRepository.Component}" KeyFile="{apt.KeyFile}" />
            """,
            program: $$"""
                using System.Diagnostics;
                // What a health check would do: curl an HTTP endpoint.
                var curl = Process.Start(new ProcessStartInfo("curl", "-fsS {{releaseUrl}}") { RedirectStandardOutput = true })!;
                var body = curl.StandardOutput.ReadToEnd();
                curl.WaitForExit();
                Console.WriteLine($"curl exit {curl.ExitCode}, signed by the test repository: {body.Contains("Origin: Containers.Sdk tests")}");
                Console.WriteLine($"font present: {File.Exists("{{FontPath}}")}");
                """);

        var publish = await PublishCheckedAsync(project);

        Assert.Contains("Layer 'os-packages'", publish.StandardOutput);
        var lockFile = Path.Combine(project.Directory, "container-packages.lock.json");
        Assert.IsTrue(File.Exists(lockFile), "the lock file is written beside the project");
        var lockText = await File.ReadAllTextAsync(lockFile, TestContext.CancellationToken);
        var locked = JsonDocument.Parse(lockText).RootElement.GetProperty("packages").GetProperty("amd64").EnumerateArray().ToArray();
        Assert.IsTrue(locked.Any(p => p.GetProperty("name").GetString() == "curl"), lockText);
        Assert.IsTrue(locked.All(p => p.GetProperty("sha256").GetString()!.Length == 64), lockText);

        // The packages with maintainer scripts, as dpkg-deb -I shows them, are named in warning CONTAINER8130 (their scripts are not run).
        var dpkgDeb = TestTools.Require("dpkg-deb", "dpkg");
        var withScripts = new List<string>();
        foreach (var package in locked)
        {
            var info = await TestTools.RunCheckedAsync(dpkgDeb, ["-I", Path.Combine(apt.Root, package.GetProperty("filename").GetString()!)], cancellationToken: TestContext.CancellationToken);
            if (MaintainerScriptLine().IsMatch(info.StandardOutput))
            {
                withScripts.Add(package.GetProperty("name").GetString()!);
            }
        }

        var warning = publish.StandardOutput.Split('\n').FirstOrDefault(l => l.Contains("CONTAINER8130", StringComparison.Ordinal));
        Assert.AreEqual(withScripts.Count > 0, warning is not null, $"packages with scripts: [{string.Join(", ", withScripts)}]; warning: {warning}");
        foreach (var name in withScripts)
        {
            Assert.Contains(name, warning!);
        }

        var layout = Path.Combine(project.Directory, "layout");
        var bundle = await RuncRunner.UnpackAsync(layout, "1.0", project.Directory, TestContext.CancellationToken);
        var run = await RuncRunner.RunToCompletionAsync(bundle, TestContext.CancellationToken);
        Assert.AreEqual(0, run.ExitCode, run.StandardOutput + run.StandardError);
        Assert.Contains("curl exit 0, signed by the test repository: True", run.StandardOutput);
        Assert.Contains("font present: True", run.StandardOutput);

        // dpkg-query reads the packages the image declares (its status.d entries) as a dpkg database.
        var admin = Directory.CreateDirectory(Path.Combine(project.Directory, "dpkg-admin")).FullName;
        Directory.CreateDirectory(Path.Combine(admin, "info"));
        Directory.CreateDirectory(Path.Combine(admin, "updates"));
        var entries = Directory.EnumerateFiles(Path.Combine(bundle, "rootfs/var/lib/dpkg/status.d")).Where(f => !f.EndsWith(".md5sums", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(admin, "status"), string.Join("\n", entries.Select(File.ReadAllText)), TestContext.CancellationToken);
        var query = await TestTools.RunCheckedAsync(TestTools.Require("dpkg-query", "dpkg"), ["--admindir", admin, "-W", "-f", "${Package}=${Version}\\n"], cancellationToken: TestContext.CancellationToken);
        foreach (var package in locked)
        {
            Assert.Contains($"{package.GetProperty("name").GetString()}={package.GetProperty("version").GetString()}\n", query.StandardOutput);
        }

        var sbom = Directory.GetFiles(Path.Combine(project.Directory, "obj"), "*.spdx.json", SearchOption.AllDirectories).Single(f => !f.Contains("/.cache/", StringComparison.Ordinal));
        Assert.Contains("pkg:deb/debian/curl@", await File.ReadAllTextAsync(sbom, TestContext.CancellationToken));

        // Locked mode with the repository grown a newer version: the lock is used as is, the image does not change.
        var firstDigest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), TestContext.CancellationToken)).RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        var fontsVersion = locked.Single(p => p.GetProperty("name").GetString() == "fonts-dejavu-core").GetProperty("version").GetString()!;
        await apt.AddRebuiltVersionAsync("fonts-dejavu-core", fontsVersion + "+rebuilt1", TestContext.CancellationToken);
        var again = await PublishCheckedAsync(project, "ContainerOsPackagesLockedMode=true");
        Assert.Contains(firstDigest, again.StandardOutput, "the same lock gives the same image");
        Assert.AreEqual(lockText, await File.ReadAllTextAsync(lockFile, TestContext.CancellationToken));

        // A key that did not sign the repository: a coded error naming the source, no stack trace, no image.
        var otherKey = await apt.CreateUnrelatedKeyFileAsync(TestContext.CancellationToken);
        var projectText = await File.ReadAllTextAsync(project.ProjectFile, TestContext.CancellationToken);
        await File.WriteAllTextAsync(project.ProjectFile, projectText.Replace(apt.KeyFile, otherKey, StringComparison.Ordinal), TestContext.CancellationToken);
        var refused = await PublishAsync(project, "ContainerOsPackagesForceResolve=true", "ContainerImageTag=refused");
        Assert.AreNotEqual(0, refused.ExitCode);
        Assert.Contains("CONTAINER8124", refused.StandardOutput);
        Assert.Contains(apt.Uri.ToString().TrimEnd('/'), refused.StandardOutput);
        Assert.DoesNotContain("   at ", refused.StandardOutput);
        Assert.DoesNotContain("refused", await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), TestContext.CancellationToken), "nothing is published");
    }

    [GeneratedRegex(@"^\s*\d+ bytes,\s+\d+ lines\s+\*?\s*(preinst|postinst|prerm|postrm|config)\s", RegexOptions.Multiline)]
    private static partial Regex MaintainerScriptLine();
}
