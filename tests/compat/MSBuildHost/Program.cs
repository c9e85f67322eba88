// Builds one project with the MSBuild engine this program references, in process, on the runtime it runs on:
//
//   MSBuildHost <project> -t:<targets> [-p:Name=Value]... [-v:<verbosity>] [-getProperty:Name]... [-getItem:Name]...
//       [-outputs:<file>]
//
// It logs like `dotnet msbuild` (console logger) and writes the asked-for properties and items after the build, as
// JSON in the shape of MSBuild's -getProperty/-getItem output, to the -outputs file. Exit code 0 when the build
// succeeded. The first line it prints names the runtime and the MSBuild engine, so a test can tell what it ran on.
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Build.Evaluation;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;
using Microsoft.Build.Logging;

if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: MSBuildHost <project> -t:<targets> [-p:Name=Value]... [-v:q|m|n|d] [-getProperty:Name]... [-getItem:Name]... [-outputs:<file>]");
    return 2;
}

var project = Path.GetFullPath(args[0]);
var targets = new List<string>();
var globalProperties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
var propertiesToReport = new List<string>();
var itemsToReport = new List<string>();
var verbosity = LoggerVerbosity.Minimal;
string? outputsFile = null;
foreach (var argument in args.Skip(1))
{
    var (option, value) = argument.IndexOf(':') is var colon and > 0 ? (argument[..colon], argument[(colon + 1)..]) : (argument, "");
    switch (option)
    {
        case "-t":
            targets.AddRange(value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            break;
        case "-p" when value.IndexOf('=') is var equals and > 0:
            globalProperties[value[..equals]] = value[(equals + 1)..];
            break;
        case "-v":
            verbosity = value switch
            {
                "q" => LoggerVerbosity.Quiet,
                "m" => LoggerVerbosity.Minimal,
                "n" => LoggerVerbosity.Normal,
                "d" => LoggerVerbosity.Detailed,
                _ => throw new ArgumentException($"Unknown verbosity '{value}'."),
            };
            break;
        case "-getProperty":
            propertiesToReport.Add(value);
            break;
        case "-getItem":
            itemsToReport.Add(value);
            break;
        case "-outputs":
            outputsFile = Path.GetFullPath(value);
            break;
        default:
            Console.Error.WriteLine($"MSBuildHost: unknown argument '{argument}'.");
            return 2;
    }
}

var engine = typeof(ProjectCollection).Assembly;
Console.WriteLine($"MSBuildHost: .NET {Environment.Version}, MSBuild {FileVersionInfo.GetVersionInfo(engine.Location).FileVersion} ({Path.GetDirectoryName(engine.Location)})");

// The dotnet CLI tells the tasks of its MSBuild where its host is (the build server is started with it).
var dotnetRoot = Path.Combine(AppContext.BaseDirectory, "dotnet");
if (File.Exists(Path.Combine(dotnetRoot, "dotnet")))
{
    Environment.SetEnvironmentVariable("DOTNET_HOST_PATH", Path.Combine(dotnetRoot, "dotnet"));
}

using var collection = new ProjectCollection(globalProperties);
var parameters = new BuildParameters(collection)
{
    Loggers = [new ConsoleLogger(verbosity)],
    // In this process only: out-of-process nodes would need MSBuild.dll, which the MSBuild packages do not have.
    MaxNodeCount = 1,
    EnableNodeReuse = false,
};
var request = new BuildRequestData(project, globalProperties, toolsVersion: null, targets.ToArray(), hostServices: null, BuildRequestDataFlags.ProvideProjectStateAfterBuild);
var result = BuildManager.DefaultBuildManager.Build(parameters, request);

if (outputsFile is not null && result.ProjectStateAfterBuild is { } state)
{
    var outputs = new Dictionary<string, object>
    {
        ["Properties"] = propertiesToReport.ToDictionary(name => name, name => state.GetPropertyValue(name)),
        ["Items"] = itemsToReport.ToDictionary(
            name => name,
            name => state.GetItems(name).Select(item =>
            {
                var values = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["Identity"] = item.EvaluatedInclude };
                foreach (var metadata in item.Metadata)
                {
                    values[metadata.Name] = metadata.EvaluatedValue;
                }

                return values;
            }).ToList()),
    };
    File.WriteAllText(outputsFile, JsonSerializer.Serialize(outputs, new JsonSerializerOptions { WriteIndented = true }));
}

return result.OverallResult == BuildResultCode.Success ? 0 : 1;
