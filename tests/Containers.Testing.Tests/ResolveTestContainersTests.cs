using Containers.Testing.Manifest;
using Containers.Testing.Tasks;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Containers.Testing.Tests;

/// <summary>
/// <see cref="ResolveTestContainers"/> as MSBuild runs it: good items become the manifest (written only when it changes),
/// and each kind of bad metadata is one coded error that names the item, the value and the fix.
/// </summary>
[TestClass]
public sealed class ResolveTestContainersTests
{
    private string _directory = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("resolve-test-containers-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private string ManifestPath => Path.Combine(_directory, "obj", TestContainerManifest.FileName);

    [TestMethod]
    public void Apps_and_dependencies_become_the_manifest_with_relative_images_made_absolute()
    {
        var app = Item(Path.Combine(_directory, "TodoApi.csproj"), ("HandleName", "TodoApi"), ("LayoutDirectory", "/obj/containers/TodoApi/"), ("DependsOn", "db; cache:started"), ("Ports", "8080"), ("Wait", "http:/healthz"),
            ("Environment", "\n    ConnectionStrings__Db=Host=db;Username=todo\n\n    ConnectionStrings__Redis=cache:6379\n  "));
        var db = Item("db", ("Image", "postgres:15"), ("Wait", "tcp:5432"), ("Aliases", "db;postgres"), ("StartupTimeout", "00:02:00"));
        var cache = Item("cache", ("Image", "oci:../images:redis-7"), ("Command", "redis-server;--save; "));
        var (task, errors) = Task([app], [db, cache], graphName: "TodoApi.SmokeTests");

        Assert.IsTrue(task.Execute(), string.Join("\n", errors));

        var entries = TestContainerManifest.Read(File.ReadAllText(ManifestPath));
        CollectionAssert.AreEqual(new[] { "app TodoApi", "dependency db", "dependency cache", "graph todoapi.smoketests" }, entries.Select(e => e.Kind + " " + e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "ConnectionStrings__Db=Host=db;Username=todo", "ConnectionStrings__Redis=cache:6379" }, entries[0].All("env"));
        CollectionAssert.AreEqual(new[] { "db", "cache:started" }, entries[0].All("dependsOn"));
        Assert.AreEqual("120", entries[1].First("timeout"));
        CollectionAssert.AreEqual(new[] { "db", "postgres" }, entries[1].All("alias"));
        Assert.AreEqual("oci:" + Path.GetFullPath(Path.Combine(_directory, "../images")) + ":redis-7", entries[2].First("image"));
        CollectionAssert.AreEqual(new[] { "redis-server", "--save" }, entries[2].All("command"));
        Assert.AreEqual("false", entries[3].First("reuse"));
    }

    [TestMethod]
    public void An_unchanged_manifest_is_not_written_again()
    {
        var (task, _) = Task([], [Item("db", ("Image", "postgres:15"))]);
        Assert.IsTrue(task.Execute());
        var written = File.GetLastWriteTimeUtc(ManifestPath);
        File.SetLastWriteTimeUtc(ManifestPath, written.AddMinutes(-5));

        var (again, _) = Task([], [Item("db", ("Image", "postgres:15"))]);
        Assert.IsTrue(again.Execute());

        Assert.AreEqual(written.AddMinutes(-5), File.GetLastWriteTimeUtc(ManifestPath), "the compiler sees no change");
    }

    [TestMethod]
    [DataRow("Image", "", "CONTAINER9003", "The ContainerDependency 'db' has no Image")]
    [DataRow("Image", "Not An Image!", "CONTAINER9004", "The Image of ContainerDependency 'db' is not usable: 'Not An Image!' is not an image")]
    [DataRow("Environment", "1BAD=x", "CONTAINER9005", "The Environment of 'db' has the line '1BAD=x'; write one NAME=VALUE per line")]
    [DataRow("Environment", "NOEQUALS", "CONTAINER9005", "has the line 'NOEQUALS'")]
    [DataRow("Ports", "70000", "CONTAINER9006", "The Ports of 'db' has '70000'")]
    [DataRow("Ports", "53/udp", "CONTAINER9006", "The Ports of 'db' has '53/udp'")]
    [DataRow("Wait", "tcp:http", "CONTAINER9007", "The Wait of 'db' 'tcp:http' is not a wait; write one of tcp:PORT")]
    [DataRow("Wait", "log:([", "CONTAINER9007", "is not a valid regular expression")]
    [DataRow("DependsOn", "nobody", "CONTAINER9008", "'db' depends on 'nobody', which is no ContainerUnderTest or ContainerDependency of this project")]
    [DataRow("DependsOn", "db:healthy-ish", "CONTAINER9008", "write NAME (waits until it is ready), NAME:ready or NAME:started")]
    [DataRow("DependsOn", "db", "CONTAINER9008", "depend on each other in a circle: db -> db")]
    [DataRow("Aliases", "Not_Lower", "CONTAINER9009", "The Aliases of 'db' has 'Not_Lower', which is not a host or network name")]
    [DataRow("StartupTimeout", "soon", "CONTAINER9010", "The StartupTimeout of 'db' is 'soon'")]
    public void Bad_metadata_is_a_coded_error_naming_the_item_and_the_fix(string metadata, string value, string code, string message)
    {
        var db = metadata == "Image" ? Item("db", ("Image", value)) : Item("db", ("Image", "postgres:15"), (metadata, value));
        var (task, errors) = Task([], [db]);

        Assert.IsFalse(task.Execute());

        var error = errors.Single();
        Assert.AreEqual(code, error.Code);
        StringAssert.Contains(error.Message, message);
        Assert.AreEqual(Path.Combine(_directory, "Tests.csproj"), error.File, "the error points at the test project");
        Assert.IsFalse(File.Exists(ManifestPath), "no manifest from bad items");
    }

    [TestMethod]
    public void Bad_and_duplicate_names_are_refused()
    {
        var (task, errors) = Task([Item("/a/My App.csproj", ("HandleName", "My App"), ("LayoutDirectory", "/x/"))], [Item("db", ("Image", "postgres:15")), Item("DB", ("Image", "redis:7"))]);

        Assert.IsFalse(task.Execute());

        CollectionAssert.AreEqual(new[] { "CONTAINER9001", "CONTAINER9002" }, errors.Select(e => e.Code).ToArray());
        StringAssert.Contains(errors[0].Message, "is named 'My App', which cannot name a container");
        StringAssert.Contains(errors[1].Message, "Two containers of this test project are named 'DB'");
    }

    [TestMethod]
    public void A_compose_file_publishes_each_built_project_once_and_warns_about_keys_it_does_not_do()
    {
        var api = Directory.CreateDirectory(Path.Combine(_directory, "Api")).FullName;
        File.WriteAllText(Path.Combine(api, "Api.csproj"), "<Project />");
        var worker = Directory.CreateDirectory(Path.Combine(_directory, "Worker")).FullName;
        File.WriteAllText(Path.Combine(worker, "Worker.csproj"), "<Project />");
        File.WriteAllText(Path.Combine(_directory, "compose.yaml"), """
            services:
              api:
                build: ./Api
                restart: always
              worker:
                build:
                  context: ./Worker
              db:
                image: postgres:15
            """);
        var engine = new RecordingEngine();
        var app = Item(Path.Combine(api, "Api.csproj"), ("LayoutDirectory", "/obj/containers/Api/"));
        var compose = Item(Path.Combine(_directory, "compose.yaml"), ("Name", "Shop"));
        var task = new ResolveContainerCompose { BuildEngine = engine, ComposeFiles = [compose], Apps = [app], LayoutRoot = "/obj/containers/" };

        Assert.IsTrue(task.Execute(), string.Join("\n", engine.Errors.Select(e => e.Message)));

        var resolved = task.ResolvedComposeFiles.Single();
        Assert.AreEqual("Shop", resolved.GetMetadata("HandleName"));
        CollectionAssert.AreEquivalent(new[] { api + "=/obj/containers/Api/", worker + "=/obj/containers/Shop-worker/" }, resolved.GetMetadata("BuiltImages").Split('|'), "the app's own layout is shared");
        Assert.AreEqual(Path.Combine(worker, "Worker.csproj"), task.ProjectsToPublish.Single().ItemSpec, "only the project no ContainerUnderTest publishes");
        var warning = engine.Warnings.Single();
        Assert.AreEqual("CONTAINER9021", warning.Code);
        StringAssert.StartsWith(warning.Message, "services.api.restart: ");
        Assert.AreEqual(4, warning.LineNumber);
    }

    [TestMethod]
    public void A_compose_file_that_cannot_be_read_is_an_error_at_its_line_and_key()
    {
        File.WriteAllText(Path.Combine(_directory, "compose.yaml"), """
            services:
              db:
                image: postgres:15
                ports: ["not a port"]
            """);
        var engine = new RecordingEngine();
        var task = new ResolveContainerCompose { BuildEngine = engine, ComposeFiles = [Item(Path.Combine(_directory, "compose.yaml"))], LayoutRoot = "/obj/containers/" };

        Assert.IsFalse(task.Execute());

        var error = engine.Errors.Single();
        Assert.AreEqual("CONTAINER9020", error.Code);
        Assert.AreEqual(Path.Combine(_directory, "compose.yaml"), error.File);
        Assert.AreEqual(4, error.LineNumber);
        StringAssert.StartsWith(error.Message, "services.db.ports");
    }

    private static TaskItem Item(string include, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(include);
        foreach (var (name, value) in metadata)
        {
            item.SetMetadata(name, value);
        }

        return item;
    }

    private (ResolveTestContainers Task, List<BuildErrorEventArgs> Errors) Task(ITaskItem[] apps, ITaskItem[] dependencies, string graphName = "Tests")
    {
        var engine = new RecordingEngine();
        var task = new ResolveTestContainers
        {
            BuildEngine = engine,
            Apps = apps,
            Dependencies = dependencies,
            Tag = "test",
            GraphName = graphName,
            ProjectDirectory = _directory,
            ProjectFullPath = Path.Combine(_directory, "Tests.csproj"),
            ManifestPath = ManifestPath,
        };
        return (task, engine.Errors);
    }

    private sealed class RecordingEngine : IBuildEngine
    {
        public List<BuildErrorEventArgs> Errors { get; } = [];

        public List<BuildWarningEventArgs> Warnings { get; } = [];

        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => "";

        public bool BuildProjectFile(string projectFileName, string[] targetNames, System.Collections.IDictionary globalProperties, System.Collections.IDictionary targetOutputs) => true;

        public void LogCustomEvent(CustomBuildEventArgs e)
        {
        }

        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

        public void LogMessageEvent(BuildMessageEventArgs e)
        {
        }

        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);
    }
}
