using System.Diagnostics;
using System.Text.Json.Nodes;
using Containers.Oci;

namespace Containers.Host;

/// <summary>The outcome of a run-to-completion container.</summary>
/// <param name="ExitCode">The exit code of the container's process.</param>
/// <param name="StandardOutput">Everything the process wrote to stdout.</param>
/// <param name="StandardError">Everything the process wrote to stderr.</param>
public sealed record ContainerJobResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs a command in a prepared root filesystem with <c>runc run</c> (as root, host network, no
/// terminal) until it exits, then deletes the container and its bundle directory.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class RuncJob
{
    /// <summary>The prefix of every container id and bundle directory this class creates.</summary>
    public const string IdPrefix = "containers-sdk-";

    /// <summary>
    /// Runs <paramref name="args"/> (the full argv; an empty list means the image's Entrypoint + Cmd)
    /// in <paramref name="rootfs"/> with the environment and working directory of <paramref name="config"/>.
    /// </summary>
    public static async Task<ContainerJobResult> RunAsync(string rootfs, ImageConfig config, IReadOnlyList<string> args, string stateDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(args);
        var id = IdPrefix + Guid.NewGuid().ToString("N")[..12];
        var bundle = Path.Combine(Path.GetFullPath(stateDirectory), id);
        Directory.CreateDirectory(bundle);
        try
        {
            await RunRuncAsync(["spec", "--bundle", bundle], cancellationToken).ConfigureAwait(false);
            var specPath = Path.Combine(bundle, "config.json");
            var spec = JsonNode.Parse(await File.ReadAllTextAsync(specPath, cancellationToken).ConfigureAwait(false))!;
            var image = config.Config;
            var argv = args.Count > 0 ? args : [.. image?.Entrypoint ?? [], .. image?.Cmd ?? []];
            if (argv.Count == 0)
            {
                throw new OciException("The image has neither Entrypoint nor Cmd and no arguments were given; pass the command to run.");
            }

            spec["root"]!["path"] = Path.GetFullPath(rootfs);
            spec["root"]!["readonly"] = false;
            var process = spec["process"]!;
            process["terminal"] = false;
            process["args"] = new JsonArray([.. argv.Select(a => (JsonNode)a)]);
            process["env"] = new JsonArray([.. (image?.Env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]).Select(e => (JsonNode)e)]);
            process["cwd"] = string.IsNullOrEmpty(image?.WorkingDir) ? "/" : image!.WorkingDir;
            var namespaces = spec["linux"]!["namespaces"]!.AsArray();
            foreach (var ns in namespaces.Where(n => (string?)n!["type"] == "network").ToList())
            {
                namespaces.Remove(ns);
            }

            await File.WriteAllTextAsync(specPath, spec.ToJsonString(), cancellationToken).ConfigureAwait(false);
            try
            {
                return await RunRuncAsync(["run", "--bundle", bundle, id], cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await RunRuncAsync(["delete", "-f", id], CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            Directory.Delete(bundle, recursive: true);
        }
    }

    private static async Task<ContainerJobResult> RunRuncAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("runc") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new OciException("Could not start runc; install it (apt-get install runc).");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ContainerJobResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
