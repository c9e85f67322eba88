using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Containers.TestSupport;

namespace Containers.Oci.Tests.TestSupport;

[TestClass]
public sealed class TestRegistryTests
{
    public TestContext TestContext { get; set; } = null!;

    private static HttpClient NewClient() => new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(20) };

    [TestMethod]
    public async Task Anonymous_registry_answers_v2_with_200()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Anonymous, TestContext.CancellationToken);
        using var client = NewClient();

        using var response = await client.GetAsync($"http://{registry.Host}/v2/", TestContext.CancellationToken);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        StringAssert.StartsWith(registry.Host, "127.0.0.1:");
        Assert.IsTrue(Directory.Exists(registry.StorageDirectory));
        Assert.Contains("listening on 127.0.0.1", registry.ReadLog());
    }

    [TestMethod]
    public async Task Basic_registry_challenges_then_accepts_the_credentials()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, TestContext.CancellationToken);
        using var client = NewClient();

        using var challenge = await client.GetAsync($"http://{registry.Host}/v2/", TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.AreEqual("Basic", challenge.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = await SendAsync(client, $"http://{registry.Host}/v2/", Basic(registry.Username, "not-the-password"));
        Assert.AreEqual(HttpStatusCode.Unauthorized, wrong.StatusCode);

        using var accepted = await SendAsync(client, $"http://{registry.Host}/v2/", Basic(registry.Username, registry.Password));
        Assert.AreEqual(HttpStatusCode.OK, accepted.StatusCode);
        Assert.AreEqual(registry.Username, registry.ReadOnlyUsername, "htpasswd has no ACL, so the read-only user is the same user");
    }

    [TestMethod]
    public async Task Token_registry_challenges_with_bearer_and_accepts_a_token_from_the_realm()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        using var client = NewClient();
        var manifestUrl = $"http://{registry.Host}/v2/team/app/manifests/latest";

        using var challenge = await client.GetAsync(manifestUrl, TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.Unauthorized, challenge.StatusCode);
        var parameters = ParseChallenge(challenge.Headers.WwwAuthenticate.Single());
        Assert.AreEqual(registry.TokenRealm, parameters["realm"]);
        Assert.AreEqual("test-registry", parameters["service"]);
        Assert.AreEqual("repository:team/app:pull", parameters["scope"]);

        var token = await GetTokenAsync(client, parameters["realm"], parameters["service"], ["repository:team/app:pull,push"], registry.Username, registry.Password);
        CollectionAssert.AreEquivalent(new[] { "pull", "push" }, GrantedActions(token, "team/app"));

        // The repository is empty, so an authorized request reaches the registry's "unknown manifest" answer.
        using var authorized = await SendAsync(client, manifestUrl, new AuthenticationHeaderValue("Bearer", token));
        Assert.AreEqual(HttpStatusCode.NotFound, authorized.StatusCode);
        using var ping = await SendAsync(client, $"http://{registry.Host}/v2/", new AuthenticationHeaderValue("Bearer", token));
        Assert.AreEqual(HttpStatusCode.OK, ping.StatusCode);
        Assert.AreEqual(1, registry.TokensIssued);
        CollectionAssert.AreEqual(new[] { "repository:team/app:pull,push" }, registry.RequestedScopes.ToArray());
    }

    [TestMethod]
    public async Task Token_flow_works_for_curl_as_an_independent_client()
    {
        var curl = TestTools.Require("curl", "curl");
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        var tagsUrl = $"http://{registry.Host}/v2/team/app/tags/list";

        var challenge = await TestTools.RunCheckedAsync(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", tagsUrl], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("401", challenge.StandardOutput);

        var tokenResponse = await TestTools.RunCheckedAsync(curl,
            ["-s", "-f", "-u", $"{registry.Username}:{registry.Password}", $"{registry.TokenRealm}?service=test-registry&scope=repository:team/app:pull"],
            cancellationToken: TestContext.CancellationToken);
        using var json = JsonDocument.Parse(tokenResponse.StandardOutput);
        var token = json.RootElement.GetProperty("token").GetString();

        var authorized = await TestTools.RunCheckedAsync(curl,
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", $"Authorization: Bearer {token}", $"http://{registry.Host}/v2/"],
            cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual("200", authorized.StandardOutput);
    }

    [TestMethod]
    public async Task Token_registry_gives_the_read_only_user_pull_only()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        using var client = NewClient();

        var token = await GetTokenAsync(client, registry.TokenRealm!, registry.TokenService, ["repository:team/app:pull,push"], registry.ReadOnlyUsername, registry.ReadOnlyPassword);

        CollectionAssert.AreEqual(new[] { "pull" }, GrantedActions(token, "team/app"));
        using var upload = new HttpRequestMessage(HttpMethod.Post, $"http://{registry.Host}/v2/team/app/blobs/uploads/");
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var denied = await client.SendAsync(upload, TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.Unauthorized, denied.StatusCode);
    }

    [TestMethod]
    public async Task Token_registry_gives_anonymous_requests_a_token_without_access()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        using var client = NewClient();

        var token = await GetTokenAsync(client, registry.TokenRealm!, registry.TokenService, ["repository:team/app:pull"], username: null, password: null);

        Assert.AreEqual(0, GrantedActions(token, "team/app").Length);
        using var denied = await SendAsync(client, $"http://{registry.Host}/v2/team/app/tags/list", new AuthenticationHeaderValue("Bearer", token));
        Assert.AreEqual(HttpStatusCode.Unauthorized, denied.StatusCode);
    }

    [TestMethod]
    public async Task Token_server_rejects_a_wrong_password()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        using var client = NewClient();

        using var response = await SendAsync(client, $"{registry.TokenRealm}?service=test-registry&scope=repository:a/b:pull", Basic(registry.Username, "wrong"));

        Assert.AreEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.AreEqual(0, registry.TokensIssued);
    }

    [TestMethod]
    public async Task Token_server_supports_password_and_refresh_token_grants()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, TestContext.CancellationToken);
        using var client = NewClient();

        using var passwordGrant = await client.PostAsync(registry.TokenRealm, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["username"] = registry.Username,
            ["password"] = registry.Password,
            ["service"] = registry.TokenService,
            ["scope"] = "repository:team/app:pull",
            ["client_id"] = "containers-sdk-tests",
            ["access_type"] = "offline",
        }), TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, passwordGrant.StatusCode);
        using var passwordJson = JsonDocument.Parse(await passwordGrant.Content.ReadAsStringAsync(TestContext.CancellationToken));
        var refreshToken = passwordJson.RootElement.GetProperty("refresh_token").GetString()!;

        using var refreshGrant = await client.PostAsync(registry.TokenRealm, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
            ["service"] = registry.TokenService,
            ["scope"] = "repository:team/app:pull,push",
            ["client_id"] = "containers-sdk-tests",
        }), TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, refreshGrant.StatusCode);
        using var refreshJson = JsonDocument.Parse(await refreshGrant.Content.ReadAsStringAsync(TestContext.CancellationToken));
        var accessToken = refreshJson.RootElement.GetProperty("access_token").GetString()!;
        CollectionAssert.AreEquivalent(new[] { "pull", "push" }, GrantedActions(accessToken, "team/app"));

        using var ping = await SendAsync(client, $"http://{registry.Host}/v2/team/app/tags/list", new AuthenticationHeaderValue("Bearer", accessToken));
        Assert.AreEqual(HttpStatusCode.NotFound, ping.StatusCode, "authorized: the repository just does not exist");

        using var badRefresh = await client.PostAsync(registry.TokenRealm, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = "refresh-unknown",
            ["service"] = registry.TokenService,
        }), TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.Unauthorized, badRefresh.StatusCode);
    }

    [TestMethod]
    [DataRow(RegistryAuthMode.Anonymous)]
    [DataRow(RegistryAuthMode.Token)]
    public async Task Dispose_kills_the_registry_and_deletes_its_directory(RegistryAuthMode mode)
    {
        var registry = await TestRegistry.StartAsync(mode, TestContext.CancellationToken);
        var processId = registry.ProcessId;
        var directory = registry.TemporaryDirectory;
        var realm = registry.TokenRealm;
        StringAssert.StartsWith(directory, "/tmp/containers-sdk-registry-");
        Assert.IsTrue(IsRunning(processId));

        await registry.DisposeAsync();

        Assert.IsFalse(IsRunning(processId), $"registry process {processId} still running");
        Assert.IsFalse(Directory.Exists(directory), $"{directory} still exists");
        using var client = NewClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://{registry.Host}/v2/", TestContext.CancellationToken));
        if (realm is not null)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(realm, TestContext.CancellationToken));
        }
    }

    [TestMethod]
    public async Task Several_registries_run_side_by_side_on_different_ports()
    {
        await using var first = await TestRegistry.StartAsync(cancellationToken: TestContext.CancellationToken);
        await using var second = await TestRegistry.StartAsync(cancellationToken: TestContext.CancellationToken);

        Assert.AreNotEqual(first.Host, second.Host);
        Assert.AreNotEqual(first.StorageDirectory, second.StorageDirectory);
    }

    private static bool IsRunning(int processId)
    {
        // A killed child stays a zombie until reaped; Process.Kill + WaitForExit reaps it, so /proc/<pid> goes away.
        return Directory.Exists($"/proc/{processId}")
            && !File.ReadAllText($"/proc/{processId}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, string url, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = authorization;
        return await client.SendAsync(request, TestContext.CancellationToken);
    }

    private async Task<string> GetTokenAsync(HttpClient client, string realm, string service, string[] scopes, string? username, string? password)
    {
        var query = $"?service={Uri.EscapeDataString(service)}" + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + query);
        if (username is not null)
        {
            request.Headers.Authorization = Basic(username, password!);
        }

        using var response = await client.SendAsync(request, TestContext.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, body);
        using var json = JsonDocument.Parse(body);
        var token = json.RootElement.GetProperty("token").GetString()!;
        Assert.AreEqual(token, json.RootElement.GetProperty("access_token").GetString());
        Assert.IsGreaterThan(0, json.RootElement.GetProperty("expires_in").GetInt32());
        Assert.IsTrue(json.RootElement.TryGetProperty("issued_at", out _));
        return token;
    }

    private static string[] GrantedActions(string jwt, string repository)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = JsonDocument.Parse(Convert.FromBase64String(payload));
        return claims.RootElement.GetProperty("access").EnumerateArray()
            .Where(a => a.GetProperty("name").GetString() == repository)
            .SelectMany(a => a.GetProperty("actions").EnumerateArray().Select(x => x.GetString()!))
            .ToArray();
    }

    private static Dictionary<string, string> ParseChallenge(AuthenticationHeaderValue challenge)
    {
        Assert.AreEqual("Bearer", challenge.Scheme);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in challenge.Parameter!.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            result[part[..equals].Trim()] = part[(equals + 1)..].Trim().Trim('"');
        }

        return result;
    }
}

[TestClass]
public sealed class TestToolsTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task RunAsync_captures_output_exit_code_and_environment()
    {
        var result = await TestTools.RunAsync("/bin/sh", ["-c", "echo out-$GREETING; echo err >&2; exit 3"],
            environment: new Dictionary<string, string> { ["GREETING"] = "hello" }, cancellationToken: TestContext.CancellationToken);

        Assert.AreEqual(3, result.ExitCode);
        Assert.AreEqual("out-hello\n", result.StandardOutput);
        Assert.AreEqual("err\n", result.StandardError);
    }

    [TestMethod]
    public async Task RunCheckedAsync_failure_names_command_exit_code_and_output()
    {
        var error = await Assert.ThrowsExactlyAsync<ToolFailedException>(() =>
            TestTools.RunCheckedAsync("/bin/sh", ["-c", "echo the-output; echo the-error >&2; exit 7"], cancellationToken: TestContext.CancellationToken));

        Assert.Contains("/bin/sh -c 'echo the-output; echo the-error >&2; exit 7'", error.Message);
        Assert.Contains("code 7", error.Message);
        Assert.Contains("the-output", error.Message);
        Assert.Contains("the-error", error.Message);
    }

    [TestMethod]
    public async Task RunAsync_kills_the_process_when_cancelled()
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CancellationToken);
        var pidFile = Path.Combine(Path.GetTempPath(), $"containers-sdk-tools-{Guid.NewGuid():N}.pid");
        try
        {
            var run = TestTools.RunAsync("/bin/sh", ["-c", $"echo $$ > {pidFile}; exec sleep 60"], cancellationToken: cancellation.Token);
            var stopwatch = Stopwatch.StartNew();
            while (!File.Exists(pidFile) || new FileInfo(pidFile).Length == 0)
            {
                Assert.IsLessThan(10, stopwatch.Elapsed.TotalSeconds, "the process never started");
                await Task.Delay(20, TestContext.CancellationToken);
            }

            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            await cancellation.CancelAsync();

            await Assert.ThrowsAsync<OperationCanceledException>(() => run);
            Assert.IsFalse(Directory.Exists($"/proc/{pid}"), "sleep still running after cancellation");
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [TestMethod]
    public void Require_finds_tools_on_path_and_is_inconclusive_for_missing_ones()
    {
        Assert.AreEqual("/bin/sh", TestTools.Require("sh", "dash").Replace("/usr/bin/", "/bin/", StringComparison.Ordinal));

        var error = Assert.ThrowsExactly<AssertInconclusiveException>(() => TestTools.Require("no-such-tool-xyz", "no-such-package"));

        Assert.Contains("no-such-tool-xyz", error.Message);
        Assert.Contains("apt-get install no-such-package", error.Message);
    }
}
