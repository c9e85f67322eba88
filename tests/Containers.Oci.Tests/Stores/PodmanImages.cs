using Containers.TestSupport;

namespace Containers.Oci.Tests.Stores;

/// <summary>
/// Loads archives into podman's local storage for checks, under names unique to the test, and removes
/// them afterwards. podman runs as root here; `podman load` works though `podman run` does not.
/// </summary>
internal sealed class PodmanImages : IAsyncDisposable
{
    private readonly string _podman;
    private readonly List<string> _loaded = [];
    private readonly CancellationToken _cancellationToken;

    public PodmanImages(CancellationToken cancellationToken)
    {
        _podman = TestTools.Require("podman", "podman");
        _cancellationToken = cancellationToken;
        Repository = $"localhost/stores-test-{Guid.NewGuid():N}";
    }

    /// <summary>A repository name no other test uses.</summary>
    public string Repository { get; }

    public async Task<ToolResult> LoadAsync(string archive, params string[] expectedNames)
    {
        _loaded.AddRange(expectedNames);
        return await TestTools.RunCheckedAsync(_podman, ["load", "-i", archive], cancellationToken: _cancellationToken);
    }

    public Task<ToolResult> RunAsync(params string[] arguments) => TestTools.RunCheckedAsync(_podman, arguments, cancellationToken: _cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _loaded)
        {
            await TestTools.RunAsync(_podman, ["rmi", "-f", name], cancellationToken: CancellationToken.None);
        }
    }
}
