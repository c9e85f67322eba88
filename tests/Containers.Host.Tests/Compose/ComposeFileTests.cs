using Containers.Host.Compose;
using Containers.Host.Storage;
using Containers.TestSupport;

namespace Containers.Host.Tests.Compose;

/// <summary>Reading compose files: every supported key, interpolation, warnings with their key paths, errors with their messages, and the graph they make.</summary>
[TestClass]
public sealed class ComposeFileTests
{
    private TemporaryDirectory _directory = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Initialize() => _directory = new TemporaryDirectory("compose-unit-");

    [TestCleanup]
    public void Cleanup() => _directory.Dispose();

    private ComposeFile Parse(string yaml, IReadOnlyDictionary<string, string>? variables = null, IReadOnlyList<string>? profiles = null) =>
        ComposeFile.Parse(yaml, new ComposeLoadOptions { BaseDirectory = _directory, Variables = variables, UseProcessEnvironment = false, ProjectName = "test", Profiles = profiles ?? [] });

    private ComposeFileException Fails(string yaml, IReadOnlyDictionary<string, string>? variables = null) =>
        Assert.Throws<ComposeFileException>(() => Parse(yaml, variables));

    private static string[] WarningPaths(ComposeFile file) => file.Warnings.Select(w => w.KeyPath).ToArray();

    [TestMethod]
    public void A_file_is_read_with_its_project_name_services_networks_and_volumes_from_disk()
    {
        var project = Directory.CreateDirectory(Path.Combine(_directory, "My Shop_2")).FullName;
        File.WriteAllText(Path.Combine(project, "compose.yaml"), """
            services:
              db:
                image: postgres:15
            networks:
              back: {}
            volumes:
              data:
            """);

        var file = ComposeFile.Load(Path.Combine(project, "compose.yaml"), new ComposeLoadOptions { UseProcessEnvironment = false });

        Assert.AreEqual("myshop_2", file.ProjectName, "the directory's name, lower-cased, other characters dropped");
        Assert.AreEqual(Path.Combine(project, "compose.yaml"), file.Path);
        Assert.AreEqual(project, file.Directory);
        Assert.AreEqual("postgres:15", file["db"].Image);
        CollectionAssert.AreEqual(new[] { "back" }, file.Networks.ToList());
        CollectionAssert.AreEqual(new[] { "data" }, file.Volumes.ToList());
        Assert.IsEmpty(file.Warnings);
        var missing = Assert.Throws<ComposeFileException>(() => ComposeFile.Load(Path.Combine(project, "nope.yaml")));
        StringAssert.Contains(missing.Message, "nope.yaml: the compose file does not exist");
    }

    [TestMethod]
    public void The_project_name_comes_from_the_options_the_variable_or_name_and_is_a_variable_itself()
    {
        var yaml = """
            name: ${PROJECT:-shop}
            services:
              web:
                image: nginx
                environment:
                  - COMPOSE_PROJECT_NAME
                command: echo "I run ${COMPOSE_PROJECT_NAME}"
            """;
        var options = new ComposeLoadOptions { BaseDirectory = _directory, UseProcessEnvironment = false };

        var file = ComposeFile.Parse(yaml, options);

        Assert.AreEqual("shop", file.ProjectName);
        CollectionAssert.AreEqual(new[] { "echo", "I run shop" }, file["web"].Command!.ToList());
        Assert.AreEqual("shop", file["web"].Environment["COMPOSE_PROJECT_NAME"]);
        Assert.AreEqual("other", ComposeFile.Parse(yaml, new ComposeLoadOptions { BaseDirectory = _directory, UseProcessEnvironment = false, Variables = new Dictionary<string, string> { ["COMPOSE_PROJECT_NAME"] = "other" } }).ProjectName);
        Assert.AreEqual("given", ComposeFile.Parse(yaml, new ComposeLoadOptions { BaseDirectory = _directory, UseProcessEnvironment = false, ProjectName = "given" }).ProjectName);
        var bad = Assert.Throws<ComposeFileException>(() => ComposeFile.Parse("name: My_Shop\nservices: { a: { image: x } }", options));
        Assert.AreEqual("compose.yaml: name: 'My_Shop' is not a project name: use lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 40 characters.", bad.Message);
    }

    [TestMethod]
    public void Variables_come_from_the_options_then_the_process_then_dot_env_beside_the_file()
    {
        File.WriteAllText(Path.Combine(_directory, ".env"), "TAG=from-dotenv\nREGISTRY=dotenv.example\nPASSWORD=dotenv-secret\nDERIVED=${TAG}-x\n");
        File.WriteAllText(Path.Combine(_directory, "compose.yaml"), """
            services:
              db:
                image: ${REGISTRY}/postgres:${TAG}
                environment:
                  POSTGRES_PASSWORD: ${PASSWORD:?set a password}
                  DERIVED: $DERIVED
                  FROM_PROCESS: ${CONTAINERS_SDK_COMPOSE_TEST_VARIABLE}
            """);
        System.Environment.SetEnvironmentVariable("CONTAINERS_SDK_COMPOSE_TEST_VARIABLE", "process");
        System.Environment.SetEnvironmentVariable("REGISTRY", "process.example");
        try
        {
            var file = ComposeFile.Load(Path.Combine(_directory, "compose.yaml"), new ComposeLoadOptions { ProjectName = "p", Variables = new Dictionary<string, string> { ["TAG"] = "given" } });

            var db = file["db"];
            Assert.AreEqual("process.example/postgres:given", db.Image);
            Assert.AreEqual("dotenv-secret", db.Environment["POSTGRES_PASSWORD"]);
            Assert.AreEqual("from-dotenv-x", db.Environment["DERIVED"], ".env values are interpolated with the variables above them");
            Assert.AreEqual("process", db.Environment["FROM_PROCESS"]);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("CONTAINERS_SDK_COMPOSE_TEST_VARIABLE", null);
            System.Environment.SetEnvironmentVariable("REGISTRY", null);
        }
    }

    [TestMethod]
    public void Unset_variables_are_warnings_and_required_ones_errors_naming_the_key()
    {
        var file = Parse("services:\n  web:\n    image: nginx${SUFFIX}\n");
        Assert.AreEqual("nginx", file["web"].Image);
        Assert.AreEqual("compose.yaml(3,12): services.web.image: the variable SUFFIX is not set; an empty string is used (as compose does)", file.Warnings.Single().ToString());

        var error = Fails("services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: ${PASSWORD:?the database needs one}\n");
        Assert.AreEqual("compose.yaml(5,26): services.db.environment.POSTGRES_PASSWORD: required variable PASSWORD is missing a value: the database needs one — set it in the environment, in .env beside the compose file, or in ComposeLoadOptions.Variables.", error.Message);
        Assert.AreEqual("services.db.environment.POSTGRES_PASSWORD", error.KeyPath);
        Assert.AreEqual(5, error.Line);
    }

    [TestMethod]
    public void Bad_yaml_is_an_error_with_line_and_column_not_a_parser_stack_trace()
    {
        var error = Fails("services:\n  web:\n    image: nginx\n   ports: [80]\n");
        StringAssert.StartsWith(error.Message, "compose.yaml(4,");
        StringAssert.Contains(error.Message, "not valid YAML");
        StringAssert.Contains(error.Message, "Check the indentation and quoting there");
        Assert.IsInstanceOfType<YamlDotNet.Core.YamlException>(error.InnerException);

        var duplicate = Fails("services:\n  web:\n    image: a\n    image: b\n");
        StringAssert.Contains(duplicate.Message, "not valid YAML");
        StringAssert.Contains(Fails("- just\n- a list\n").Message, "compose.yaml(1,1): expected a mapping (services:, networks:, volumes:) at the top, found a list.");
        StringAssert.Contains(Fails("name: x\n").Message, "the file has no 'services:'");
        StringAssert.Contains(Fails("").Message, "the file is empty");
    }

    [TestMethod]
    public void A_service_without_image_or_build_and_a_bad_image_are_errors()
    {
        Assert.AreEqual(
            "compose.yaml(3,5): services.web: the service has neither 'image' nor 'build'; add image: (a registry reference like postgres:15, or oci:DIR:TAG) or build: (the project directory).",
            Fails("services:\n  web:\n    environment: { A: b }\n").Message);
        StringAssert.Contains(Fails("services:\n  web:\n    image: 'UPPER case:x'\n").Message, "compose.yaml(3,12): services.web.image: 'UPPER case:x' is not an image");
        StringAssert.Contains(Fails("services:\n  Web:\n    image: nginx\n").Message, "services.Web: 'Web' is not usable as a service name here");
    }

    [TestMethod]
    public void Images_in_oci_layouts_are_relative_to_the_compose_file()
    {
        var file = Parse("services:\n  app:\n    image: oci:./layout:app-1\n");

        Assert.AreEqual("oci:./layout:app-1", file["app"].Image);
        Assert.AreEqual($"OCI layout {Path.Combine(_directory, "layout")} (app-1)", file.ToGraph()["app"].Options.Image.ToString());
    }

    [TestMethod]
    public void Built_services_are_listed_and_resolved_by_the_callers_function()
    {
        var app = Directory.CreateDirectory(Path.Combine(_directory, "src", "App")).FullName;
        File.WriteAllText(Path.Combine(app, "App.csproj"), "<Project />");
        var file = Parse("""
            services:
              app:
                build: ./src/App
              worker:
                build:
                  context: ./src/Worker
                  dockerfile: Dockerfile
                  target: final
                  args: { CONFIG: Release }
                  cache_from: [x]
                image: registry.example/worker:1
              db:
                image: postgres:15
            """);

        CollectionAssert.AreEqual(new[] { "app", "worker" }, file.BuiltServices.Select(s => s.Name).ToList());
        Assert.AreEqual(app, file["app"].Build!.Context);
        Assert.AreEqual(Path.Combine(app, "App.csproj"), file["app"].Build!.FindProjectFile());
        Assert.AreEqual(new ComposeBuild(Path.Combine(_directory, "src", "Worker"), "Dockerfile", "final", file["worker"].Build!.Args), file["worker"].Build);
        Assert.AreEqual("Release", file["worker"].Build!.Args["CONFIG"]);
        Assert.IsNull(file["worker"].Build!.FindProjectFile(), "no such directory");
        CollectionAssert.AreEqual(new[] { "services.worker.build.cache_from" }, WarningPaths(file));

        var error = Assert.Throws<ComposeFileException>(() => file.ToGraph());
        Assert.AreEqual("compose.yaml(3,5): services.app.build: the service is built from " + app + " and has no image:; pass ComposeGraphOptions.BuildImage (a function giving the image a built service runs, e.g. ContainerImageSource.FromOciLayout(\"obj/containers/app\", \"test\")), or add image:.", error.Message);
        var graph = file.ToGraph(new ComposeGraphOptions { BuildImage = s => ContainerImageSource.FromOciLayout("/layouts/" + s.Name, "test") });
        Assert.AreEqual("OCI layout /layouts/app (test)", graph["app"].Options.Image.ToString());
        Assert.AreEqual("OCI layout /layouts/worker (test)", graph["worker"].Options.Image.ToString());
        Assert.AreEqual("postgres:15", graph["db"].Options.Image.ToString().Split('/')[^1]);
    }

    [TestMethod]
    public void Command_and_entrypoint_are_split_like_a_shell_or_taken_as_lists()
    {
        var file = Parse("""
            services:
              a:
                image: x
                command: sh -c 'echo "hello $$HOSTNAME"'
                entrypoint: ["/bin/tini", "--"]
              b:
                image: x
                command: []
                entrypoint: ''
              c:
                image: x
                command: null
            """);

        CollectionAssert.AreEqual(new[] { "sh", "-c", "echo \"hello $HOSTNAME\"" }, file["a"].Command!.ToList());
        CollectionAssert.AreEqual(new[] { "/bin/tini", "--" }, file["a"].Entrypoint!.ToList());
        Assert.IsEmpty(file["b"].Command!);
        Assert.IsEmpty(file["b"].Entrypoint!);
        Assert.IsNull(file["c"].Command);
        Assert.IsNull(file["c"].Entrypoint);
        var graph = file.ToGraph();
        CollectionAssert.AreEqual(new[] { "/bin/tini", "--" }, graph["a"].Options.Entrypoint!.ToList());
        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    command: echo 'open\n").Message, "services.a.command: 'echo 'open' cannot be split into arguments: the single quote at position 6 is never closed; close the quote, or write the command as a list.");
    }

    [TestMethod]
    public void Environment_as_map_or_list_with_names_alone_taken_from_the_variables_over_env_files()
    {
        File.WriteAllText(Path.Combine(_directory, "common.env"), "A=from-file\nB=from-file\nC=${HOST_VALUE}\nRAW=$HOST_VALUE\n");
        File.WriteAllText(Path.Combine(_directory, "raw.env"), "RAW=$HOST_VALUE\n");
        var file = Parse("""
            services:
              map:
                image: x
                env_file: common.env
                environment:
                  B: from-map
                  PORT: 8080
                  FLAG: "true"
                  FROM_HOST:
                  UNSET_ONE:
              list:
                image: x
                build:
                  context: .
                  args: [UNSET_ONE, B]
                env_file:
                  - path: common.env
                  - path: raw.env
                    format: raw
                  - path: missing.env
                    required: false
                environment:
                  - B=from-list
                  - FROM_HOST
                  - A
                  - EQUALS=a=b
            """, new Dictionary<string, string> { ["FROM_HOST"] = "host", ["HOST_VALUE"] = "hv", ["A"] = "variable-a" });

        var map = file["map"].Environment;
        Assert.AreEqual("from-file", map["A"]);
        Assert.AreEqual("from-map", map["B"]);
        Assert.AreEqual("hv", map["C"], "env files are interpolated");
        Assert.AreEqual("8080", map["PORT"]);
        Assert.AreEqual("true", map["FLAG"]);
        Assert.AreEqual("host", map["FROM_HOST"]);
        Assert.IsFalse(map.ContainsKey("UNSET_ONE"), "a name alone without a value to take is left out");
        var list = file["list"].Environment;
        Assert.AreEqual("variable-a", list["A"], "a name alone takes the variable, over the env file");
        Assert.AreEqual("from-list", list["B"]);
        Assert.AreEqual("$HOST_VALUE", list["RAW"], "format: raw is not interpolated");
        Assert.AreEqual("a=b", list["EQUALS"]);
        Assert.AreEqual("host", file.ToGraph()["list"].Options.Environment["FROM_HOST"]);

        var missing = Fails("services:\n  a:\n    image: x\n    env_file: nope.env\n");
        Assert.AreEqual($"compose.yaml(4,15): services.a.env_file: the env file '{Path.Combine(_directory, "nope.env")}' does not exist; create it, or mark it optional ({{ path: nope.env, required: false }}).", missing.Message);
        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    environment: just-a-string\n").Message, "services.a.environment: expected environment variables as a mapping (NAME: value) or a list (- NAME=value), found 'just-a-string'.");
    }

    [TestMethod]
    public void Ports_in_short_and_long_form_are_published_on_127_0_0_1_and_a_fixed_host_port_is_a_warning_once()
    {
        var file = Parse("""
            services:
              web:
                image: x
                ports:
                  - "8080"
                  - 9090
                  - "5432:5432"
                  - "127.0.0.1:8001:81"
                  - "[::1]:6001:6001"
                  - "3000-3002"
                  - "127.0.0.1::82/tcp"
                  - "53:53/udp"
                  - target: 83
                    published: "8083"
                    host_ip: 127.0.0.1
                    protocol: tcp
                    mode: host
                    name: web
                expose:
                  - "7000"
                  - 7001
                  - "7002-7003/tcp"
                  - "7004/udp"
            """);

        var web = file["web"];
        CollectionAssert.AreEqual(new[] { 8080, 9090, 5432, 81, 6001, 3000, 3001, 3002, 82, 83 }, web.Ports.Select(p => p.ContainerPort).ToList());
        Assert.AreEqual(new ComposePort(81, "tcp", "8001", "127.0.0.1"), web.Ports[3]);
        Assert.AreEqual(new ComposePort(6001, "tcp", "6001", "::1"), web.Ports[4]);
        CollectionAssert.AreEqual(new[] { 7000, 7001, 7002, 7003 }, web.Expose.ToList());
        var warnings = file.Warnings.Select(w => w.ToString()).ToList();
        CollectionAssert.AreEqual(
            new[]
            {
                "compose.yaml(7,9): services.web.ports[2]: host port 5432 is not honoured: the host publishes every container port on a free 127.0.0.1 port (RunningContainer.GetPublishedPort(5432) says which); the same goes for every fixed host port in this file",
                "compose.yaml(12,9): services.web.ports[7]: ignored: only TCP ports are published (udp is not)",
                "compose.yaml(23,9): services.web.expose[3]: ignored: only TCP ports are published",
            },
            warnings);
        CollectionAssert.AreEquivalent(new[] { 8080, 9090, 5432, 81, 6001, 3000, 3001, 3002, 82, 83, 7000, 7001, 7002, 7003 }, file.ToGraph()["web"].Options.PublishedPorts.ToList());

        Assert.AreEqual(
            "compose.yaml(5,9): services.web.ports[0]: '80:http' is not a port mapping: expected CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER, each port 1-65535 or a range like 8000-8010, optionally /tcp or /udp (e.g. \"5432\", \"8080:80\", \"127.0.0.1:8080:80/tcp\").",
            Fails("services:\n  web:\n    image: x\n    ports:\n      - \"80:http\"\n").Message);
        StringAssert.Contains(Fails("services:\n  web:\n    image: x\n    ports:\n      - 70000\n").Message, "'70000' is not a port mapping");
        StringAssert.Contains(Fails("services:\n  web:\n    image: x\n    ports:\n      - published: 80\n").Message, "services.web.ports[0]: a port in the long form needs 'target:' (the container port), e.g. { target: 80 }.");
        StringAssert.Contains(Fails("services:\n  web:\n    image: x\n    ports: [\"80/quic\"]\n").Message, "'quic' is not a protocol; write tcp or udp.");
    }

    [TestMethod]
    public void Dependencies_as_list_or_conditions_map_onto_the_graph()
    {
        var file = Parse("""
            services:
              migrate:
                image: x
              db:
                image: x
                healthcheck:
                  test: ["CMD", "pg_isready"]
              cache:
                image: x
              app:
                image: x
                depends_on:
                  db:
                    condition: service_healthy
                    restart: true
                  cache:
                    condition: service_started
                  migrate:
                    condition: service_completed_successfully
                  metrics:
                    condition: service_started
                    required: false
              worker:
                image: x
                depends_on: [db, cache]
            """);

        CollectionAssert.AreEqual(
            new[]
            {
                new ComposeDependency("db", ComposeDependencyCondition.ServiceHealthy, true),
                new ComposeDependency("cache", ComposeDependencyCondition.ServiceStarted, true),
                new ComposeDependency("migrate", ComposeDependencyCondition.ServiceCompletedSuccessfully, true),
            },
            file["app"].DependsOn.ToList());
        CollectionAssert.AreEqual(new[] { "services.app.depends_on.db.restart", "services.app.depends_on.metrics" }, WarningPaths(file));
        StringAssert.Contains(file.Warnings[1].Message, "ignored: 'metrics' is not a service of this file and the dependency is not required");
        var graph = file.ToGraph();
        CollectionAssert.AreEqual(
            new[] { ("db", ContainerDependencyCondition.Ready), ("cache", ContainerDependencyCondition.Started), ("migrate", ContainerDependencyCondition.Ready) },
            graph["app"].Dependencies.ToList());
        Assert.AreEqual(ContainerWaitKind.Exit, graph["migrate"].Options.WaitStrategies.Single().Kind, "a job depended on to complete is ready when it exited with 0");
        Assert.AreEqual("the container to exit with code 0", graph["migrate"].Options.WaitStrategies.Single().Description);
        CollectionAssert.AreEqual(new[] { ("db", ContainerDependencyCondition.Started), ("cache", ContainerDependencyCondition.Started) }, graph["worker"].Dependencies.ToList());

        var unknown = Fails("services:\n  app:\n    image: x\n    depends_on: [db]\n");
        Assert.AreEqual("compose.yaml(4,18): services.app.depends_on[0]: 'db' is not a service of this file; the services are app. Fix the name, or mark the dependency required: false.", unknown.Message);
        StringAssert.Contains(Fails("services:\n  app:\n    image: x\n    depends_on: { app: {} }\n").Message, "the service app depends on itself");
        Assert.AreEqual(
            "compose.yaml(10,5): services.c.depends_on: the services depend on each other in a circle (a -> b -> c -> a); remove one of these dependencies.",
            Fails("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n").Message);
        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n  b:\n    image: x\n    depends_on: { a: { condition: service_ready } }\n").Message, "'service_ready' is not a condition; expected service_started, service_healthy or service_completed_successfully.");
        var disabled = Fails("services:\n  db:\n    image: x\n    healthcheck: { disable: true }\n  app:\n    image: x\n    depends_on: { db: { condition: service_healthy } }\n");
        Assert.AreEqual("compose.yaml(7,19): services.app.depends_on.db: the condition is service_healthy, but the health check of db is disabled, so it never gets healthy; enable it, or depend on it with service_started.", disabled.Message);
    }

    [TestMethod]
    public void Health_checks_are_read_with_compose_defaults_in_every_form()
    {
        var file = Parse("""
            services:
              list:
                image: x
                healthcheck:
                  test: ["CMD", "pg_isready", "-U", "postgres"]
                  interval: 2s
                  timeout: 1s
                  retries: 5
                  start_period: 1m
                  start_interval: 1s
              shell:
                image: x
                healthcheck:
                  test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]
              string:
                image: x
                healthcheck:
                  test: redis-cli ping
              none:
                image: x
                healthcheck:
                  test: ["NONE"]
              disabled:
                image: x
                healthcheck:
                  disable: true
              timings:
                image: x
                healthcheck:
                  interval: 5s
            """);

        var list = file["list"].HealthCheck!;
        CollectionAssert.AreEqual(new[] { "CMD", "pg_isready", "-U", "postgres" }, list.Test!.ToList());
        Assert.AreEqual((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 5, TimeSpan.FromMinutes(1), false), (list.Interval, list.Timeout, list.Retries, list.StartPeriod, list.Disabled));
        CollectionAssert.AreEqual(new[] { "pg_isready", "-U", "postgres" }, file["list"].HealthCheck!.ExecCommand!.ToList());
        CollectionAssert.AreEqual(new[] { "/bin/sh", "-c", "curl -f http://localhost/ || exit 1" }, file["shell"].HealthCheck!.ExecCommand!.ToList());
        CollectionAssert.AreEqual(new[] { "CMD-SHELL", "redis-cli ping" }, file["string"].HealthCheck!.Test!.ToList());
        Assert.AreEqual(TimeSpan.FromSeconds(30), file["string"].HealthCheck!.Interval);
        Assert.AreEqual(3, file["string"].HealthCheck!.Retries);
        Assert.IsTrue(file["none"].HealthCheck!.Disabled);
        Assert.IsTrue(file["disabled"].HealthCheck!.Disabled);
        Assert.IsNull(file["timings"].HealthCheck!.Test);
        var graph = file.ToGraph();
        Assert.IsEmpty(graph["none"].Options.WaitStrategies, "a disabled check: no wait");
        Assert.AreEqual(ContainerWaitKind.HealthCheck, graph["timings"].Options.WaitStrategies.Single().Kind, "no test: the image's own check");
        Assert.AreEqual(TimeSpan.FromMinutes(1) + (5 * TimeSpan.FromSeconds(3)), graph["list"].Options.StartupTimeout, "long enough for the start period and the retries");

        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    healthcheck: { test: [\"CURL\", \"x\"] }\n").Message, "services.a.healthcheck.test: a test list starts with CMD (then the command and its arguments), CMD-SHELL (then one shell command) or NONE; found [CURL, x].");
        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    healthcheck: { test: [CMD, x], interval: 10 }\n").Message, "services.a.healthcheck.interval: '10' is not a duration; write a number with a unit (us, ms, s, m, h), e.g. 10s or 1m30s.");
    }

    [TestMethod]
    [DataRow("[\"CMD\", \"curl\", \"-f\", \"http://localhost:8080/healthz\"]", "Http", "GET /healthz on port 8080 to answer a status below 400")]
    [DataRow("curl -fsS http://127.0.0.1:5000/ready?deep=1 || exit 1", "Http", "GET /ready?deep=1 on port 5000 to answer a status below 400")]
    [DataRow("[\"CMD\", \"curl\", \"--fail\", \"--max-time\", \"2\", \"localhost/\"]", "Http", "GET / on port 80 to answer a status below 400")]
    [DataRow("wget -q --spider http://localhost:3000/health", "Http", "GET /health on port 3000 to answer a status below 400")]
    [DataRow("[\"CMD\", \"wget\", \"--no-verbose\", \"--tries=1\", \"-O-\", \"http://localhost:9000/\"]", "Http", "GET / on port 9000 to answer a status below 400")]
    [DataRow("[\"CMD-SHELL\", \"pg_isready -U postgres\"]", "TcpPort", "TCP port 5432 to accept connections")]
    [DataRow("pg_isready -h localhost -p 5433 -U app -d app", "TcpPort", "TCP port 5433 to accept connections")]
    [DataRow("[\"CMD\", \"redis-cli\", \"ping\"]", "TcpPort", "TCP port 6379 to accept connections")]
    [DataRow("redis-cli -p 6380 -a secret ping", "TcpPort", "TCP port 6380 to accept connections")]
    [DataRow("nc -z localhost 7000", "TcpPort", "TCP port 7000 to accept connections")]
    [DataRow("nc -zv -w 2 127.0.0.1 7001", "TcpPort", "TCP port 7001 to accept connections")]
    [DataRow("curl http://localhost:8080/", "Command", "the command '/bin/sh -c curl http://localhost:8080/' to exit 0 inside the container")]
    [DataRow("curl -f http://other-service:8080/", "Command", "the command '/bin/sh -c curl -f http://other-service:8080/' to exit 0 inside the container")]
    [DataRow("pg_isready -U postgres && psql -c 'select 1'", "Command", "the command '/bin/sh -c pg_isready -U postgres && psql -c 'select 1'' to exit 0 inside the container")]
    [DataRow("[\"CMD\", \"mysqladmin\", \"ping\"]", "Command", "the command 'mysqladmin ping' to exit 0 inside the container")]
    [DataRow("nc -z db 5432", "Command", "the command '/bin/sh -c nc -z db 5432' to exit 0 inside the container")]
    public void Health_checks_that_probe_the_service_itself_run_from_outside_others_inside(string test, string kind, string description)
    {
        var file = Parse($"services:\n  s:\n    image: x\n    healthcheck:\n      test: {(test.StartsWith('[') ? test : "'" + test.Replace("'", "''", StringComparison.Ordinal) + "'")}\n      interval: 1s\n");

        var wait = file.ToGraph()["s"].Options.WaitStrategies.Single();

        Assert.AreEqual(Enum.Parse<ContainerWaitKind>(kind), wait.Kind);
        Assert.AreEqual(description, wait.Description);
        if (kind == "Http")
        {
            CollectionAssert.Contains(file.ToGraph()["s"].Options.PublishedPorts.ToList(), int.Parse(description.Split(' ')[4], System.Globalization.CultureInfo.InvariantCulture), "an HTTP wait calls a published port");
        }
    }

    [TestMethod]
    public void Volumes_named_bind_anonymous_long_form_and_tmpfs_map_onto_graph_volumes_and_mounts()
    {
        var file = Parse("""
            services:
              db:
                image: x
                volumes:
                  - data:/var/lib/data
                  - ./config:/etc/app:ro
                  - /var/cache/app
                  - type: volume
                    source: shared
                    target: /shared
                    read_only: true
                    volume: { nocopy: true }
                  - type: bind
                    source: ./logs
                    target: /logs
                  - type: tmpfs
                    target: /scratch
                    tmpfs: { size: 64m, mode: 1770 }
                tmpfs:
                  - /run:size=1m,mode=755
                  - /tmp2
            volumes:
              data: {}
              shared:
                external: true
            """);

        var db = file["db"];
        CollectionAssert.AreEqual(
            new[]
            {
                new ComposeMount(ComposeMountType.Volume, "data", "/var/lib/data", false),
                new ComposeMount(ComposeMountType.Bind, Path.Combine(_directory, "config"), "/etc/app", true),
                new ComposeMount(ComposeMountType.Volume, null, "/var/cache/app", false),
                new ComposeMount(ComposeMountType.Volume, "shared", "/shared", true),
                new ComposeMount(ComposeMountType.Bind, Path.Combine(_directory, "logs"), "/logs", false),
                new ComposeMount(ComposeMountType.Tmpfs, null, "/scratch", false) { TmpfsSizeBytes = 64L << 20, TmpfsMode = (UnixFileMode)Convert.ToInt32("1770", 8) },
                new ComposeMount(ComposeMountType.Tmpfs, null, "/run", false) { TmpfsSizeBytes = 1L << 20, TmpfsMode = (UnixFileMode)Convert.ToInt32("755", 8) },
                new ComposeMount(ComposeMountType.Tmpfs, null, "/tmp2", false),
            },
            db.Mounts.ToList());
        CollectionAssert.AreEqual(new[] { "volumes.shared.external", "services.db.volumes[3].volume.nocopy" }, WarningPaths(file));

        var member = file.ToGraph()["db"];
        CollectionAssert.AreEqual(new[] { ("data", "/var/lib/data", false), ("db-anonymous-1", "/var/cache/app", false), ("shared", "/shared", true) }, member.VolumeMounts.ToList());
        Assert.IsTrue(Directory.Exists(Path.Combine(_directory, "config")), "a missing bind source is created, as compose does");
        var mounts = member.Options.Mounts.ToList();
        Assert.AreEqual(Path.Combine(_directory, "config"), ((BindMount)mounts[0]).HostPath);
        Assert.IsTrue(mounts[0].ReadOnly);
        Assert.AreEqual(64L << 20, ((TmpfsMount)mounts[2]).SizeBytes);

        Assert.AreEqual("compose.yaml(5,9): services.db.volumes[0]: the volume 'data' is not declared; add it under the top-level volumes: (data: {}), or write ./data for a directory beside the compose file.", Fails("services:\n  db:\n    image: x\n    volumes:\n      - data:/var/lib/data\n").Message);
        StringAssert.Contains(Fails("services:\n  db:\n    image: x\n    volumes: [\"./a:relative\"]\n").Message, "'relative' is not an absolute path inside the container (and not /); write it like /var/lib/data.");
        StringAssert.Contains(Fails("services:\n  db:\n    image: x\n    volumes: [\"./a:/a:rx\"]\n").Message, "'rx' is not a mount option; expected ro or rw.");
        StringAssert.Contains(Fails("services:\n  db:\n    image: x\n    volumes: [{ type: volume, source: ./x, target: /x }]\n").Message, "'./x' is a path, not a volume name; use type: bind for a host path.");
        StringAssert.Contains(Fails("services:\n  db:\n    image: x\n    volumes: [\"./a:/a\", \"./b:/a\"]\n").Message, "two mounts of the service db go to /a; keep one.");
    }

    [TestMethod]
    public void Networks_with_aliases_and_the_default_network()
    {
        var file = Parse("""
            services:
              db:
                image: x
                networks:
                  back:
                    aliases: [database, postgres]
                    ipv4_address: 172.16.0.5
              app:
                image: x
                networks: [front, back]
              other:
                image: x
                networks:
                  default:
                    aliases: [alt]
              lonely:
                image: x
            networks:
              front:
                driver: bridge
              back:
                internal: true
                driver: overlay
            """);

        CollectionAssert.AreEqual(new[] { new ComposeServiceNetwork("back", ["database", "postgres"]) }.Select(n => n.Network + ":" + string.Join(',', n.Aliases)).ToList(), file["db"].Networks.Select(n => n.Network + ":" + string.Join(',', n.Aliases)).ToList());
        CollectionAssert.AreEqual(new[] { "networks.back.driver", "services.db.networks.back.ipv4_address" }, WarningPaths(file));
        var graph = file.ToGraph();
        Assert.AreEqual("back:db,database,postgres", string.Join(' ', graph["db"].Networks.Select(n => n.Network + ":" + string.Join(',', n.Aliases))));
        Assert.AreEqual("front:app back:app", string.Join(' ', graph["app"].Networks.Select(n => n.Network + ":" + string.Join(',', n.Aliases))));
        Assert.AreEqual("default:other,alt", string.Join(' ', graph["other"].Networks.Select(n => n.Network + ":" + string.Join(',', n.Aliases))));
        Assert.IsEmpty(graph["lonely"].Networks, "no networks: the graph's default network, by its name");
        CollectionAssert.AreEquivalent(new[] { "back", "front", "default" }, graph.Networks.ToList());

        Assert.AreEqual("compose.yaml(5,9): services.db.networks[0]: the network 'backend' is not declared; add it under the top-level networks: (backend: {}).", Fails("services:\n  db:\n    image: x\n    networks:\n      - backend\n").Message);
    }

    [TestMethod]
    public void Process_settings_limits_and_labels_reach_the_members_options()
    {
        var file = Parse("""
            services:
              db:
                image: x
                user: "999:999"
                working_dir: /srv
                hostname: database
                stop_grace_period: 1m30s
                stop_signal: SIGINT
                mem_limit: 512m
                cpus: 0.5
                labels:
                  com.example.role: db
                  com.example.empty:
              app:
                image: x
                deploy:
                  replicas: 1
                  resources:
                    limits: { cpus: "1.5", memory: 1g, pids: 100 }
                    reservations: { memory: 256m }
                  restart_policy: { condition: on-failure }
                labels: ["a=b", "c"]
            """);

        var db = file.ToGraph()["db"].Options;
        Assert.AreEqual("999:999", db.User);
        Assert.AreEqual("/srv", db.WorkingDirectory);
        Assert.AreEqual("database", db.Hostname);
        Assert.AreEqual(TimeSpan.FromSeconds(90), db.StopGracePeriod);
        Assert.AreEqual("SIGINT", db.StopSignal);
        Assert.AreEqual(512L << 20, db.MemoryLimitBytes);
        Assert.AreEqual(0.5, db.CpuLimit);
        Assert.AreEqual("db", db.Labels["com.example.role"]);
        Assert.AreEqual("", db.Labels["com.example.empty"]);
        var app = file.ToGraph()["app"].Options;
        Assert.AreEqual(1L << 30, app.MemoryLimitBytes);
        Assert.AreEqual(1.5, app.CpuLimit);
        Assert.AreEqual(TimeSpan.FromSeconds(10), app.StopGracePeriod, "compose's default");
        Assert.AreEqual("b", app.Labels["a"]);
        Assert.AreEqual("", app.Labels["c"]);
        CollectionAssert.AreEqual(new[] { "services.app.deploy.resources.limits.pids", "services.app.deploy.resources.reservations", "services.app.deploy.restart_policy" }, WarningPaths(file));

        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    mem_limit: 512m\n    deploy: { resources: { limits: { memory: 1g } } }\n").Message, "differs from mem_limit (536870912 bytes); compose requires them to agree — keep one.");
        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    mem_limit: lots\n").Message, "services.a.mem_limit: 'lots' is not a byte value; write a number with b, k, m or g (binary units), e.g. 512m or 1g.");
        StringAssert.Contains(Fails("services:\n  a:\n    image: x\n    working_dir: srv\n").Message, "services.a.working_dir: 'srv' is not an absolute path inside the container");
    }

    [TestMethod]
    public void Unsupported_keys_are_warnings_naming_their_path_and_what_happens_extensions_are_silent()
    {
        var file = Parse("""
            version: "3.9"
            x-defaults: &defaults
              restart: always
              logging: { driver: json-file }
            services:
              db:
                <<: *defaults
                image: postgres
                container_name: my-db
                privileged: true
                cap_add: [NET_ADMIN]
                x-custom: { anything: here }
                enviroment: { A: b }
                sysctls: { net.core.somaxconn: 1024 }
              debug:
                image: busybox
                profiles: [debug]
            secrets:
              s: { file: ./s }
            """);

        Assert.AreEqual(
            string.Join('\n', new[]
            {
                "compose.yaml(1,10): version: ignored: the attribute is obsolete (compose ignores it too)",
                "compose.yaml(19,3): secrets: ignored: the Containers.Sdk host does not support it",
                "compose.yaml(17,15): services.debug.profiles: the service is left out: none of its profiles (debug) is active (ComposeLoadOptions.Profiles or COMPOSE_PROFILES)",
                "compose.yaml(3,12): services.db.restart: ignored: the host never restarts a container; a test sees its exit (RunningContainer.Exited)",
                "compose.yaml(4,12): services.db.logging: ignored: the host keeps the container's output (RunningContainer.Logs)",
                "compose.yaml(9,21): services.db.container_name: ignored: the host names containers itself (containers-sdk-<id>); other services reach this one by its service name",
                "compose.yaml(10,17): services.db.privileged: ignored: containers never run privileged",
                "compose.yaml(11,14): services.db.cap_add: ignored: containers get the host's fixed capability set",
                "compose.yaml(13,17): services.db.enviroment: ignored: not a key of the compose specification here (did you mean 'environment'?)",
                "compose.yaml(14,14): services.db.sysctls: ignored: the Containers.Sdk host does not support it",
            }),
            string.Join('\n', file.Warnings.Select(w => w.ToString())));
        CollectionAssert.AreEqual(new[] { "db" }, file.Services.Select(s => s.Name).ToList());
        CollectionAssert.AreEqual(new[] { "db", "debug" }, Parse("services:\n  db: { image: x }\n  debug: { image: x, profiles: [debug] }\n", profiles: ["debug"]).Services.Select(s => s.Name).ToList());
    }

    [TestMethod]
    public void The_graph_carries_the_project_name_environment_and_every_member()
    {
        var file = Parse("""
            services:
              db:
                image: postgres:15
                environment: { POSTGRES_PASSWORD: secret }
              app:
                image: oci:./app:test
                depends_on: [db]
            """);

        var graph = file.ToGraph(new ComposeGraphOptions { StartupTimeout = TimeSpan.FromSeconds(5) });

        Assert.AreEqual("test", graph.Name);
        CollectionAssert.AreEqual(new[] { "db", "app" }, graph.Members.Select(m => m.Name).ToList());
        Assert.AreEqual("secret", graph["db"].Options.Environment["POSTGRES_PASSWORD"]);
        Assert.AreEqual(TimeSpan.FromSeconds(5), graph["app"].Options.StartupTimeout);
        Assert.AreNotSame(graph, file.ToGraph(), "each call makes a new graph");
    }
}
