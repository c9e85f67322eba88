using Containers.TestSupport;

namespace Containers.Host.Tests.Lifecycle;

/// <summary>
/// Reaping asks the podman CLI (a few hundred milliseconds a command) only when something of this cache the CLI ran
/// may be left: a process that used it for this cache is gone, or a container being reaped ran with it. Every other
/// start — a runc start on a machine where podman is installed and was used once — pays nothing for it.
/// </summary>
[TestClass]
public sealed class CliReapingTests
{
    private const string GoneOwner = "999999999 1";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void The_CLI_is_asked_only_about_owners_that_used_it_and_are_gone()
    {
        TestTools.Require("podman", "podman");
        using var cache = new TemporaryDirectory("host-cli-reaping-");
        static bool OwnerLives(string ownerFile) => OwnerStamp.IsFileOwnerAlive(ownerFile);
        bool AsksTheCli(IReadOnlyCollection<string> deadContainers, out IReadOnlyList<string> markers) =>
            RuntimeSelector.ForCleanup(cache, OwnerLives, deadContainers, out markers).OfType<CliRuntime>().Any();

        Assert.IsFalse(AsksTheCli([], out _), "a cache the CLI never ran for");

        // This live process selects the CLI: its marker is written, and it is not reaped while it lives.
        var selected = RuntimeSelector.Select(ContainerBackendKind.Cli, cache, line => TestContext.WriteLine(line));
        Assert.IsInstanceOfType<CliRuntime>(selected.Single());
        var users = Directory.GetFiles(Path.Combine(cache, "podman-users"));
        Assert.HasCount(1, users);
        Assert.AreEqual(OwnerStamp.Process, File.ReadAllText(users[0]));
        Assert.IsFalse(AsksTheCli([], out _), "the CLI's only user lives");

        // A user that is gone (a killed test run): the CLI is asked, and that marker is the one to delete afterwards.
        var goneMarker = Path.Combine(cache, "podman-users", GoneOwner.Replace(' ', '-'));
        File.WriteAllText(goneMarker, GoneOwner);
        Assert.IsTrue(AsksTheCli([], out var markers));
        CollectionAssert.AreEqual(new[] { goneMarker }, markers.ToArray());
        File.Delete(goneMarker);

        // A container being reaped that the CLI ran, whatever the markers say.
        var container = Directory.CreateDirectory(Path.Combine(cache, "containers", ContainerHost.IdPrefix + "reaped")).FullName;
        RuntimeSelector.RecordBackend(container, "runc");
        Assert.IsFalse(AsksTheCli([container], out _), "a runc container is runc's to delete");
        RuntimeSelector.RecordBackend(container, "podman");
        Assert.IsTrue(AsksTheCli([container], out markers));
        Assert.IsEmpty(markers);
    }

    [TestMethod]
    public async Task Reaping_deletes_the_markers_of_gone_owners_so_the_next_start_does_not_ask_again()
    {
        TestTools.Require("podman", "podman");
        using var cache = new TemporaryDirectory("host-cli-reaping-");
        var users = Directory.CreateDirectory(Path.Combine(cache, "podman-users")).FullName;
        var goneMarker = Path.Combine(users, GoneOwner.Replace(' ', '-'));
        await File.WriteAllTextAsync(goneMarker, GoneOwner, TestContext.CancellationToken);
        var liveMarker = Path.Combine(users, OwnerStamp.Process.Replace(' ', '-'));
        await File.WriteAllTextAsync(liveMarker, OwnerStamp.Process, TestContext.CancellationToken);

        // The older form of the marker (one file, no owner) is taken for gone once, then replaced by the per-owner ones.
        var legacy = Path.Combine(cache, "podman-used");
        await File.WriteAllTextAsync(legacy, "", TestContext.CancellationToken);

        await ContainerHost.ReapAsync(cache, line => TestContext.WriteLine(line), TestContext.CancellationToken);

        Assert.IsFalse(File.Exists(goneMarker), "the gone owner's marker is deleted once the CLI was asked");
        Assert.IsFalse(File.Exists(legacy));
        Assert.IsTrue(File.Exists(liveMarker), "a live owner's marker stays");
        Assert.IsFalse(RuntimeSelector.ForCleanup(cache, OwnerStamp.IsFileOwnerAlive, [], out _).OfType<CliRuntime>().Any());
    }
}
