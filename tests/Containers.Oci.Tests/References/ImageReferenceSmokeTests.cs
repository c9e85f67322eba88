namespace Containers.Oci.Tests.References;

[TestClass]
public sealed class ImageReferenceSmokeTests
{
    [TestMethod]
    public void Loopback_registry_with_port_and_tag()
    {
        var reference = ImageReference.Parse("127.0.0.1:5000/repo:tag");

        Assert.AreEqual("127.0.0.1:5000", reference.Registry);
        Assert.AreEqual("repo", reference.Repository);
        Assert.AreEqual("tag", reference.Tag);
        Assert.IsNull(reference.Digest);
        Assert.AreEqual("tag", reference.Reference);
        Assert.AreEqual("127.0.0.1:5000/repo:tag", reference.ToString());
    }

    [TestMethod]
    public void Docker_hub_name_with_digest()
    {
        const string digest = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

        var reference = ImageReference.Parse("name@" + digest);

        Assert.AreEqual("docker.io", reference.Registry);
        Assert.AreEqual("library/name", reference.Repository);
        Assert.IsNull(reference.Tag);
        Assert.AreEqual(Digest.Parse(digest), reference.Digest);
        Assert.AreEqual(digest, reference.Reference);
    }
}
