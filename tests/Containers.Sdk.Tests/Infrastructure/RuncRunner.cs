using System.Diagnostics;
using System.Text.Json.Nodes;
using Containers.TestSupport;

namespace Containers.Sdk.Tests.Infrastructure;

/// <summary>
/// Runs an image from an OCI layout the way a container runtime would, with independent tools:
/// <c>umoci unpack</c> makes the bundle from the image config, <c>runc run</c> starts it. The bundle's
/// config.json is adjusted for a test: no terminal, the host's network (so an HTTP app answers on
/// 127.0.0.1), and no rlimits (the generated ones can exceed the caller's hard limits).
/// </summary>
public static class RuncRunner
{
    /// <summary>Fails the test as inconclusive unless runc can work here (root, tools present).</summary>
    public static void RequireRunc()
    {
        TestTools.Require("umoci", "umoci");
        TestTools.Require("runc", "runc");
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("requires root for runc run (umoci unpack + runc run)");
        }
    }

    /// <summary>Unpacks <paramref name="layout"/>:<paramref name="reference"/> into a runc bundle and returns its directory.</summary>
    public static async Task<string> UnpackAsync(string layout, string reference, string workDirectory, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var bundle = Path.Combine(workDirectory, "bundle-" + Guid.NewGuid().ToString("N")[..8]);
        await TestTools.RunCheckedAsync("umoci", ["unpack", "--image", $"{layout}:{reference}", bundle], cancellationToken: cancellationToken);
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(configPath, cancellationToken))!.AsObject();
        var process = config["process"]!.AsObject();
        process["terminal"] = false;
        process.Remove("rlimits");
        if (environment is not null)
        {
            var env = process["env"]!.AsArray();
            foreach (var (name, value) in environment)
            {
                foreach (var existing in env.Where(e => ((string?)e)?.StartsWith(name + "=", StringComparison.Ordinal) == true).ToList())
                {
                    env.Remove(existing);
                }

                env.Add($"{name}={value}");
            }
        }
        if (config["linux"]?["namespaces"] is JsonArray namespaces)
        {
            foreach (var network in namespaces.Where(n => (string?)n?["type"] == "network").ToList())
            {
                namespaces.Remove(network);
            }
        }

        await File.WriteAllTextAsync(configPath, config.ToJsonString(), cancellationToken);
        return bundle;
    }

    /// <summary>The process arguments umoci took from the image config.</summary>
    public static IReadOnlyList<string> ProcessArguments(string bundle) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!["process"]!["args"]!.AsArray().Select(a => (string)a!).ToList();

    /// <summary>Runs the bundle to completion and returns what it printed.</summary>
    public static async Task<ToolResult> RunToCompletionAsync(string bundle, CancellationToken cancellationToken)
    {
        var id = "containers-sdk-test-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            return await TestTools.RunAsync("runc", ["run", "--bundle", bundle, id], cancellationToken: timeout.Token);
        }
        finally
        {
            await TestTools.RunAsync("runc", ["delete", "--force", id], cancellationToken: CancellationToken.None);
        }
    }

    /// <summary>Starts the bundle detached, its output going to a file; dispose the handle to kill and delete it.</summary>
    public static async Task<RunningContainer> StartDetachedAsync(string bundle, CancellationToken cancellationToken)
    {
        var id = "containers-sdk-test-" + Guid.NewGuid().ToString("N")[..12];
        var log = Path.Combine(Path.GetDirectoryName(bundle)!, id + ".log");
        // runc -d hands its stdio to the container; a file (not our pipe) keeps this call from waiting for the container.
        await TestTools.RunCheckedAsync("/bin/sh", ["-c", $"exec runc run --detach --bundle '{bundle}' {id} >'{log}' 2>&1 </dev/null"], cancellationToken: cancellationToken);
        return new RunningContainer(id, log);
    }

    /// <summary>A container started with <see cref="StartDetachedAsync"/>.</summary>
    public sealed class RunningContainer(string id, string logPath) : IAsyncDisposable
    {
        /// <summary>What the container printed so far.</summary>
        public string ReadLog() => File.Exists(logPath) ? File.ReadAllText(logPath) : "";

        /// <inheritdoc />
        public async ValueTask DisposeAsync()
        {
            await TestTools.RunAsync("runc", ["kill", id, "KILL"]);
            var stopped = Stopwatch.StartNew();
            while (stopped.Elapsed < TimeSpan.FromSeconds(10))
            {
                var state = await TestTools.RunAsync("runc", ["state", id]);
                if (state.ExitCode != 0 || state.StandardOutput.Contains("\"stopped\"", StringComparison.Ordinal))
                {
                    break;
                }

                await Task.Delay(200);
            }

            await TestTools.RunAsync("runc", ["delete", "--force", id]);
        }
    }
}
