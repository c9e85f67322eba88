using System.Text.Json;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.Infrastructure;

/// <summary>
/// A small project generated outside the repository that references Containers.Sdk from the test
/// feed, with a NuGet.config that adds the feed and keeps the machine's default sources.
/// </summary>
public sealed class TestProject
{
    private TestProject(string directory, string name)
    {
        Directory = directory;
        Name = name;
    }

    /// <summary>The project directory.</summary>
    public string Directory { get; }

    /// <summary>The project name (and AssemblyName unless the project says otherwise).</summary>
    public string Name { get; }

    /// <summary>The .csproj path.</summary>
    public string ProjectFile => Path.Combine(Directory, Name + ".csproj");

    /// <summary>
    /// Writes a project: <paramref name="sdk"/> (Microsoft.NET.Sdk or .Web/.Worker), net10.0,
    /// <paramref name="properties"/> and <paramref name="items"/> as raw MSBuild XML, and
    /// <paramref name="program"/> as Program.cs.
    /// </summary>
    public static TestProject Create(
        string name,
        string properties = "",
        string items = "",
        string sdk = "Microsoft.NET.Sdk",
        string program = "System.Console.WriteLine(\"hello from the container\");",
        string? parentDirectory = null)
    {
        var root = parentDirectory ?? PackageFeed.NewWorkDirectory(name);
        var directory = System.IO.Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        WriteNuGetConfig(root);
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
            {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Containers.Sdk" Version="{PackageFeed.PackageVersion}" />
              </ItemGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
        return new TestProject(directory, name);
    }

    /// <summary>Writes a NuGet.config into <paramref name="directory"/> that adds the test feed and keeps the machine's default sources.</summary>
    public static void WriteNuGetConfig(string directory) =>
        File.WriteAllText(Path.Combine(directory, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="containers-sdk-tests" value="{PackageFeed.FeedDirectory}" />
              </packageSources>
            </configuration>
            """);

    /// <summary>Runs <c>dotnet</c> in <paramref name="workingDirectory"/> with the test environment.</summary>
    public static Task<ToolResult> RunDotnetAsync(IEnumerable<string> arguments, string workingDirectory, CancellationToken cancellationToken) =>
        TestTools.RunAsync("dotnet", arguments, workingDirectory, DotnetEnvironment.Variables, cancellationToken);

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> in the project directory.</summary>
    public Task<ToolResult> DotnetAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, CancellationToken cancellationToken = default) =>
        TestTools.RunAsync("dotnet", arguments, Directory, DotnetEnvironment.With(environment), cancellationToken);

    /// <summary>
    /// Runs <paramref name="target"/> with restore and returns the requested properties and items
    /// (MSBuild's <c>-getProperty</c>/<c>-getItem</c> JSON); fails the test with the log when the build fails.
    /// </summary>
    public async Task<EvaluationResult> EvaluateAsync(string target, IEnumerable<string> properties, IEnumerable<string>? items = null, IEnumerable<string>? globalProperties = null, CancellationToken cancellationToken = default)
    {
        var result = await RunTargetAsync(target, properties, items, globalProperties, cancellationToken);
        if (result.ExitCode != 0)
        {
            Assert.Fail($"`dotnet msbuild -t:{target}` failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
        }

        return EvaluationResult.Parse(result.StandardOutput);
    }

    /// <summary>Like <see cref="EvaluateAsync"/> but returns the raw tool result, for builds expected to fail.</summary>
    public Task<ToolResult> RunTargetAsync(string target, IEnumerable<string> properties, IEnumerable<string>? items = null, IEnumerable<string>? globalProperties = null, CancellationToken cancellationToken = default)
    {
        var arguments = new List<string> { "msbuild", ProjectFile, "-restore", "-nologo", $"-t:{target}", "-getProperty:ContainersSdkEnabled" };
        arguments.AddRange(properties.Select(p => "-getProperty:" + p));
        arguments.AddRange((items ?? []).Select(i => "-getItem:" + i));
        arguments.AddRange((globalProperties ?? []).Select(p => "-p:" + p));
        return DotnetAsync(arguments, cancellationToken: cancellationToken);
    }
}

/// <summary>The properties and items that <c>-getProperty</c> and <c>-getItem</c> printed.</summary>
public sealed class EvaluationResult
{
    private readonly JsonElement _root;

    private EvaluationResult(JsonElement root) => _root = root;

    /// <summary>Parses MSBuild's JSON output.</summary>
    public static EvaluationResult Parse(string json)
    {
        var start = json.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            Assert.Fail($"MSBuild printed no JSON:\n{json}");
        }

        using var document = JsonDocument.Parse(json[start..]);
        return new EvaluationResult(document.RootElement.Clone());
    }

    /// <summary>A property's value ("" when empty or undefined).</summary>
    public string Property(string name) =>
        _root.TryGetProperty("Properties", out var properties) && properties.TryGetProperty(name, out var value) ? value.GetString() ?? "" : "";

    /// <summary>An item type's items, each as its identity and metadata.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Items(string name)
    {
        if (!_root.TryGetProperty("Items", out var items) || !items.TryGetProperty(name, out var list))
        {
            return [];
        }

        return list.EnumerateArray()
            .Select(item => (IReadOnlyDictionary<string, string>)item.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal))
            .ToList();
    }

    /// <summary>The identities of an item type's items, in order.</summary>
    public IReadOnlyList<string> ItemIdentities(string name) => Items(name).Select(i => i["Identity"]).ToList();
}
