namespace Containers.TestSupport;

/// <summary>
/// npm's @sigstore/verify, installed by eng/install-deps.sh into a cache directory and driven through
/// eng/sigstore/verify.js: an independent check of the sigstore bundles we make.
/// </summary>
public static class TestSigstore
{
    /// <summary>The environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string EnvironmentVariable = "CONTAINERS_SDK_SIGSTORE_JS";

    /// <summary>Where eng/install-deps.sh installs the npm packages (a node_modules directory inside).</summary>
    public const string DefaultDirectory = "/var/cache/containers-sdk-tests/sigstore-js";

    /// <summary>
    /// Verifies <paramref name="bundlePath"/> against the PEM public key <paramref name="publicKeyPath"/>; for a message
    /// signature <paramref name="artifactPath"/> is the signed file, for a DSSE provenance <paramref name="subject"/> a
    /// digest its statement must name. Marks the test inconclusive when node or @sigstore/verify is missing.
    /// </summary>
    /// <returns>The tool's result: exit code 0 when the bundle verifies, 1 with the reason on stderr when not.</returns>
    public static async Task<ToolResult> VerifyAsync(string publicKeyPath, string bundlePath, string? artifactPath = null, string? subject = null, CancellationToken cancellationToken = default)
    {
        var node = TestTools.Require("node", "nodejs");
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var modules = Path.Combine(string.IsNullOrEmpty(configured) ? DefaultDirectory : configured, "node_modules");
        if (!File.Exists(Path.Combine(modules, "@sigstore", "verify", "package.json")))
        {
            Assert.Inconclusive($"requires npm's @sigstore/verify: run eng/install-deps.sh (looked in {modules})");
        }

        string[] arguments = [Path.Combine(LocalPackageFeed.RepositoryRoot, "eng", "sigstore", "verify.js"), "--key", publicKeyPath, "--bundle", bundlePath];
        if (artifactPath is not null)
        {
            arguments = [.. arguments, "--artifact", artifactPath];
        }

        if (subject is not null)
        {
            arguments = [.. arguments, "--subject", subject];
        }

        return await TestTools.RunAsync(node, arguments, environment: new Dictionary<string, string> { ["NODE_PATH"] = modules }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
