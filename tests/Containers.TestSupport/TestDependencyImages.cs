using System.Runtime.CompilerServices;

namespace Containers.TestSupport;

/// <summary>
/// The dependency images for app-graph tests (PostgreSQL 15, Redis 7) made by eng/dependency-images.sh
/// from Debian packages, and how a test puts them into its <see cref="TestRegistry"/>.
/// </summary>
/// <example>
/// <code>
/// await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, ct);
/// await TestDependencyImages.PushAsync(registry, ct);
/// var postgres = $"{registry.Host}/{TestDependencyImages.PostgresImage}";   // 127.0.0.1:&lt;port&gt;/library/postgres:15
/// </code>
/// </example>
public static class TestDependencyImages
{
    /// <summary>The environment variable that overrides <see cref="DefaultLayoutDirectory"/>.</summary>
    public const string EnvironmentVariable = "CONTAINERS_SDK_TEST_DEPENDENCY_IMAGES";

    /// <summary>The default location of the dependency image OCI layout.</summary>
    public const string DefaultLayoutDirectory = "/var/cache/containers-sdk-tests/dependency-images";

    /// <summary>The PostgreSQL image's name in the layout (its <c>org.opencontainers.image.ref.name</c>).</summary>
    public const string PostgresLayoutReference = "postgres-15";

    /// <summary>The Redis image's name in the layout.</summary>
    public const string RedisLayoutReference = "redis-7";

    /// <summary>Where <see cref="PushAsync"/> puts the PostgreSQL image in a registry, after its host.</summary>
    public const string PostgresImage = "library/postgres:15";

    /// <summary>Where <see cref="PushAsync"/> puts the Redis image in a registry, after its host.</summary>
    public const string RedisImage = "library/redis:7";

    private static readonly (string LayoutReference, string Destination)[] Images =
    [
        (PostgresLayoutReference, PostgresImage),
        (RedisLayoutReference, RedisImage),
    ];

    // One push per registry, shared by every test that asks for it; weak, so a disposed registry's entry goes with it.
    private static readonly ConditionalWeakTable<TestRegistry, Task> Pushes = new();
    private static readonly Lock PushesLock = new();

    /// <summary>
    /// The OCI image layout directory holding postgres-15 and redis-7; marks the test inconclusive when it
    /// has not been built.
    /// </summary>
    public static string LayoutDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            var directory = string.IsNullOrEmpty(configured) ? DefaultLayoutDirectory : configured;
            if (!File.Exists(Path.Combine(directory, "index.json")))
            {
                Assert.Inconclusive($"test dependency images missing: run eng/dependency-images.sh (looked for {Path.Combine(directory, "index.json")})");
            }

            return directory;
        }
    }

    /// <summary>
    /// Pushes both images to <paramref name="registry"/> as <see cref="PostgresImage"/> and <see cref="RedisImage"/>
    /// (<c>skopeo copy</c>, with the registry's push credential unless it is anonymous). Safe to call from parallel
    /// tests: the first call per registry pushes, later and concurrent calls wait for that push; a push that failed
    /// is tried again by the next call. <paramref name="cancellationToken"/> stops this caller's wait, not a push
    /// that other tests may be waiting for. Inconclusive when the layout or skopeo is missing.
    /// </summary>
    public static Task PushAsync(TestRegistry registry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var layout = LayoutDirectory;
        var skopeo = TestTools.Require("skopeo", "skopeo");
        Task push;
        lock (PushesLock)
        {
            if (!Pushes.TryGetValue(registry, out push!) || push.IsFaulted || push.IsCanceled)
            {
                push = Task.Run(() => PushAllAsync(registry, layout, skopeo), CancellationToken.None);
                Pushes.AddOrUpdate(registry, push);
            }
        }

        return push.WaitAsync(cancellationToken);
    }

    private static async Task PushAllAsync(TestRegistry registry, string layout, string skopeo)
    {
        string[] credentials = registry.AuthMode == RegistryAuthMode.Anonymous ? [] : ["--dest-creds", $"{registry.Username}:{registry.Password}"];
        // One after the other: both share the Debian minbase layer, which the second push then finds in the registry.
        foreach (var (layoutReference, destination) in Images)
        {
            await TestTools.RunCheckedAsync(
                skopeo,
                ["copy", "--quiet", "--dest-tls-verify=false", .. credentials, $"oci:{layout}:{layoutReference}", $"docker://{registry.Host}/{destination}"]);
        }
    }
}
