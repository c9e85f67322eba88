namespace Containers.Sdk.Tests.Infrastructure;

/// <summary>The environment every `dotnet` command of the tests runs with.</summary>
public static class DotnetEnvironment
{
    /// <summary>
    /// No MSBuild node reuse (a test must not leave build servers running, and each run must load the
    /// package it just packed), no telemetry or banners, and the run's private package folder.
    /// </summary>
    public static IDictionary<string, string> Variables => new Dictionary<string, string>
    {
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        ["DOTNET_CLI_UI_LANGUAGE"] = "en",
        ["NUGET_PACKAGES"] = PackageFeed.PackagesDirectory,
        // MSBuild reads environment variables as property defaults: the run's own layer cache, not the user's.
        ["ContainerLayerCacheDirectory"] = PackageFeed.LayerCacheDirectory,
        // Every publish in its own build's process: a build server would outlive the test. BuildServerTests turn it on,
        // each with its own data directory, and stop the server they started.
        ["ContainerUseBuildServer"] = "false",
    };

    /// <summary><see cref="Variables"/> with <paramref name="overrides"/> set over them.</summary>
    public static IDictionary<string, string> With(IEnumerable<KeyValuePair<string, string>>? overrides)
    {
        var variables = Variables;
        foreach (var (key, value) in overrides ?? [])
        {
            variables[key] = value;
        }

        return variables;
    }

    /// <summary><see cref="Variables"/> but with the machine's NuGet package folder instead of the run's private one.</summary>
    public static IDictionary<string, string> WithMachinePackageFolder()
    {
        var variables = Variables;
        variables.Remove("NUGET_PACKAGES");
        return variables;
    }
}
