using Containers.Oci.References;
using Containers.Oci.Transports;

namespace Containers.Oci.Tests.Transports;

[TestClass]
public sealed class ImageLocationTests
{
    [TestMethod]
    [DataRow("oci:/tmp/layout", ImageTransport.OciLayout, "/tmp/layout", null)]
    [DataRow("oci:/tmp/layout:1.0", ImageTransport.OciLayout, "/tmp/layout", "1.0")]
    [DataRow("oci:relative/dir:latest", ImageTransport.OciLayout, "relative/dir", "latest")]
    [DataRow("oci:/tmp/a:b/c", ImageTransport.OciLayout, "/tmp/a:b/c", null)]
    [DataRow("oci-archive:/tmp/app.tar", ImageTransport.OciArchive, "/tmp/app.tar", null)]
    [DataRow("oci-archive:/tmp/app.tar.gz:1.0", ImageTransport.OciArchive, "/tmp/app.tar.gz", "1.0")]
    [DataRow("docker-archive:app.tar", ImageTransport.DockerArchive, "app.tar", null)]
    [DataRow("docker-archive:/tmp/app.tar:team/app:1.0", ImageTransport.DockerArchive, "/tmp/app.tar", "team/app:1.0")]
    public void File_forms_name_a_path_and_an_optional_reference(string text, ImageTransport transport, string path, string? reference)
    {
        var location = ImageLocation.Parse(text);

        Assert.AreEqual(transport, location.Transport);
        Assert.AreEqual(path, location.Path);
        Assert.AreEqual(reference, location.Reference);
        Assert.IsNull(location.RegistryReference);
        Assert.AreEqual(text, location.ToString());
    }

    [TestMethod]
    [DataRow("127.0.0.1:5000/team/app:1.0", "127.0.0.1:5000/team/app:1.0")]
    [DataRow("docker://127.0.0.1:5000/team/app:1.0", "127.0.0.1:5000/team/app:1.0")]
    [DataRow("postgres:15", "docker.io/library/postgres:15")]
    public void Registry_forms_name_a_reference(string text, string expected)
    {
        var location = ImageLocation.Parse(text);

        Assert.AreEqual(ImageTransport.Registry, location.Transport);
        Assert.AreEqual(ImageReference.Parse(expected), location.RegistryReference);
        Assert.IsNull(location.Path);
    }

    [TestMethod]
    [DataRow("containerd:app:1.0", "k8s.io", "docker.io/library/app:1.0")]
    [DataRow("containerd:team/app", "k8s.io", "docker.io/team/app:latest")]
    [DataRow("containerd:k8s.io/docker.io/library/app:1.0", "k8s.io", "docker.io/library/app:1.0")]
    [DataRow("containerd:default/localhost:5000/app", "default", "localhost:5000/app:latest")]
    [DataRow("containerd:127.0.0.1:5000/team/app:2", "k8s.io", "127.0.0.1:5000/team/app:2")]
    public void Containerd_names_a_namespace_only_before_a_full_name_and_normalizes_the_name_as_kubernetes_does(string text, string expectedNamespace, string expectedName)
    {
        var location = ImageLocation.Parse(text);

        Assert.AreEqual(ImageTransport.Containerd, location.Transport);
        Assert.AreEqual(expectedNamespace, location.ContainerdNamespace);
        Assert.AreEqual(expectedName, location.Reference);
        Assert.AreEqual($"containerd:{expectedNamespace}/{expectedName}", location.ToString());
        Assert.AreEqual(location.ToString(), ImageLocation.Parse(location.ToString()).ToString(), "what it prints parses back to the same");
        var refused = Assert.ThrowsExactly<OciException>(() => location.CreateSource());
        StringAssert.Contains(refused.Message, "not read from it");
    }

    [TestMethod]
    [DataRow("Not An Image!")]
    [DataRow("oci:")]
    [DataRow("docker-archive::app:1.0")]
    [DataRow("")]
    public void Anything_else_is_refused_with_the_forms_in_the_message(string text)
    {
        Assert.IsFalse(ImageLocation.TryParse(text, out _, out var error));
        StringAssert.Contains(error, "oci:DIRECTORY[:TAG]");
        var thrown = Assert.ThrowsExactly<OciException>(() => ImageLocation.Parse(text));
        Assert.AreEqual(error, thrown.Message);
    }

    [TestMethod]
    [DataRow("containerd:")]
    [DataRow("containerd:Not An Image")]
    public void A_containerd_name_that_is_no_image_is_refused_with_the_form(string text)
    {
        Assert.IsFalse(ImageLocation.TryParse(text, out _, out var error));
        StringAssert.Contains(error, "containerd:[NAMESPACE/]NAME[:TAG]");
    }

    [TestMethod]
    public void A_docker_archive_target_needs_a_name()
    {
        var thrown = Assert.ThrowsExactly<OciException>(() => ImageLocation.Parse("docker-archive:/tmp/app.tar").CreateTarget());
        StringAssert.Contains(thrown.Message, "docker-archive:/tmp/app.tar:NAME:TAG");
    }

    [TestMethod]
    public void A_registry_location_needs_a_client()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => ImageLocation.Parse("127.0.0.1:5000/app:1.0").CreateSource());
        Assert.ThrowsExactly<ArgumentNullException>(() => ImageLocation.Parse("127.0.0.1:5000/app:1.0").CreateTarget());
    }
}
