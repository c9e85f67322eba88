using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.Models;

namespace Containers.Oci.Tests.Models;

[TestClass]
public sealed class OciJsonTests
{
    [TestMethod]
    public void Manifest_serializes_compactly_without_escaping_media_types()
    {
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = Descriptor.For(MediaTypes.OciConfig, "{}"u8),
            Layers = [Descriptor.For(MediaTypes.OciLayerGzip, "x"u8)],
        };

        var json = Encoding.UTF8.GetString(OciJson.Serialize(manifest));

        StringAssert.StartsWith(json, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{");
        Assert.Contains("\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\"", json);
        Assert.DoesNotContain("annotations", json);
    }

    [TestMethod]
    public void Empty_descriptor_matches_the_digest_of_an_empty_json_object()
    {
        Assert.AreEqual(Digest.Compute("{}"u8), Descriptor.Empty.Digest);
        Assert.AreEqual("{}", Encoding.UTF8.GetString(Convert.FromBase64String(Descriptor.Empty.Data!)));
    }

    [TestMethod]
    public void Config_round_trip_preserves_unknown_fields_at_every_level()
    {
        const string json = """
            {"architecture":"amd64","os":"linux","created":"2024-05-01T10:20:30.123456789Z","x-vendor":{"a":[1,2]},
             "config":{"Env":["A=1"],"ArgsEscaped":true,"ExposedPorts":{"80/tcp":{}}},
             "rootfs":{"type":"layers","diff_ids":["sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"]},
             "history":[{"created_by":"x","weird":"y"}]}
            """;

        var config = OciJson.DeserializeConfig(Encoding.UTF8.GetBytes(json));
        var written = Encoding.UTF8.GetString(OciJson.Serialize(config));

        Assert.Contains("\"x-vendor\":{\"a\":[1,2]}", written);
        Assert.Contains("\"ArgsEscaped\":true", written);
        Assert.Contains("\"weird\":\"y\"", written);
        Assert.Contains("\"ExposedPorts\":{\"80/tcp\":{}}", written);
        Assert.Contains("\"created\":\"2024-05-01T10:20:30.1234567Z\"", written);
        Assert.AreEqual(config, config with { });
    }

    [TestMethod]
    public void Malformed_digest_in_a_manifest_is_refused_with_the_reason()
    {
        var json = """{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:abc","size":1},"layers":[]}"""u8.ToArray();

        var error = Assert.ThrowsExactly<OciException>(() => OciJson.DeserializeManifest(json, "manifest of test:1"));

        Assert.Contains("manifest of test:1", error.Message);
        Assert.Contains("64", error.Message);
    }

    [TestMethod]
    public void Shape_detects_index_and_manifest_without_media_type()
    {
        Assert.AreEqual(MediaTypes.OciIndex, OciJson.DetectManifestMediaType("""{"schemaVersion":2,"manifests":[]}"""u8));
        Assert.AreEqual(MediaTypes.OciManifest, OciJson.DetectManifestMediaType("""{"schemaVersion":2,"config":{},"layers":[]}"""u8));
        Assert.AreEqual(MediaTypes.DockerManifest, OciJson.DetectManifestMediaType("""{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"""u8));
    }

    [TestMethod]
    [DataRow("A=b", "A", "b")]
    [DataRow("A=b=c", "A", "b=c")]
    [DataRow("A=", "A", "")]
    [DataRow("A", "A", "")]
    public void An_environment_entry_splits_at_its_first_equals_sign(string entry, string name, string value)
    {
        Assert.AreEqual((name, value), ContainerConfig.SplitEnvironmentVariable(entry));
    }
}
