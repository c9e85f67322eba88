using System.Net;
using System.Net.Http.Headers;
using Containers.Oci.Registry.Credentials;
using Containers.TestSupport;

namespace Containers.Oci.Tests.Credentials;

[TestClass]
public sealed class ConfiguredCredentialProviderTests
{
    private const string Registry = "registry.test:5000";
    private const string Secret = "s3cr3t-Value-that-must-never-leak";

    public TestContext TestContext { get; set; } = null!;

    private CredentialSandbox _sandbox = null!;

    [TestInitialize]
    public void CreateSandbox() => _sandbox = new CredentialSandbox();

    [TestCleanup]
    public void DeleteSandbox() => _sandbox.Dispose();

    private CancellationToken Cancellation => TestContext.CancellationToken;

    [TestMethod]
    public async Task Nothing_configured_means_anonymous()
    {
        var credential = await _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation);

        Assert.IsNull(credential);
    }

    // ---- environment variables -------------------------------------------------------------------

    [TestMethod]
    [DataRow("DOTNET_CONTAINER_PUSH_REGISTRY_UNAME", "DOTNET_CONTAINER_PUSH_REGISTRY_PWORD")]
    [DataRow("DOTNET_CONTAINER_REGISTRY_UNAME", "DOTNET_CONTAINER_REGISTRY_PWORD")]
    [DataRow("SDK_CONTAINER_REGISTRY_UNAME", "SDK_CONTAINER_REGISTRY_PWORD")]
    public async Task Destination_variables_apply_to_the_destination_registry_only(string userVariable, string passwordVariable)
    {
        _sandbox.Environment[userVariable] = "ci-user";
        _sandbox.Environment[passwordVariable] = Secret;
        var provider = _sandbox.CreateProvider(destination: Registry, source: "base.test");

        var destination = await provider.GetCredentialAsync(Registry, Cancellation);
        var other = await provider.GetCredentialAsync("base.test", Cancellation);

        Assert.IsNotNull(destination);
        Assert.AreEqual("ci-user", destination.Username);
        Assert.AreEqual(Secret, destination.Password);
        Assert.AreEqual($"environment variables {userVariable}/{passwordVariable}", destination.Source);
        Assert.IsNull(other, "push variables must not be sent to the base image registry");
    }

    [TestMethod]
    public async Task The_library_reads_only_the_variable_pairs_it_is_given()
    {
        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_UNAME"] = "sdk-user";
        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_PWORD"] = Secret;
        _sandbox.Environment["CI_REGISTRY_USER"] = "ci-user";
        _sandbox.Environment["CI_REGISTRY_TOKEN"] = Secret;
        var options = new CredentialProviderOptions { DestinationRegistry = Registry, EnvironmentVariables = _sandbox.Environment };

        Assert.IsNull(await new ConfiguredCredentialProvider(options).GetCredentialAsync(Registry, Cancellation), "no pairs: no environment credentials");
        var ci = await new ConfiguredCredentialProvider(options with { DestinationVariables = [new("CI_REGISTRY_USER", "CI_REGISTRY_TOKEN")] }).GetCredentialAsync(Registry, Cancellation);
        Assert.AreEqual("ci-user", ci?.Username);
        Assert.AreEqual("environment variables CI_REGISTRY_USER/CI_REGISTRY_TOKEN", ci?.Source);
    }

    [TestMethod]
    public async Task Pull_variables_apply_to_the_source_registry()
    {
        _sandbox.Environment["DOTNET_CONTAINER_PULL_REGISTRY_UNAME"] = "puller";
        _sandbox.Environment["DOTNET_CONTAINER_PULL_REGISTRY_PWORD"] = Secret;
        var provider = _sandbox.CreateProvider(destination: Registry, source: "base.test");

        var source = await provider.GetCredentialAsync("base.test", Cancellation);
        var destination = await provider.GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("puller", source?.Username);
        Assert.Contains("DOTNET_CONTAINER_PULL_REGISTRY_UNAME", source!.Source);
        Assert.IsNull(destination);
    }

    [TestMethod]
    public async Task Newer_variables_win_over_older_ones()
    {
        _sandbox.Environment["SDK_CONTAINER_REGISTRY_UNAME"] = "legacy";
        _sandbox.Environment["SDK_CONTAINER_REGISTRY_PWORD"] = "legacy-password";
        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_UNAME"] = "generic";
        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_PWORD"] = "generic-password";

        var generic = await _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation);
        _sandbox.Environment["DOTNET_CONTAINER_PUSH_REGISTRY_UNAME"] = "push";
        _sandbox.Environment["DOTNET_CONTAINER_PUSH_REGISTRY_PWORD"] = "push-password";
        var push = await _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("generic", generic?.Username);
        Assert.AreEqual("push", push?.Username);
    }

    [TestMethod]
    public async Task Environment_wins_over_docker_config_and_docker_config_over_the_containers_auth_file()
    {
        _sandbox.WriteContainersAuth($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("from-podman", "p1")}}"} } }""");
        var fromPodman = await _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation);

        _sandbox.WriteDockerConfig($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("from-docker", "p2")}}"} } }""");
        var fromDocker = await _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation);

        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_UNAME"] = "from-env";
        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_PWORD"] = "p3";
        var fromEnvironment = await _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("from-podman", fromPodman?.Username);
        Assert.AreEqual("from-docker", fromDocker?.Username);
        Assert.AreEqual("from-env", fromEnvironment?.Username);
    }

    [TestMethod]
    public async Task A_half_set_variable_pair_is_an_error_without_the_secret()
    {
        _sandbox.Environment["DOTNET_CONTAINER_REGISTRY_PWORD"] = Secret;

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider(destination: Registry).GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains("DOTNET_CONTAINER_REGISTRY_UNAME", error.Message);
        Assert.Contains(Registry, error.Message);
        Assert.DoesNotContain(Secret, error.Message);
        Assert.AreEqual(Registry, error.Registry);
    }

    // ---- docker config.json: auths --------------------------------------------------------------

    [TestMethod]
    public async Task Docker_auths_entry_with_base64_auth_gives_user_and_password()
    {
        var path = _sandbox.WriteDockerConfig($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("alice", "pa:ss")}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("alice", credential?.Username);
        Assert.AreEqual("pa:ss", credential?.Password, "only the first colon separates user from password");
        Assert.AreEqual($"docker config {path} (auths: {Registry})", credential?.Source);
    }

    [TestMethod]
    public async Task Docker_auths_entry_with_separate_fields_and_tokens()
    {
        _sandbox.WriteDockerConfig("""
            {
              "auths": {
                "plain.test": {"username": "bob", "password": "pw"},
                "identity.test": {"username": "carol", "identitytoken": "refresh-123"},
                "registry-token.test": {"registrytoken": "bearer-456"},
                "empty.test": {}
              }
            }
            """);
        var provider = _sandbox.CreateProvider();

        var plain = await provider.GetCredentialAsync("plain.test", Cancellation);
        var identity = await provider.GetCredentialAsync("identity.test", Cancellation);
        var registryToken = await provider.GetCredentialAsync("registry-token.test", Cancellation);
        var empty = await provider.GetCredentialAsync("empty.test", Cancellation);

        Assert.AreEqual(("bob", "pw"), (plain?.Username, plain?.Password));
        Assert.AreEqual("refresh-123", identity?.IdentityToken);
        Assert.IsNull(identity?.Password);
        Assert.AreEqual("bearer-456", registryToken?.RegistryToken);
        Assert.IsNull(empty);
    }

    [TestMethod]
    [DataRow("https://registry.test:5000")]
    [DataRow("http://registry.test:5000")]
    [DataRow("registry.test:5000/v2/")]
    [DataRow("https://registry.test:5000/v1/")]
    [DataRow("REGISTRY.test:5000")]
    public async Task Docker_config_keys_match_with_scheme_path_and_case_variations(string key)
    {
        _sandbox.WriteDockerConfig($$"""{"auths": {"{{key}}": {"auth": "{{CredentialSandbox.Basic("alice", "pw")}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("alice", credential?.Username);
        Assert.Contains(key, credential!.Source);
    }

    [TestMethod]
    [DataRow("https://index.docker.io/v1/", "docker.io")]
    [DataRow("index.docker.io", "docker.io")]
    [DataRow("docker.io", "docker.io")]
    [DataRow("registry-1.docker.io", "docker.io")]
    [DataRow("https://index.docker.io/v1/", "registry-1.docker.io")]
    [DataRow("docker.io", "index.docker.io")]
    public async Task Docker_hub_keys_are_aliases(string key, string requestedRegistry)
    {
        _sandbox.WriteDockerConfig($$"""{"auths": {"{{key}}": {"auth": "{{CredentialSandbox.Basic("hubuser", "pw")}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(requestedRegistry, Cancellation);

        Assert.AreEqual("hubuser", credential?.Username);
    }

    [TestMethod]
    public async Task Other_registries_do_not_match_docker_hub_or_each_other()
    {
        _sandbox.WriteDockerConfig($$"""{"auths": {"https://index.docker.io/v1/": {"auth": "{{CredentialSandbox.Basic("hubuser", "pw")}}"}, "registry.test": {"auth": "{{CredentialSandbox.Basic("u", "p")}}"} } }""");
        var provider = _sandbox.CreateProvider();

        Assert.IsNull(await provider.GetCredentialAsync("other.test", Cancellation));
        Assert.IsNull(await provider.GetCredentialAsync("registry.test:5000", Cancellation), "a port makes a different registry");
    }

    [TestMethod]
    public async Task DOCKER_CONFIG_points_at_the_directory_holding_config_json()
    {
        var directory = Path.Combine(_sandbox.Root, "custom-docker");
        _sandbox.WriteFile(Path.Combine(directory, "config.json"), $$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("custom", "pw")}}"} } }""");
        _sandbox.WriteDockerConfig($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("default", "pw")}}"} } }""");
        _sandbox.Environment["DOCKER_CONFIG"] = directory;

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("custom", credential?.Username);
        Assert.Contains(Path.Combine(directory, "config.json"), credential!.Source);
    }

    [TestMethod]
    public async Task Malformed_docker_config_names_the_file_and_hides_its_content()
    {
        var path = _sandbox.WriteDockerConfig($$"""{"auths": {"{{Registry}}": {"password": "{{Secret}}" oops} } }""");

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains(path, error.Message);
        Assert.Contains("not valid JSON", error.Message);
        Assert.DoesNotContain(Secret, error.Message);
        Assert.Contains(path, error.CredentialSource);
    }

    [TestMethod]
    public async Task Auth_value_that_is_not_base64_is_an_error_without_the_value()
    {
        _sandbox.WriteDockerConfig($$"""{"auths": {"{{Registry}}": {"auth": "{{Secret}}!!"} } }""");

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains("base64", error.Message);
        Assert.Contains(_sandbox.DefaultDockerConfigPath, error.Message);
        Assert.DoesNotContain(Secret, error.Message);
    }

    // ---- docker config.json: credential helpers -------------------------------------------------

    [TestMethod]
    public async Task CredHelpers_entry_runs_the_helper_with_the_server_url_on_stdin()
    {
        _sandbox.WriteHelper("fake", $$"""echo '{"ServerURL":"'"$server"'","Username":"helper-user","Secret":"{{Secret}}"}'""");
        var path = _sandbox.WriteDockerConfig($$"""{"credHelpers": {"{{Registry}}": "fake"}, "auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("ignored", "pw")}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("helper-user", credential?.Username);
        Assert.AreEqual(Secret, credential?.Password);
        Assert.AreEqual($"docker config {path} (credHelpers: fake)", credential?.Source);
        CollectionAssert.AreEqual(new[] { Registry }, _sandbox.HelperCalls("fake"));
    }

    [TestMethod]
    public async Task Helper_username_token_means_the_secret_is_an_identity_token()
    {
        _sandbox.WriteHelper("fake", """echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh-token-789"}'""");
        _sandbox.WriteDockerConfig($$"""{"credHelpers": {"{{Registry}}": "fake"} }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("refresh-token-789", credential?.IdentityToken);
        Assert.IsNull(credential?.Username);
        Assert.IsNull(credential?.Password);
    }

    [TestMethod]
    public async Task CredsStore_is_used_when_auths_has_only_an_empty_entry_and_gets_the_docker_hub_server_url()
    {
        _sandbox.WriteHelper("store", """echo '{"ServerURL":"x","Username":"stored","Secret":"pw"}'""");
        _sandbox.WriteDockerConfig("""{"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "store"}""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync("docker.io", Cancellation);

        Assert.AreEqual("stored", credential?.Username);
        Assert.Contains("credsStore: store", credential!.Source);
        CollectionAssert.AreEqual(new[] { "https://index.docker.io/v1/" }, _sandbox.HelperCalls("store"));
    }

    [TestMethod]
    public async Task Helper_saying_credentials_not_found_falls_through_to_the_containers_auth_file()
    {
        _sandbox.WriteHelper("store", """echo "credentials not found in native keychain"; exit 1""");
        _sandbox.WriteDockerConfig("""{"credsStore": "store"}""");
        _sandbox.WriteContainersAuth($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("podman-user", "pw")}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation);

        Assert.AreEqual("podman-user", credential?.Username);
        Assert.HasCount(1, _sandbox.HelperCalls("store"));
    }

    [TestMethod]
    public async Task Missing_helper_names_the_executable_the_registry_and_the_fix()
    {
        var path = _sandbox.WriteDockerConfig($$"""{"credHelpers": {"{{Registry}}": "nonexistent"} }""");

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains("docker-credential-nonexistent", error.Message);
        Assert.Contains(Registry, error.Message);
        Assert.Contains(path, error.Message);
        Assert.Contains("Install docker-credential-nonexistent", error.Message);
        Assert.AreEqual("docker-credential-nonexistent", error.HelperExecutable);
        Assert.AreEqual($"docker config {path} (credHelpers: nonexistent)", error.CredentialSource);
    }

    [TestMethod]
    public async Task Failing_helper_reports_its_exit_code_and_message()
    {
        var helper = _sandbox.WriteHelper("broken", """echo "token expired, run the login command" >&2; exit 3""");
        _sandbox.WriteDockerConfig($$"""{"credHelpers": {"{{Registry}}": "broken"} }""");

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains(helper, error.Message);
        Assert.Contains("exited with code 3", error.Message);
        Assert.Contains("token expired, run the login command", error.Message);
        Assert.Contains(Registry, error.Message);
    }

    [TestMethod]
    public async Task Helper_printing_malformed_json_is_reported_without_echoing_the_output()
    {
        _sandbox.WriteHelper("garbled", $$"""echo '{"Username":"u","Secret":"{{Secret}}"'""");
        _sandbox.WriteDockerConfig($$"""{"credHelpers": {"{{Registry}}": "garbled"} }""");

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains("docker-credential-garbled", error.Message);
        Assert.Contains("not the expected JSON", error.Message);
        Assert.DoesNotContain(Secret, error.Message);
        Assert.DoesNotContain(Secret, error.ToString());
    }

    [TestMethod]
    public async Task Hanging_helper_is_killed_after_the_timeout()
    {
        _sandbox.WriteHelper("slow", "sleep 30");
        _sandbox.WriteDockerConfig($$"""{"credHelpers": {"{{Registry}}": "slow"} }""");
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider(helperTimeout: TimeSpan.FromSeconds(1)).GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains("did not answer within 1 seconds", error.Message);
        Assert.IsLessThan(15, stopwatch.Elapsed.TotalSeconds);
    }

    [TestMethod]
    public async Task Results_are_cached_per_registry_for_the_provider_lifetime()
    {
        _sandbox.WriteHelper("counted", """echo '{"ServerURL":"x","Username":"u","Secret":"pw"}'""");
        _sandbox.WriteDockerConfig("""{"credHelpers": {"one.test": "counted", "two.test": "counted"}}""");
        var provider = _sandbox.CreateProvider();

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => provider.GetCredentialAsync("one.test", Cancellation).AsTask()));
        await provider.GetCredentialAsync("https://one.test/", Cancellation);
        await provider.GetCredentialAsync("two.test", Cancellation);

        CollectionAssert.AreEqual(new[] { "one.test", "two.test" }, _sandbox.HelperCalls("counted"));
        await _sandbox.CreateProvider().GetCredentialAsync("one.test", Cancellation);
        Assert.HasCount(3, _sandbox.HelperCalls("counted"), "a new provider asks again");
    }

    // ---- containers auth.json -------------------------------------------------------------------

    [TestMethod]
    [DataRow("ns/repo", "deepest")]
    [DataRow("ns/repo/sub", "deepest")]
    [DataRow("ns/other", "namespace")]
    [DataRow("ns", "namespace")]
    [DataRow("nsx/repo", "host")]
    [DataRow(null, "host")]
    public async Task Containers_auth_keys_with_paths_pick_the_longest_match(string? repository, string expectedUser)
    {
        _sandbox.WriteContainersAuth($$"""
            {
              "auths": {
                "{{Registry}}": {"auth": "{{CredentialSandbox.Basic("host", "p")}}"},
                "{{Registry}}/ns": {"auth": "{{CredentialSandbox.Basic("namespace", "p")}}"},
                "{{Registry}}/ns/repo": {"auth": "{{CredentialSandbox.Basic("deepest", "p")}}"},
                "other.test/ns/repo": {"auth": "{{CredentialSandbox.Basic("other", "p")}}"}
              }
            }
            """);

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(Registry, repository, Cancellation);

        Assert.AreEqual(expectedUser, credential?.Username);
        Assert.Contains("containers auth file", credential!.Source);
    }

    [TestMethod]
    public async Task The_repository_reaches_the_provider_through_the_interface()
    {
        _sandbox.WriteContainersAuth($$"""{"auths": {"{{Registry}}/ns/repo": {"auth": "{{CredentialSandbox.Basic("scoped", "p")}}"} } }""");
        ICredentialProvider provider = _sandbox.CreateProvider();

        var credential = await provider.GetCredentialAsync(Registry, "ns/repo", Cancellation);

        Assert.AreEqual("scoped", credential?.Username);
    }

    [TestMethod]
    public async Task Providers_without_repository_support_answer_the_registry_wide_question()
    {
        ICredentialProvider provider = new StaticCredentialProvider(new RegistryCredential { Username = "fixed", Source = "test" });

        var credential = await provider.GetCredentialAsync(Registry, "any/repo", Cancellation);

        Assert.AreEqual("fixed", credential?.Username);
    }

    [TestMethod]
    public async Task Containers_auth_key_with_only_a_repository_path_does_not_apply_to_the_whole_registry()
    {
        _sandbox.WriteContainersAuth($$"""{"auths": {"{{Registry}}/ns/repo": {"auth": "{{CredentialSandbox.Basic("scoped", "p")}}"} } }""");
        var provider = _sandbox.CreateProvider();

        Assert.IsNull(await provider.GetCredentialAsync(Registry, Cancellation));
        Assert.AreEqual("scoped", (await provider.GetCredentialAsync(Registry, "ns/repo", Cancellation))?.Username);
    }

    [TestMethod]
    public async Task REGISTRY_AUTH_FILE_replaces_the_default_locations()
    {
        var explicitFile = _sandbox.WriteFile(Path.Combine(_sandbox.Root, "explicit-auth.json"), $$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("explicit", "p")}}"} } }""");
        _sandbox.WriteContainersAuth($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("default", "p")}}"}, "only-default.test": {"auth": "{{CredentialSandbox.Basic("default", "p")}}"} } }""");
        _sandbox.Environment["REGISTRY_AUTH_FILE"] = explicitFile;
        var provider = _sandbox.CreateProvider();

        Assert.AreEqual("explicit", (await provider.GetCredentialAsync(Registry, Cancellation))?.Username);
        Assert.IsNull(await provider.GetCredentialAsync("only-default.test", Cancellation));
        CollectionAssert.AreEqual(new[] { explicitFile }, provider.ContainersAuthPaths.ToArray());
    }

    [TestMethod]
    public async Task XDG_RUNTIME_DIR_auth_file_comes_before_the_config_home_one()
    {
        var runtimeDirectory = Path.Combine(_sandbox.Root, "run-user");
        var runtimeFile = _sandbox.WriteFile(Path.Combine(runtimeDirectory, "containers", "auth.json"), $$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("runtime", "p")}}"} } }""");
        _sandbox.WriteContainersAuth($$"""{"auths": {"{{Registry}}": {"auth": "{{CredentialSandbox.Basic("config-home", "p")}}"}, "fallback.test": {"auth": "{{CredentialSandbox.Basic("config-home", "p")}}"} } }""");
        _sandbox.Environment["XDG_RUNTIME_DIR"] = runtimeDirectory;
        var provider = _sandbox.CreateProvider();

        var first = await provider.GetCredentialAsync(Registry, Cancellation);
        var fallback = await provider.GetCredentialAsync("fallback.test", Cancellation);

        Assert.AreEqual("runtime", first?.Username);
        Assert.Contains(runtimeFile, first!.Source);
        Assert.AreEqual("config-home", fallback?.Username, "a registry missing from the runtime file is looked up in the next file");
    }

    [TestMethod]
    public async Task Malformed_containers_auth_file_names_the_file()
    {
        var path = _sandbox.WriteContainersAuth($$"""{"auths": [ "{{Secret}}" ]}""");

        var error = await Assert.ThrowsExactlyAsync<RegistryCredentialException>(() =>
            _sandbox.CreateProvider().GetCredentialAsync(Registry, Cancellation).AsTask());

        Assert.Contains($"containers auth file {path}", error.Message);
        Assert.DoesNotContain(Secret, error.Message);
    }

    // ---- against the real registry --------------------------------------------------------------

    [TestMethod]
    public async Task Credential_from_docker_config_authenticates_against_a_basic_auth_registry()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Basic, Cancellation);
        _sandbox.WriteDockerConfig($$"""{"auths": {"http://{{registry.Host}}": {"auth": "{{CredentialSandbox.Basic(registry.Username, registry.Password)}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(registry.Host, Cancellation);

        Assert.IsNotNull(credential);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{registry.Host}/v2/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", CredentialSandbox.Basic(credential.Username!, credential.Password!));
        using var response = await client.SendAsync(request, Cancellation);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [TestMethod]
    public async Task Identity_token_from_docker_config_is_exchanged_for_access_at_the_token_server()
    {
        await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token, Cancellation);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var refreshToken = await RequestTokenAsync(client, registry.TokenRealm!, new()
        {
            ["grant_type"] = "password",
            ["username"] = registry.Username,
            ["password"] = registry.Password,
            ["service"] = registry.TokenService,
            ["client_id"] = "tests",
            ["access_type"] = "offline",
        }, "refresh_token");
        _sandbox.WriteDockerConfig($$"""{"auths": {"{{registry.Host}}": {"identitytoken": "{{refreshToken}}"} } }""");

        var credential = await _sandbox.CreateProvider().GetCredentialAsync(registry.Host, Cancellation);

        Assert.AreEqual(refreshToken, credential?.IdentityToken);
        var accessToken = await RequestTokenAsync(client, registry.TokenRealm!, new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = credential!.IdentityToken!,
            ["service"] = registry.TokenService,
            ["client_id"] = "tests",
            ["scope"] = "repository:team/app:pull",
        }, "access_token");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{registry.Host}/v2/team/app/tags/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await client.SendAsync(request, Cancellation);
        Assert.AreEqual(HttpStatusCode.NotFound, response.StatusCode, "authorized; the repository just does not exist yet");
    }

    private async Task<string> RequestTokenAsync(HttpClient client, string realm, Dictionary<string, string> form, string field)
    {
        using var response = await client.PostAsync(realm, new FormUrlEncodedContent(form), Cancellation);
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty(field).GetString()!;
    }

    [TestMethod]
    public void ToString_never_shows_the_secret()
    {
        var credential = new RegistryCredential { Username = "u", Password = Secret, Source = "test" };

        Assert.DoesNotContain(Secret, credential.ToString());
    }
}
