using Containers.Build.Layering;
using Containers.Oci;

namespace Containers.Build.Tests.Layering;

[TestClass]
public sealed class PublishLayeringTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly string[] PublishFiles =
    [
        "LibProbe.dll", "LibProbe.pdb", "Microsoft.Data.Sqlite.dll", "SQLitePCLRaw.batteries_v2.dll", "SQLitePCLRaw.core.dll",
        "SQLitePCLRaw.provider.e_sqlite3.dll", "Serilog.dll", "WebProbe", "WebProbe.deps.json", "WebProbe.dll", "WebProbe.pdb",
        "WebProbe.runtimeconfig.json", "appsettings.Development.json", "appsettings.json", "libe_sqlite3.so", "wwwroot/index.html",
        "wwwroot/css/site.css",
    ];

    private string MakePublishDirectory(params string[] extraFiles)
    {
        var dir = Path.Combine(Path.GetTempPath(), "cs-layering-" + Guid.NewGuid().ToString("N"));
        foreach (var file in PublishFiles.Concat(extraFiles))
        {
            var full = Path.Combine(dir, file);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, file);
        }

        File.Copy(Path.Combine(AppContext.BaseDirectory, "TestData", "WebProbe.deps.json"), Path.Combine(dir, "WebProbe.deps.json"), overwrite: true);
        TestContext.WriteLine(dir);
        return dir;
    }

    [TestMethod]
    public void Splits_a_framework_dependent_web_app_by_change_rate()
    {
        var dir = MakePublishDirectory();
        try
        {
            var layers = PublishLayering.Split(dir, "WebProbe");

            CollectionAssert.AreEqual(new[] { "packages", "project-references", "wwwroot", "app" }, layers.Select(l => l.Name).ToArray());
            CollectionAssert.AreEqual(
                new[] { "Microsoft.Data.Sqlite.dll", "SQLitePCLRaw.batteries_v2.dll", "SQLitePCLRaw.core.dll", "SQLitePCLRaw.provider.e_sqlite3.dll", "Serilog.dll", "libe_sqlite3.so" },
                layers[0].Files.Select(f => f.RelativePath).ToArray());
            CollectionAssert.AreEqual(new[] { "LibProbe.dll", "LibProbe.pdb" }, layers[1].Files.Select(f => f.RelativePath).ToArray());
            CollectionAssert.AreEqual(new[] { "wwwroot/css/site.css", "wwwroot/index.html" }, layers[2].Files.Select(f => f.RelativePath).ToArray());
            CollectionAssert.AreEqual(
                new[] { "WebProbe", "WebProbe.deps.json", "WebProbe.dll", "WebProbe.pdb", "WebProbe.runtimeconfig.json", "appsettings.Development.json", "appsettings.json" },
                layers[3].Files.Select(f => f.RelativePath).ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Custom_layers_take_their_files_out_of_the_defaults_and_sit_below_the_app()
    {
        var dir = MakePublishDirectory("models/big.onnx", "models/readme.txt");
        try
        {
            var layers = PublishLayering.Split(dir, "WebProbe", [new CustomLayerRule("ml-models", ["models/**"], ["**/*.txt"]), new CustomLayerRule("settings", ["appsettings*.json"], [])]);

            CollectionAssert.AreEqual(new[] { "packages", "project-references", "ml-models", "settings", "wwwroot", "app" }, layers.Select(l => l.Name).ToArray());
            CollectionAssert.AreEqual(new[] { "models/big.onnx" }, layers[2].Files.Select(f => f.RelativePath).ToArray());
            CollectionAssert.AreEqual(new[] { "appsettings.Development.json", "appsettings.json" }, layers[3].Files.Select(f => f.RelativePath).ToArray());
            CollectionAssert.Contains(layers[5].Files.Select(f => f.RelativePath).ToArray(), "models/readme.txt");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Without_a_deps_file_everything_but_wwwroot_is_the_app()
    {
        var dir = MakePublishDirectory();
        File.Delete(Path.Combine(dir, "WebProbe.deps.json"));
        try
        {
            var layers = PublishLayering.Split(dir, "WebProbe");

            CollectionAssert.AreEqual(new[] { "wwwroot", "app" }, layers.Select(l => l.Name).ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Self_contained_runtime_pack_goes_to_the_runtime_layer()
    {
        const string deps = """
            {"runtimeTarget":{"name":".NETCoreApp,Version=v10.0/linux-x64"},
             "targets":{".NETCoreApp,Version=v10.0/linux-x64":{
               "App/1.0.0":{"runtime":{"App.dll":{}}},
               "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/10.0.12":{"runtime":{"System.Private.CoreLib.dll":{}},"native":{"libcoreclr.so":{},"createdump":{}}},
               "Humanizer.Core/2.14.1":{"runtime":{"lib/net6.0/Humanizer.dll":{}},"resources":{"lib/net6.0/de/Humanizer.resources.dll":{"locale":"de"}}}}},
             "libraries":{"App/1.0.0":{"type":"project"},"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/10.0.12":{"type":"runtimepack"},"Humanizer.Core/2.14.1":{"type":"package"}}}
            """;
        var dir = Path.Combine(Path.GetTempPath(), "cs-layering-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "de"));
        try
        {
            File.WriteAllText(Path.Combine(dir, "App.deps.json"), deps);
            foreach (var f in new[] { "App.dll", "App", "System.Private.CoreLib.dll", "libcoreclr.so", "createdump", "Humanizer.dll", "de/Humanizer.resources.dll" })
            {
                File.WriteAllText(Path.Combine(dir, f), f);
            }

            var layers = PublishLayering.Split(dir, "App");

            CollectionAssert.AreEqual(new[] { "runtime", "packages", "app" }, layers.Select(l => l.Name).ToArray());
            CollectionAssert.AreEqual(new[] { "System.Private.CoreLib.dll", "createdump", "libcoreclr.so" }, layers[0].Files.Select(f => f.RelativePath).ToArray());
            CollectionAssert.AreEqual(new[] { "Humanizer.dll", "de/Humanizer.resources.dll" }, layers[1].Files.Select(f => f.RelativePath).ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Duplicate_custom_layer_names_are_refused_with_the_name()
    {
        var error = Assert.ThrowsExactly<OciException>(() => PublishLayering.Split([], DepsFileAssets.None, [new("a", ["x"], []), new("a", ["y"], [])]));

        Assert.Contains("ContainerLayer 'a'", error.Message);
    }

    [TestMethod]
    public void A_broken_deps_file_is_named_in_the_error()
    {
        var dir = MakePublishDirectory();
        File.WriteAllText(Path.Combine(dir, "WebProbe.deps.json"), "{ not json");
        try
        {
            var error = Assert.ThrowsExactly<OciException>(() => PublishLayering.Split(dir, "WebProbe"));

            Assert.Contains("WebProbe.deps.json", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
