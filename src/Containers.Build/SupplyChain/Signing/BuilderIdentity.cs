namespace Containers.Build.SupplyChain.Signing;

/// <summary>
/// Who ran the build, as SLSA's <c>runDetails</c> names it: the CI system's builder (GitHub Actions, Azure Pipelines,
/// GitLab CI, from their environment variables) or the local machine.
/// </summary>
/// <param name="Id">The builder's URI.</param>
/// <param name="InvocationId">The CI run's URI, or null locally (the provenance then stays the same build after build).</param>
/// <param name="System">A name for messages: <c>GitHub Actions</c>, <c>Azure Pipelines</c>, <c>GitLab CI</c> or <c>local</c>.</param>
public sealed record BuilderIdentity(string Id, string? InvocationId, string System)
{
    /// <summary>Reads the CI environment; with none, the local machine by name.</summary>
    /// <param name="environment">Reads an environment variable; null reads the process's.</param>
    public static BuilderIdentity Detect(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value.Trim() : null;

        if (string.Equals(Get("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase))
        {
            var server = Get("GITHUB_SERVER_URL")?.TrimEnd('/') ?? "";
            var workflow = Get("GITHUB_WORKFLOW_REF");
            var repository = Get("GITHUB_REPOSITORY");
            var id = workflow is not null ? $"{server}/{workflow}" : $"{server}/{repository}/actions";
            var run = Get("GITHUB_RUN_ID") is { } runId
                ? $"{server}/{repository}/actions/runs/{runId}" + (Get("GITHUB_RUN_ATTEMPT") is { } attempt ? "/attempts/" + attempt : "")
                : null;
            return new BuilderIdentity(id, run, "GitHub Actions");
        }

        if (string.Equals(Get("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase))
        {
            var collection = Get("SYSTEM_COLLECTIONURI")?.TrimEnd('/') ?? "";
            var project = Uri.EscapeDataString(Get("SYSTEM_TEAMPROJECT") ?? "");
            var id = $"{collection}/{project}/_build?definitionId={Get("SYSTEM_DEFINITIONID")}";
            var run = Get("BUILD_BUILDID") is { } buildId ? $"{collection}/{project}/_build/results?buildId={buildId}" : null;
            return new BuilderIdentity(id, run, "Azure Pipelines");
        }

        if (string.Equals(Get("GITLAB_CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            var server = Get("CI_SERVER_URL")?.TrimEnd('/') ?? "";
            var id = Get("CI_RUNNER_ID") is { } runner ? $"{server}/{Get("CI_PROJECT_PATH")}/-/runners/{runner}" : $"{server}/{Get("CI_PROJECT_PATH")}";
            return new BuilderIdentity(id, Get("CI_JOB_URL") ?? Get("CI_PIPELINE_URL"), "GitLab CI");
        }

        return new BuilderIdentity("urn:containers-sdk:builder:local:" + Uri.EscapeDataString(Environment.MachineName.ToLowerInvariant()), null, "local");
    }
}
