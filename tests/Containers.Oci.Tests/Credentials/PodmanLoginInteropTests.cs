using System.Net;
using System.Net.Http.Headers;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Credentials;

/// <summary>Files written by the real login commands of podman and skopeo are read correctly.</summary>
[TestClass]
public sealed class PodmanLoginInteropTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("podman", "podman")]
    [DataRow("skopeo", "skopeo")]
    public async Task Credentials_saved_by_login_authenticate_against_the_registry(string tool, string package)
    {
        var executable = TestTools.Require(tool, package);
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        using var sandbox = new CredentialSandbox();
        var authFile = Path.Combine(sandbox.Root, "auth.json");
        await TestTools.RunCheckedAsync(executable,
            ["login", "--authfile", authFile, "--tls-verify=false", "-u", registry.Username, "-p", registry.Password, registry.Host],
            cancellationToken: TestContext.CancellationToken);
        sandbox.Environment["REGISTRY_AUTH_FILE"] = authFile;

        var credential = await sandbox.CreateProvider().GetCredentialAsync(registry.Host, "team/app", TestContext.CancellationToken);

        Assert.IsNotNull(credential);
        Assert.AreEqual(registry.Username, credential.Username);
        Assert.AreEqual($"containers auth file {authFile} (auths: {registry.Host})", credential.Source);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{registry.Host}/v2/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", CredentialSandbox.Basic(credential.Username!, credential.Password!));
        using var response = await client.SendAsync(request, TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [TestMethod]
    public async Task Repository_scoped_podman_login_applies_to_that_repository_only()
    {
        var podman = TestTools.Require("podman", "podman");
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        using var sandbox = new CredentialSandbox();
        var authFile = Path.Combine(sandbox.Root, "auth.json");
        await TestTools.RunCheckedAsync(podman,
            ["login", "--authfile", authFile, "--tls-verify=false", "-u", registry.Username, "-p", registry.Password, $"{registry.Host}/team/app"],
            cancellationToken: TestContext.CancellationToken);
        sandbox.Environment["REGISTRY_AUTH_FILE"] = authFile;
        var provider = sandbox.CreateProvider();

        var scoped = await provider.GetCredentialAsync(registry.Host, "team/app", TestContext.CancellationToken);
        var elsewhere = await provider.GetCredentialAsync(registry.Host, "team/other", TestContext.CancellationToken);

        Assert.AreEqual(registry.Username, scoped?.Username);
        Assert.IsNull(elsewhere);
    }
}
