using System.Diagnostics;
using Containers.Oci.Digests;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Host.Tests.Unpacking;

[TestClass]
public sealed class RootfsCacheTests
{
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateWorkDirectory() =>
        _work = new TemporaryDirectory("host-cache-");

    [TestCleanup]
    public void RemoveWorkDirectory() => _work.Dispose();

    [TestMethod]
    public void ChainId_of_one_layer_is_its_diff_id_and_chains_by_spec()
    {
        var a = Digest.Parse("sha256:" + new string('a', 64));
        var b = Digest.Parse("sha256:" + new string('b', 64));

        Assert.AreEqual(a.ToString(), RootfsCache.ChainId([a]));
        var expected = "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(a + " " + b))).ToLowerInvariant();
        Assert.AreEqual(expected, RootfsCache.ChainId([a, b]));
    }

    [TestMethod]
    public async Task Second_container_root_reuses_the_cache_and_matches_its_content()
    {
        var token = TestContext.CancellationToken;
        var image = await OciLayout.Open(TestBaseImages.LayoutDirectory).ReadImageAsync("runtime-deps-10.0", cancellationToken: token);
        var cache = new RootfsCache(Path.Combine(_work, "cache"));

        var first = Stopwatch.StartNew();
        await cache.CreateContainerRootAsync(image, Path.Combine(_work, "c1"), token);
        first.Stop();
        var cached = await cache.GetOrUnpackAsync(image, token);
        // A file the unpacker never writes: still there only if the cached tree was reused, not unpacked anew.
        var sentinel = Path.Combine(cached, ".reuse-sentinel");
        await File.WriteAllTextAsync(sentinel, "", token);
        var second = Stopwatch.StartNew();
        await cache.CreateContainerRootAsync(image, Path.Combine(_work, "c2"), token);
        second.Stop();
        TestContext.WriteLine($"first root (unpack + link): {first.ElapsedMilliseconds} ms; second root (link only): {second.ElapsedMilliseconds} ms");

        Assert.IsTrue(File.Exists(sentinel), "the cached rootfs was not unpacked again");
        File.Delete(sentinel);
        Assert.AreEqual(1, Directory.GetDirectories(cache.Directory).Length);
        var passwd = new FileInfo(Path.Combine(_work, "c2", "etc/passwd"));
        Assert.IsTrue(passwd.Exists);
        Assert.AreEqual(
            File.ReadAllText(Path.Combine(cached, "etc/passwd")),
            File.ReadAllText(passwd.FullName));
        Assert.AreEqual(
            new FileInfo(Path.Combine(cached, "etc")).UnixFileMode,
            new FileInfo(Path.Combine(_work, "c2", "etc")).UnixFileMode);
    }

    [TestMethod]
    public void Prune_keeps_the_most_recently_used_and_those_in_use()
    {
        var cache = new RootfsCache(Path.Combine(_work, "prune"));
        for (var i = 0; i < 5; i++)
        {
            var chain = Directory.CreateDirectory(Path.Combine(cache.Directory, $"sha256-{i:x64}"));
            File.WriteAllText(Path.Combine(chain.FullName, "file"), "x");
            Directory.SetLastWriteTimeUtc(chain.FullName, DateTime.UtcNow.AddMinutes(i - 10));
        }

        // Oldest is 0; keep the 2 newest (4, 3) plus 0, which a running container uses.
        var deleted = cache.Prune(2, () => new HashSet<string>(StringComparer.Ordinal) { $"sha256-{0:x64}" });

        Assert.AreEqual(2, deleted);
        CollectionAssert.AreEquivalent(
            new[] { $"sha256-{0:x64}", $"sha256-{3:x64}", $"sha256-{4:x64}" },
            Directory.GetDirectories(cache.Directory).Select(Path.GetFileName).ToList());
    }

    [TestMethod]
    public void Prune_deletes_nothing_while_a_chain_is_being_taken_into_use()
    {
        var cache = new RootfsCache(Path.Combine(_work, "prune-locked"));
        for (var i = 0; i < 3; i++)
        {
            Directory.CreateDirectory(Path.Combine(cache.Directory, $"sha256-{i:x64}"));
            Directory.SetLastWriteTimeUtc(Path.Combine(cache.Directory, $"sha256-{i:x64}"), DateTime.UtcNow.AddMinutes(i - 10));
        }

        var asked = 0;
        using (cache.AcquireUse())
        {
            // As another process's start would: found its chain, not yet recorded it as used.
            Assert.AreEqual(0, cache.Prune(1, () => { asked++; return new HashSet<string>(StringComparer.Ordinal); }));
            Assert.AreEqual(0, asked, "the containers' records are read only under the lock");
            Assert.AreEqual(3, Directory.GetDirectories(cache.Directory).Length);
        }

        Assert.AreEqual(2, cache.Prune(1, () => new HashSet<string>(StringComparer.Ordinal)));
        CollectionAssert.AreEqual(new[] { $"sha256-{2:x64}" }, Directory.GetDirectories(cache.Directory).Select(Path.GetFileName).ToList());
    }
}
