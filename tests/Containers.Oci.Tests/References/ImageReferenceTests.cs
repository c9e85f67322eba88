using Containers.Oci.Digests;
using Containers.Oci.References;

namespace Containers.Oci.Tests.References;

[TestClass]
public sealed class ImageReferenceTests
{
    private const string Sha256Hex = "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
    private const string Sha512Hex = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
    private const string Sha256 = "sha256:" + Sha256Hex;
    private const string Sha512 = "sha512:" + Sha512Hex;

    [TestMethod]
    // Docker Hub normalization.
    [DataRow("ubuntu", "docker.io", "library/ubuntu", null, null)]
    [DataRow("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", null)]
    [DataRow("user/app", "docker.io", "user/app", null, null)]
    [DataRow("user/app:1.0", "docker.io", "user/app", "1.0", null)]
    [DataRow("docker.io/ubuntu", "docker.io", "library/ubuntu", null, null)]
    [DataRow("docker.io/library/ubuntu", "docker.io", "library/ubuntu", null, null)]
    [DataRow("index.docker.io/ubuntu", "docker.io", "library/ubuntu", null, null)]
    [DataRow("index.docker.io/user/app:tag", "docker.io", "user/app", "tag", null)]
    [DataRow("docker.io/library/ubuntu@" + Sha256, "docker.io", "library/ubuntu", null, Sha256)]
    [DataRow("0/1", "docker.io", "0/1", null, null)]
    // localhost and hosts with ports; a name without '/' is always on Docker Hub.
    [DataRow("localhost/app", "localhost", "app", null, null)]
    [DataRow("localhost:5000/app:tag", "localhost:5000", "app", "tag", null)]
    [DataRow("localhost/a/b/c/d", "localhost", "a/b/c/d", null, null)]
    [DataRow("localhost", "docker.io", "library/localhost", null, null)]
    [DataRow("localhost:5000", "docker.io", "library/localhost", "5000", null)]
    [DataRow("test:5000/repo", "test:5000", "repo", null, null)]
    [DataRow("test.com:tag", "docker.io", "library/test.com", "tag", null)]
    [DataRow("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", null)]
    [DataRow("foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", null)]
    [DataRow("registry.example.com:1/app", "registry.example.com:1", "app", null, null)]
    [DataRow("registry.example.com:65535/app", "registry.example.com:65535", "app", null, null)]
    [DataRow("registry.example.com:05000/app", "registry.example.com:05000", "app", null, null)]
    // IPv4 and IPv6.
    [DataRow("127.0.0.1:5000/repo:tag", "127.0.0.1:5000", "repo", "tag", null)]
    [DataRow("192.168.1.1/repo", "192.168.1.1", "repo", null, null)]
    [DataRow("192.168.1.1", "docker.io", "library/192.168.1.1", null, null)]
    [DataRow("192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000", null)]
    [DataRow("[::1]:5000/repo", "[::1]:5000", "repo", null, null)]
    [DataRow("[2001:db8::1]/repo", "[2001:db8::1]", "repo", null, null)]
    [DataRow("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", null)]
    [DataRow("[2001:db8::1]:5000/repo:tag@" + Sha256, "[2001:db8::1]:5000", "repo", "tag", Sha256)]
    [DataRow("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", null, null)]
    // Domains, separators, tags.
    [DataRow("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", null)]
    [DataRow("b.registry.example/test.example.com/my-app:test.example.com", "b.registry.example", "test.example.com/my-app", "test.example.com", null)]
    [DataRow("xn--n3h.example/myimage:xn--n3h.example", "xn--n3h.example", "myimage", "xn--n3h.example", null)]
    [DataRow("xn--7o8h.example/myimage:xn--7o8h.example@" + Sha512, "xn--7o8h.example", "myimage", "xn--7o8h.example", Sha512)]
    [DataRow("a.b-c.example/x__y/a-----b/c.d_e:Tag_1.-x", "a.b-c.example", "x__y/a-----b/c.d_e", "Tag_1.-x", null)]
    [DataRow("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", null)]
    [DataRow("app:_tag", "docker.io", "library/app", "_tag", null)]
    [DataRow("Registry.Example.COM/app", "Registry.Example.COM", "app", null, null)]
    // A first component with an uppercase letter cannot be a Docker Hub namespace, so it is a host.
    [DataRow("MyRegistry/app", "MyRegistry", "app", null, null)]
    // Tag and digest together; sha512.
    [DataRow("registry.example.com/app:tag@" + Sha256, "registry.example.com", "app", "tag", Sha256)]
    [DataRow("repo@" + Sha512, "docker.io", "library/repo", null, Sha512)]
    public void Valid_reference_is_parsed_normalized_and_round_trips(string input, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(input);

        Assert.AreEqual(registry, reference.Registry);
        Assert.AreEqual(repository, reference.Repository);
        Assert.AreEqual(tag, reference.Tag);
        Assert.AreEqual(digest, reference.Digest?.ToString());
        Assert.AreEqual(digest ?? tag ?? "latest", reference.Reference);
        Assert.AreEqual(registry + "/" + repository, reference.Name);

        var reparsed = ImageReference.Parse(reference.ToString());
        Assert.AreEqual(reference, reparsed);
        Assert.AreEqual(reference.ToString(), reparsed.ToString());
        Assert.IsTrue(ImageReference.TryParse(input, out var tried, out var error));
        Assert.AreEqual(reference, tried);
        Assert.IsNull(error);
    }

    [TestMethod]
    [DataRow("", ImageReferencePart.Reference, "the reference is empty")]
    [DataRow("https://registry.example.com/app", ImageReferencePart.Reference, "URL scheme; an image reference has none, write 'registry.example.com/app'")]
    [DataRow("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", ImageReferencePart.Reference, "image ID")]
    [DataRow(":justtag", ImageReferencePart.Repository, "no repository before ':'")]
    [DataRow("@" + Sha256, ImageReferencePart.Repository, "no repository before '@'")]
    [DataRow("[2001:db8::1]", ImageReferencePart.Repository, "add a repository, for example '[2001:db8::1]/app'")]
    [DataRow("[2001:db8::1]:5000", ImageReferencePart.Repository, "add a repository")]
    [DataRow("[2001:db8::1]:tag", ImageReferencePart.Repository, "add a repository")]
    // Repository: uppercase, characters, separators, empty components.
    [DataRow("Uppercase:tag", ImageReferencePart.Repository, "repository 'Uppercase' contains uppercase letter 'U'; repository names must be lowercase.")]
    [DataRow("test:5000/Uppercase/lowercase:tag", ImageReferencePart.Repository, "repository 'Uppercase/lowercase' contains uppercase letter 'U'")]
    [DataRow("docker/Docker", ImageReferencePart.Repository, "repository 'docker/Docker' contains uppercase letter 'D'")]
    [DataRow("docker.io/docker/Docker", ImageReferencePart.Repository, "uppercase letter 'D'")]
    [DataRow("My/App", ImageReferencePart.Repository, "repository 'App' contains uppercase letter 'A'; repository names must be lowercase. 'My' was read as the registry because it contains uppercase letters")]
    [DataRow("aa/asdf$$^/aa", ImageReferencePart.Repository, "repository 'aa/asdf$$^/aa' contains '$'")]
    [DataRow("app name", ImageReferencePart.Repository, "contains a space")]
    [DataRow("app\tname", ImageReferencePart.Repository, "contains U+0009")]
    [DataRow("café", ImageReferencePart.Repository, "contains 'é' (U+00E9)")]
    [DataRow("-docker", ImageReferencePart.Repository, "path component '-docker', which starts with '-'")]
    [DataRow("app-", ImageReferencePart.Repository, "path component 'app-', which ends with '-'")]
    [DataRow("a/.b", ImageReferencePart.Repository, "path component '.b', which starts with '.'")]
    [DataRow("a..b", ImageReferencePart.Repository, "contains '..' in the path component 'a..b'")]
    [DataRow("a._b", ImageReferencePart.Repository, "contains '._'")]
    [DataRow("a___b", ImageReferencePart.Repository, "contains '___'")]
    [DataRow("a-_b", ImageReferencePart.Repository, "contains '-_'")]
    [DataRow("docker.io/docker///docker", ImageReferencePart.Repository, "contains '//'")]
    [DataRow("/app", ImageReferencePart.Repository, "repository '/app' starts with '/'")]
    [DataRow("localhost//app", ImageReferencePart.Repository, "repository '/app' starts with '/'")]
    [DataRow("localhost/app/", ImageReferencePart.Repository, "repository 'app/' ends with '/'")]
    // Registry: labels, ports, IPv6.
    [DataRow("-docker.io/docker/docker", ImageReferencePart.Registry, "host label '-docker', which starts with '-'")]
    [DataRow("docker-.io/app", ImageReferencePart.Registry, "host label 'docker-', which ends with '-'")]
    [DataRow("registry..example.com/app", ImageReferencePart.Registry, "registry 'registry..example.com' contains '..'")]
    [DataRow(".example.com/app", ImageReferencePart.Registry, "starts with '.'")]
    [DataRow("example.com./app", ImageReferencePart.Registry, "ends with '.'")]
    [DataRow("my_registry.example.com/app", ImageReferencePart.Registry, "registry 'my_registry.example.com' contains '_' in the host name")]
    [DataRow("My_Co/app", ImageReferencePart.Registry, "contains '_' in the host name; a host name is letters, digits, '-' and '.', or an IPv6 address in brackets. 'My_Co' was read as the registry")]
    [DataRow("docker:///docker", ImageReferencePart.Reference, "URL scheme")]
    [DataRow("localhost:/app", ImageReferencePart.Registry, "registry 'localhost:' ends with ':' but has no port")]
    [DataRow(":5000/app", ImageReferencePart.Registry, "registry ':5000' has no host before ':'")]
    [DataRow("registry.example.com:99999/app", ImageReferencePart.Registry, "registry 'registry.example.com:99999' has port 99999, outside 1-65535")]
    [DataRow("registry.example.com:70000/app", ImageReferencePart.Registry, "has port 70000, outside 1-65535")]
    [DataRow("registry.example.com:0/app", ImageReferencePart.Registry, "has port 0, outside 1-65535")]
    [DataRow("registry.example.com:12345678901234567890/app", ImageReferencePart.Registry, "has port 12345678901234567890, outside 1-65535")]
    [DataRow("registry.example.com:http/app", ImageReferencePart.Registry, "port 'http', which is not a number")]
    [DataRow("[fe80::1%eth0]:5000/repo", ImageReferencePart.Registry, "contains '%' inside the brackets")]
    [DataRow("[fe80::1%25eth0]:5000/repo", ImageReferencePart.Registry, "zone identifiers")]
    [DataRow("[::1:5000/repo", ImageReferencePart.Registry, "'[' without a closing ']'")]
    [DataRow("[::g]:5000/repo", ImageReferencePart.Registry, "contains 'g' inside the brackets")]
    [DataRow("[1]/repo", ImageReferencePart.Registry, "'[1]', which is not an IPv6 address")]
    [DataRow("[:::]:5000/repo", ImageReferencePart.Registry, "not an IPv6 address")]
    [DataRow("[::1]x:5000/repo", ImageReferencePart.Registry, "has 'x' after ']'")]
    [DataRow("[::1]:99999/repo", ImageReferencePart.Registry, "has port 99999, outside 1-65535")]
    // Tag.
    [DataRow("app:", ImageReferencePart.Tag, "the tag after ':' is empty")]
    [DataRow("app:-x", ImageReferencePart.Tag, "tag '-x' starts with '-'")]
    [DataRow("app:.x", ImageReferencePart.Tag, "tag '.x' starts with '.'")]
    [DataRow("app:tag:x", ImageReferencePart.Tag, "tag 'tag:x' contains ':'")]
    [DataRow("app:t$g", ImageReferencePart.Tag, "tag 't$g' contains '$'")]
    [DataRow("localhost:5000/app:", ImageReferencePart.Tag, "the tag after ':' is empty")]
    // Digest.
    [DataRow("app@", ImageReferencePart.Digest, "the digest after '@' is empty")]
    [DataRow("app@sha256", ImageReferencePart.Digest, "the digest 'sha256' has no ':'")]
    [DataRow("app@sha256:abc", ImageReferencePart.Digest, "has 3 hex digits after 'sha256:'; sha256 needs exactly 64")]
    [DataRow("app@sha512:" + Sha256Hex, ImageReferencePart.Digest, "has 64 hex digits after 'sha512:'; sha512 needs exactly 128")]
    [DataRow("app@md5:0123456789abcdef0123456789abcdef", ImageReferencePart.Digest, "algorithm 'md5', which is not supported")]
    [DataRow("app@sha256:6C3C624B58DBBCD3C0DD82B4C53F04194D1247C6EEBDAAB7C610CF7D66709B3B", ImageReferencePart.Digest, "contains 'C'; a digest's encoded part is lower-case hex")]
    [DataRow("app@" + Sha256 + "@" + Sha256, ImageReferencePart.Digest, "the digest")]
    [DataRow("app:tag@sha256:xyz", ImageReferencePart.Digest, "the digest 'sha256:xyz'")]
    public void Invalid_reference_is_refused_naming_the_part_and_the_reason(string input, ImageReferencePart part, string expected)
    {
        var error = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Parse(input));

        Assert.AreEqual(part, error.Part, error.Message);
        Assert.Contains(expected, error.Message);
        Assert.AreEqual(input, error.Value);
        Assert.AreEqual($"'{input}' is not a valid image reference: {error.Detail}", error.Message);
        Assert.IsFalse(ImageReference.TryParse(input, out var reference, out var message));
        Assert.IsNull(reference);
        Assert.AreEqual(error.Message, message);
    }

    [TestMethod]
    public void Null_is_refused_by_TryParse()
    {
        Assert.IsFalse(ImageReference.TryParse(null, out var reference, out var error));
        Assert.IsNull(reference);
        Assert.Contains("empty", error);
    }

    [TestMethod]
    public void Tag_of_128_characters_is_accepted_and_129_refused()
    {
        var longest = "_" + new string('a', 127);

        Assert.AreEqual(longest, ImageReference.Parse("app:" + longest).Tag);
        Assert.IsTrue(ImageReference.IsValidTag(longest));

        var error = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Parse("app:" + longest + "b"));
        Assert.AreEqual(ImageReferencePart.Tag, error.Part);
        Assert.Contains("is 129 characters; the limit is 128.", error.Message);
        Assert.IsFalse(ImageReference.IsValidTag(longest + "b"));
    }

    [TestMethod]
    public void Name_of_255_characters_is_accepted_and_256_refused()
    {
        // "localhost/" is 10 characters; the limit counts registry, '/' and repository.
        var repository = string.Join('/', Enumerable.Repeat("abcd", 48)) + "/abcde";
        Assert.AreEqual(245, repository.Length);

        var longest = ImageReference.Parse("localhost/" + repository + ":tag");
        Assert.AreEqual(255, longest.Name.Length);

        var error = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Parse("localhost/" + repository + "c:tag"));
        Assert.AreEqual(ImageReferencePart.Repository, error.Part);
        Assert.Contains("is 256 characters; the limit for registry, '/' and repository together is 255.", error.Message);
    }

    [TestMethod]
    public void Name_limit_counts_the_docker_hub_normalization()
    {
        // 237 typed characters become "docker.io/library/" + 237 = 255; one more is over the limit.
        var fits = new string('a', 237);
        Assert.AreEqual(255, ImageReference.Parse(fits).Name.Length);

        var error = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Parse(fits + "a"));
        Assert.Contains("the name 'docker.io/library/aaaa", error.Message);
        Assert.Contains("is 256 characters", error.Message);
    }

    [TestMethod]
    public void Repository_longer_than_255_is_refused_on_its_own()
    {
        var error = ImageReference.ValidateRepository(new string('a', 256));

        Assert.IsNotNull(error);
        Assert.Contains("is 256 characters; the limit is 255.", error!);
    }

    [TestMethod]
    public void Equivalent_spellings_parse_to_equal_references()
    {
        var canonical = ImageReference.Parse("docker.io/library/ubuntu:22.04");

        Assert.AreEqual(canonical, ImageReference.Parse("ubuntu:22.04"));
        Assert.AreEqual(canonical, ImageReference.Parse("index.docker.io/ubuntu:22.04"));
        Assert.AreEqual(canonical, ImageReference.Parse("index.docker.io/library/ubuntu:22.04"));
        Assert.AreEqual(canonical.GetHashCode(), ImageReference.Parse("ubuntu:22.04").GetHashCode());
        Assert.AreEqual("docker.io/library/ubuntu:22.04", canonical.ToString());
        Assert.AreNotEqual(canonical, ImageReference.Parse("ubuntu:22.10"));
    }

    [TestMethod]
    public void Reference_without_tag_asks_for_latest_but_keeps_the_tag_absent()
    {
        var reference = ImageReference.Parse("ubuntu");

        Assert.IsNull(reference.Tag);
        Assert.AreEqual("latest", reference.Reference);
        Assert.AreEqual("docker.io/library/ubuntu", reference.ToString());
        Assert.AreEqual("docker.io/library/ubuntu:latest", reference.WithTag(reference.Reference).ToString());
    }

    [TestMethod]
    public void Digest_is_what_the_registry_is_asked_for_when_both_are_given()
    {
        var reference = ImageReference.Parse("localhost:5000/app:1.0@" + Sha256);

        Assert.AreEqual(Sha256, reference.Reference);
        Assert.AreEqual("localhost:5000/app:1.0@" + Sha256, reference.ToString());
    }

    [TestMethod]
    public void Repository_validation_reports_the_uppercase_letter()
    {
        Assert.AreEqual(
            "repository 'My/App' contains uppercase letter 'M'; repository names must be lowercase.",
            ImageReference.ValidateRepository("My/App"));
        Assert.IsFalse(ImageReference.IsValidRepository("My/App"));
        Assert.IsTrue(ImageReference.IsValidRepository("my/app"));
        Assert.IsTrue(ImageReference.IsValidRepository("team/sub_team/app.web-1"));
        Assert.IsNull(ImageReference.ValidateRepository("a__b/c---d/e.f"));
        Assert.Contains("the repository is empty", ImageReference.ValidateRepository("")!);
    }

    [TestMethod]
    [DataRow("docker.io")]
    [DataRow("index.docker.io")]
    [DataRow("localhost")]
    [DataRow("localhost:5000")]
    [DataRow("127.0.0.1:5000")]
    [DataRow("registry.example.com")]
    [DataRow("MyHost")]
    [DataRow("myhost:5000")]
    [DataRow("[::1]")]
    [DataRow("[::1]:5000")]
    [DataRow("[2001:db8::1]:65535")]
    public void Valid_registry(string registry)
    {
        Assert.IsNull(ImageReference.ValidateRegistry(registry));
        Assert.IsTrue(ImageReference.IsValidRegistry(registry));
    }

    [TestMethod]
    [DataRow("", "the registry is empty")]
    [DataRow("localhost:99999", "registry 'localhost:99999' has port 99999, outside 1-65535.")]
    [DataRow("myhost", "registry 'myhost' has no '.', no port and is not 'localhost', so in an image reference 'myhost/app' would mean the Docker Hub repository 'docker.io/myhost/app'")]
    [DataRow("https://registry.example.com/", "includes a URL scheme; give only the host and port, for example 'registry.example.com'")]
    [DataRow("registry.example.com/team", "contains '/' in the host name")]
    [DataRow("[fe80::1%eth0]", "zone identifiers")]
    public void Invalid_registry_says_why(string registry, string expected)
    {
        var error = ImageReference.ValidateRegistry(registry);

        Assert.IsNotNull(error);
        Assert.Contains(expected, error);
        Assert.IsFalse(ImageReference.IsValidRegistry(registry));
    }

    [TestMethod]
    public void Tag_validation_reports_length_and_characters()
    {
        Assert.AreEqual($"tag '{new string('a', 130)}' is 130 characters; the limit is 128.", ImageReference.ValidateTag(new string('a', 130)));
        Assert.Contains("contains '+'", ImageReference.ValidateTag("1.0+build")!);
        Assert.Contains("the tag is empty", ImageReference.ValidateTag("")!);
        Assert.IsTrue(ImageReference.IsValidTag("1.0.0-preview.1_x"));
        Assert.IsFalse(ImageReference.IsValidTag("-x"));
    }

    [TestMethod]
    public void Digest_validation_names_the_problem()
    {
        Assert.IsNull(ImageReference.ValidateDigest(Sha256));
        Assert.IsNull(ImageReference.ValidateDigest(Sha512));
        Assert.Contains("sha256 needs exactly 64", ImageReference.ValidateDigest("sha256:abc")!);
        Assert.Contains("has no ':'", ImageReference.ValidateDigest("abc")!);
        Assert.Contains("the digest is empty", ImageReference.ValidateDigest(null)!);
    }

    [TestMethod]
    public void Create_validates_each_part_and_normalizes_docker_hub()
    {
        var reference = ImageReference.Create("index.docker.io", "ubuntu", "22.04");
        Assert.AreEqual("docker.io/library/ubuntu:22.04", reference.ToString());

        var local = ImageReference.Create("localhost:5000", "team/app", "1.0", Digest.Parse(Sha256));
        Assert.AreEqual("localhost:5000/team/app:1.0@" + Sha256, local.ToString());
        Assert.AreEqual(local, ImageReference.Parse(local.ToString()));

        var registryError = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Create("localhost:70000", "app"));
        Assert.AreEqual(ImageReferencePart.Registry, registryError.Part);
        Assert.AreEqual("localhost:70000", registryError.Value);
        Assert.Contains("has port 70000, outside 1-65535", registryError.Message);

        var ambiguous = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Create("myhost", "app"));
        Assert.AreEqual(ImageReferencePart.Registry, ambiguous.Part);

        var repositoryError = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Create("localhost", "My/App"));
        Assert.AreEqual(ImageReferencePart.Repository, repositoryError.Part);
        Assert.Contains("repository 'My/App' contains uppercase letter 'M'", repositoryError.Message);

        var tagError = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Create("localhost", "app", "bad tag"));
        Assert.AreEqual(ImageReferencePart.Tag, tagError.Part);

        var digestError = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Create("localhost", "app", digest: default(Digest)));
        Assert.AreEqual(ImageReferencePart.Digest, digestError.Part);
    }

    [TestMethod]
    public void With_methods_keep_the_other_parts_and_stay_canonical()
    {
        var digest = Digest.Parse(Sha256);
        var reference = ImageReference.Parse("localhost:5000/ubuntu:1.0");

        Assert.AreEqual("localhost:5000/ubuntu:2.0", reference.WithTag("2.0").ToString());
        Assert.AreEqual("localhost:5000/ubuntu:1.0@" + Sha256, reference.WithDigest(digest).ToString());
        Assert.AreEqual("localhost:5000/ubuntu:2.0@" + Sha256, reference.WithDigest(digest).WithTag("2.0").ToString());
        Assert.AreEqual("localhost:5000/ubuntu@" + Sha256, reference.WithDigest(digest).WithoutTag().ToString());
        Assert.AreEqual(reference, reference.WithDigest(digest).WithoutDigest());
        Assert.AreEqual("localhost:5000/team/web:1.0", reference.WithRepository("team/web").ToString());
        Assert.AreEqual("registry.example.com/ubuntu:1.0", reference.WithRegistry("registry.example.com").ToString());

        // Moving a single-component repository to Docker Hub makes it an official image, as parsing would.
        var onHub = reference.WithRegistry("docker.io");
        Assert.AreEqual("docker.io/library/ubuntu:1.0", onHub.ToString());
        Assert.AreEqual(onHub, ImageReference.Parse(onHub.ToString()));
        Assert.AreEqual("docker.io/library/web:1.0", onHub.WithRepository("web").ToString());

        Assert.AreEqual(ImageReferencePart.Tag, Assert.ThrowsExactly<ImageReferenceFormatException>(() => reference.WithTag(".x")).Part);
        Assert.AreEqual(ImageReferencePart.Repository, Assert.ThrowsExactly<ImageReferenceFormatException>(() => reference.WithRepository("a//b")).Part);
        Assert.AreEqual(ImageReferencePart.Registry, Assert.ThrowsExactly<ImageReferenceFormatException>(() => reference.WithRegistry("bad_host.example")).Part);
        Assert.AreEqual(ImageReferencePart.Digest, Assert.ThrowsExactly<ImageReferenceFormatException>(() => reference.WithDigest(default)).Part);
    }

    [TestMethod]
    public void Format_exception_is_an_oci_exception()
    {
        OciException error = Assert.ThrowsExactly<ImageReferenceFormatException>(() => ImageReference.Parse("A:B:C"));

        Assert.StartsWith("'A:B:C' is not a valid image reference: ", error.Message);
    }
}
