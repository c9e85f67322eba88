using Containers.Build.Configuration;

namespace Containers.Build.Tests.Configuration;

/// <summary>Project facts of typical apps, built with SDK 10.0.401 on linux-x64 unless a test says otherwise.</summary>
internal static class TestProjects
{
    public const string Sdk = "10.0.401";

    public static ProjectFacts Console(string tfm = "10.0", string sdk = Sdk) => new()
    {
        AssemblyName = "MyApp",
        TargetFileName = "MyApp.dll",
        TargetFrameworkVersion = tfm,
        SdkVersion = sdk,
        SdkPortableRuntimeIdentifier = "linux-x64",
    };

    public static ProjectFacts Web(string tfm = "10.0", string sdk = Sdk) => Console(tfm, sdk) with { UsesAspNetCore = true };

    public static ProjectFacts SelfContained(string tfm = "10.0", string sdk = Sdk) => Console(tfm, sdk) with { IsSelfContained = true, RuntimeIdentifier = "linux-x64" };

    public static ProjectFacts Aot(string tfm = "10.0", string sdk = Sdk) => Console(tfm, sdk) with { IsAotPublished = true, IsSelfContained = true, RuntimeIdentifier = "linux-x64" };

    public static ResolvedContainerSettings Resolve(ContainerSettings settings, ProjectFacts? project = null)
    {
        var resolution = ContainerSettingsResolver.Resolve(settings, project ?? Console());
        Assert.IsFalse(resolution.HasErrors, string.Join(Environment.NewLine, resolution.Diagnostics));
        return resolution.Settings!;
    }

    public static ContainerDiagnostic SingleError(ContainerSettings settings, ProjectFacts? project = null)
    {
        var resolution = ContainerSettingsResolver.Resolve(settings, project ?? Console());
        var errors = resolution.Diagnostics.Where(d => d.IsError).ToArray();
        Assert.HasCount(1, errors, string.Join(Environment.NewLine, resolution.Diagnostics));
        Assert.IsNull(resolution.Settings);
        return errors[0];
    }
}
