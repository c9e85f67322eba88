using Containers.Oci.Registry;

namespace Containers.Oci.Tests.Registry;

[TestClass]
public sealed class AuthenticationChallengeTests
{
    [TestMethod]
    public void Bearer_challenge_with_quoted_scope_containing_commas()
    {
        var challenges = AuthenticationChallenge.Parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:samalba/my-app:pull,push\"");

        Assert.HasCount(1, challenges);
        var challenge = challenges[0];
        Assert.IsTrue(challenge.IsBearer);
        Assert.AreEqual("https://auth.example.com/token", challenge.Realm);
        Assert.AreEqual("registry.example.com", challenge.Service);
        Assert.AreEqual("repository:samalba/my-app:pull,push", challenge.Scope);
    }

    [TestMethod]
    public void Several_challenges_in_one_header_with_spaces_and_case()
    {
        var challenges = AuthenticationChallenge.Parse("basic REALM=\"Registry Realm\" , Bearer realm=\"http://127.0.0.1:1/token\", service=svc");

        Assert.HasCount(2, challenges);
        Assert.IsTrue(challenges[0].IsBasic);
        Assert.AreEqual("Registry Realm", challenges[0].Realm);
        Assert.IsTrue(challenges[1].IsBearer);
        Assert.AreEqual("http://127.0.0.1:1/token", challenges[1].Realm);
        Assert.AreEqual("svc", challenges[1].Service);
    }

    [TestMethod]
    public void Escaped_quotes_and_token68_values()
    {
        var challenges = AuthenticationChallenge.Parse(["Bearer realm=\"a \\\"quoted\\\" realm\",error=\"insufficient_scope\"", "Negotiate abc123=="]);

        Assert.HasCount(2, challenges);
        Assert.AreEqual("a \"quoted\" realm", challenges[0].Realm);
        Assert.AreEqual("insufficient_scope", challenges[0].Parameters["error"]);
        Assert.AreEqual("Negotiate", challenges[1].Scheme);
        Assert.AreEqual("abc123==", challenges[1].Parameters[string.Empty]);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow(",,,")]
    [DataRow("=\"x\"")]
    [DataRow("Bearer realm=\"unterminated")]
    public void Malformed_headers_never_throw(string header)
    {
        var challenges = AuthenticationChallenge.Parse(header);

        Assert.IsNotNull(challenges);
    }
}

[TestClass]
public sealed class RegistryHostsTests
{
    [TestMethod]
    [DataRow("localhost", true)]
    [DataRow("localhost:5000", true)]
    [DataRow("127.0.0.1:5000", true)]
    [DataRow("127.3.4.5", true)]
    [DataRow("[::1]:5000", true)]
    [DataRow("::1", true)]
    [DataRow("myregistry.example.com", false)]
    [DataRow("128.0.0.1:5000", false)]
    [DataRow("localhost.example.com", false)]
    public void Loopback_registries_are_recognized(string registry, bool expected) =>
        Assert.AreEqual(expected, RegistryHosts.IsLoopback(registry));

    [TestMethod]
    [DataRow("127.0.0.1:5000", "http://127.0.0.1:5000/")]
    [DataRow("[::1]:5000", "http://[::1]:5000/")]
    [DataRow("::1", "http://[::1]/")]
    [DataRow("registry.example.com", "https://registry.example.com/")]
    [DataRow("insecure.example.com:8080", "http://insecure.example.com:8080/")]
    [DataRow("insecure-host.example.com:9000", "http://insecure-host.example.com:9000/")]
    [DataRow("docker.io", "https://registry-1.docker.io/")]
    public void Scheme_is_https_except_for_loopback_and_insecure_registries(string registry, string expected) =>
        Assert.AreEqual(expected, RegistryHosts.GetBaseAddress(registry, ["insecure.example.com:8080", "insecure-host.example.com"]).ToString());
}
