namespace Containers.Host.Tests.Lifecycle;

[TestClass]
public sealed class ImageUserTests
{
    private static string Rootfs()
    {
        var root = Directory.CreateTempSubdirectory("image-user-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654:app:/home/app:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc", "group"), "root:x:0:\napp:x:1654:\nshared:x:2000:app\n");
        return root;
    }

    [TestMethod]
    [DataRow("app", 1654u, 1654u, "/home/app")]
    [DataRow("1654", 1654u, 1654u, "/home/app")]
    [DataRow("app:shared", 1654u, 2000u, "/home/app")]
    [DataRow("4000:4001", 4000u, 4001u, null)]
    [DataRow("", 0u, 0u, "/root")]
    public void User_is_resolved_through_the_images_passwd_and_group(string user, uint uid, uint gid, string? home)
    {
        var root = Rootfs();
        try
        {
            var resolved = ImageUser.Resolve(user, root);
            Assert.AreEqual(uid, resolved.Uid);
            Assert.AreEqual(gid, resolved.Gid);
            Assert.AreEqual(home, resolved.Home);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void Supplementary_groups_come_from_group_membership()
    {
        var root = Rootfs();
        try
        {
            CollectionAssert.AreEqual(new uint[] { 2000 }, ImageUser.Resolve("app", root).AdditionalGids.ToList());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void Unknown_user_name_is_an_error_that_says_what_to_do()
    {
        var root = Rootfs();
        try
        {
            var error = Assert.Throws<Containers.Oci.OciException>(() => ImageUser.Resolve("nobody-here", root));
            StringAssert.Contains(error.Message, "not in its /etc/passwd");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void A_passwd_that_is_a_symlink_is_not_followed()
    {
        var root = Rootfs();
        try
        {
            File.Delete(Path.Combine(root, "etc", "passwd"));
            File.CreateSymbolicLink(Path.Combine(root, "etc", "passwd"), "/etc/passwd");
            Assert.AreEqual(1654u, ImageUser.Resolve("1654", root).Uid);
            Assert.Throws<Containers.Oci.OciException>(() => ImageUser.Resolve("root", root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
