using System.Formats.Tar;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Host.Tests.Unpacking;

[TestClass]
public sealed class RootfsUnpackerTests
{
    private const string Layer = "sha256:layer-under-test";
    private TemporaryDirectory _work = null!;

    public TestContext TestContext { get; set; } = null!;

    private CancellationToken Token => TestContext.CancellationToken;

    [TestInitialize]
    public void CreateWorkDirectory() =>
        _work = new TemporaryDirectory("host-unpack-");

    [TestCleanup]
    public void RemoveWorkDirectory() => _work.Dispose();

    private string Root => Path.Combine(_work, "rootfs");

    private static MemoryStream Tar(params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        stream.Position = 0;
        return stream;
    }

    private static PaxTarEntry File(string name, string content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        return entry;
    }

    private static PaxTarEntry Dir(string name) =>
        new(TarEntryType.Directory, name) { Mode = (UnixFileMode)0b111_101_101 };

    private static PaxTarEntry Symlink(string name, string target) =>
        new(TarEntryType.SymbolicLink, name) { LinkName = target };

    private static PaxTarEntry HardLink(string name, string target) =>
        new(TarEntryType.HardLink, name) { LinkName = target };

    private Task Apply(params TarEntry[] entries) =>
        RootfsUnpacker.ApplyLayerAsync(Tar(entries), Layer, Root, Token);

    [TestMethod]
    public async Task As_root_entries_get_the_owners_of_their_tar_headers_and_keep_setuid()
    {
        if (Environment.UserName != "root")
        {
            Assert.Inconclusive("owners are applied only as root");
        }

        var data = Dir("var/lib/data/");
        data.Uid = 999;
        data.Gid = 998;
        var tool = File("usr/bin/tool", "#!/bin/sh");
        tool.Uid = 1654;
        tool.Gid = 1654;
        tool.Mode = (UnixFileMode)0b100_111_101_101; // 04755
        var link = Symlink("usr/bin/alias", "tool");
        link.Uid = 1654;
        link.Gid = 1654;

        await Apply(Dir("var/"), Dir("var/lib/"), data, Dir("usr/"), Dir("usr/bin/"), tool, link);

        Assert.AreEqual(((uint)999, (uint)998), NativeMethods.LStat(Path.Combine(Root, "var/lib/data")));
        Assert.AreEqual(((uint)1654, (uint)1654), NativeMethods.LStat(Path.Combine(Root, "usr/bin/tool")));
        Assert.AreEqual(((uint)1654, (uint)1654), NativeMethods.LStat(Path.Combine(Root, "usr/bin/alias")), "the link itself, not its target");
        Assert.AreEqual(((uint)0, (uint)0), NativeMethods.LStat(Path.Combine(Root, "var/lib")));
        Assert.AreEqual((UnixFileMode)0b100_111_101_101, System.IO.File.GetUnixFileMode(Path.Combine(Root, "usr/bin/tool")), "chown ran before chmod, so the setuid bit stays");
    }

    [TestMethod]
    public async Task Whiteout_removes_the_file_from_a_lower_layer()
    {
        await Apply(Dir("etc/"), File("etc/keep", "k"), File("etc/gone", "g"));
        await Apply(File("etc/.wh.gone", string.Empty));

        Assert.IsTrue(System.IO.File.Exists(Path.Combine(Root, "etc/keep")));
        Assert.IsFalse(System.IO.File.Exists(Path.Combine(Root, "etc/gone")));
        Assert.IsFalse(System.IO.File.Exists(Path.Combine(Root, "etc/.wh.gone")));
    }

    [TestMethod]
    public async Task Whiteout_removes_a_whole_directory()
    {
        await Apply(Dir("var/"), Dir("var/cache/"), File("var/cache/a", "a"));
        await Apply(File("var/.wh.cache", string.Empty));

        Assert.IsFalse(Directory.Exists(Path.Combine(Root, "var/cache")));
        Assert.IsTrue(Directory.Exists(Path.Combine(Root, "var")));
    }

    [TestMethod]
    public async Task Opaque_directory_hides_lower_content_but_keeps_its_own_layer_entries()
    {
        await Apply(Dir("app/"), File("app/old", "o"), Dir("app/sub/"), File("app/sub/x", "x"));
        await Apply(Dir("app/"), File("app/.wh..wh..opq", string.Empty), File("app/new", "n"));

        Assert.AreEqual("n", await System.IO.File.ReadAllTextAsync(Path.Combine(Root, "app/new"), Token));
        Assert.IsFalse(System.IO.File.Exists(Path.Combine(Root, "app/old")));
        Assert.IsFalse(Directory.Exists(Path.Combine(Root, "app/sub")));
        Assert.IsFalse(System.IO.File.Exists(Path.Combine(Root, "app/.wh..wh..opq")));
    }

    [TestMethod]
    public async Task Upper_layer_replaces_file_content_and_keeps_mode()
    {
        await Apply(File("a.txt", "one"));
        var executable = File("a.txt", "two");
        executable.Mode = (UnixFileMode)0b111_101_101;
        await Apply(executable);

        Assert.AreEqual("two", await System.IO.File.ReadAllTextAsync(Path.Combine(Root, "a.txt"), Token));
        Assert.AreEqual((UnixFileMode)0b111_101_101, System.IO.File.GetUnixFileMode(Path.Combine(Root, "a.txt")));
    }

    [TestMethod]
    public async Task Symlinks_and_hardlinks_inside_the_root_are_created()
    {
        await Apply(Dir("usr/"), Dir("usr/lib/"), File("usr/lib/libx.so", "lib"), Symlink("lib", "usr/lib"), HardLink("usr/lib/liby.so", "usr/lib/libx.so"));

        Assert.AreEqual("usr/lib", new FileInfo(Path.Combine(Root, "lib")).LinkTarget);
        Assert.AreEqual("lib", await System.IO.File.ReadAllTextAsync(Path.Combine(Root, "usr/lib/liby.so"), Token));
        System.IO.File.AppendAllText(Path.Combine(Root, "usr/lib/libx.so"), "+");
        Assert.AreEqual("lib+", await System.IO.File.ReadAllTextAsync(Path.Combine(Root, "usr/lib/liby.so"), Token), "a hard link shares the inode");
    }

    [TestMethod]
    public async Task Writing_through_an_in_root_symlinked_parent_lands_in_the_link_target()
    {
        await Apply(Dir("usr/"), Dir("usr/lib/"), Symlink("lib", "/usr/lib"));
        await Apply(File("lib/added.so", "a"));

        Assert.AreEqual("a", await System.IO.File.ReadAllTextAsync(Path.Combine(Root, "usr/lib/added.so"), Token));
    }

    [TestMethod]
    public async Task Dot_dot_entry_is_rejected_naming_layer_and_entry()
    {
        var error = await Assert.ThrowsExactlyAsync<UnsafeLayerEntryException>(() => Apply(File("../escaped", "x")));

        Assert.AreEqual(Layer, error.Layer);
        Assert.AreEqual("../escaped", error.EntryName);
        Assert.Contains(Layer, error.Message);
        Assert.Contains("../escaped", error.Message);
        Assert.IsFalse(System.IO.File.Exists(Path.Combine(_work, "escaped")));
    }

    [TestMethod]
    public async Task Absolute_entry_is_rejected()
    {
        var error = await Assert.ThrowsExactlyAsync<UnsafeLayerEntryException>(() => Apply(File("/tmp/escaped", "x")));

        Assert.AreEqual("/tmp/escaped", error.EntryName);
    }

    [TestMethod]
    public async Task Hardlink_to_outside_is_rejected()
    {
        var error = await Assert.ThrowsExactlyAsync<UnsafeLayerEntryException>(() => Apply(HardLink("passwd", "../../../../etc/passwd")));

        Assert.AreEqual("passwd", error.EntryName);
        Assert.Contains("../../../../etc/passwd", error.Message);
    }

    [TestMethod]
    public async Task Absolute_symlink_escape_cannot_write_outside_the_root()
    {
        var outside = Path.Combine(_work, "outside");
        Directory.CreateDirectory(outside);

        await Apply(Symlink("evil", outside), File("evil/pwned", "x"));

        Assert.IsFalse(System.IO.File.Exists(Path.Combine(outside, "pwned")), "the write went outside the root");
        Assert.IsTrue(System.IO.File.Exists(Path.Combine(Root, outside.TrimStart('/'), "pwned")), "absolute link targets are re-rooted");
    }

    [TestMethod]
    public async Task Relative_symlink_escape_through_parent_is_clamped_at_the_root()
    {
        var outside = Path.Combine(_work, "outside2");
        Directory.CreateDirectory(outside);

        await Apply(Symlink("up", "../../../../../../.." + outside), File("up/pwned", "x"));

        Assert.IsFalse(System.IO.File.Exists(Path.Combine(outside, "pwned")), "the write went outside the root");
    }

    [TestMethod]
    public async Task Hardlink_through_symlink_to_outside_file_is_not_made()
    {
        var secret = Path.Combine(_work, "secret");
        await System.IO.File.WriteAllTextAsync(secret, "s", Token);

        var error = await Assert.ThrowsExactlyAsync<UnsafeLayerEntryException>(() => Apply(Symlink("d", _work), HardLink("stolen", "d/secret")));

        Assert.AreEqual("stolen", error.EntryName);
        Assert.IsFalse(System.IO.File.Exists(Path.Combine(Root, "stolen")));
    }

    [TestMethod]
    public async Task Runtime_base_image_unpacks_into_a_usable_rootfs()
    {
        var image = await OciLayout.Open(TestBaseImages.LayoutDirectory).ReadImageAsync("runtime-10.0", cancellationToken: Token);

        await RootfsUnpacker.UnpackAsync(image, Root, Token);

        Assert.IsTrue(System.IO.File.Exists(Path.Combine(Root, "etc/passwd")));
        Assert.IsTrue(Directory.EnumerateFiles(Root, "dotnet", SearchOption.AllDirectories).Any(), "the dotnet host is in the rootfs");
    }
}
