using System.IO.Compression;
using Containers.Build.Layering;

namespace Containers.Build.Tests.Layering;

[TestClass]
public sealed class PackageArchivesTests
{
    [TestMethod]
    public void Packages_and_runtime_packs_of_the_deps_file_are_found_in_the_first_folder_that_has_them()
    {
        var root = Directory.CreateTempSubdirectory("cs-archives-").FullName;
        try
        {
            var first = Path.Combine(root, "fallback");
            var second = Path.Combine(root, "packages");
            var serilog = Nupkg(second, "serilog/4.0.0", "serilog.4.0.0.nupkg");
            var runtime = Nupkg(second, "microsoft.netcore.app.runtime.linux-x64/10.0.12", "microsoft.netcore.app.runtime.linux-x64.10.0.12.nupkg");
            var custom = Nupkg(first, "custom-path/1.2.3-Beta", "my.lib.1.2.3-beta.nupkg");
            Nupkg(second, "my.lib/1.2.3-beta", "my.lib.1.2.3-beta.nupkg"); // a later folder's copy is not taken
            var deps = Path.Combine(root, "App.deps.json");
            File.WriteAllText(deps, """
                {"libraries":{
                  "App/1.0.0":{"type":"project"},
                  "Serilog/4.0.0":{"type":"package"},
                  "My.Lib/1.2.3-Beta":{"type":"package","path":"custom-path/1.2.3-Beta"},
                  "Missing/1.0.0":{"type":"package"},
                  "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/10.0.12":{"type":"runtimepack"},
                  "Lib/1.0.0":{"type":"project"}}}
                """);

            var archives = PackageArchives.Find(deps, [first, second]);

            CollectionAssert.AreEqual(new[] { serilog, custom, runtime }, archives.ToArray());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void A_missing_or_broken_deps_file_or_no_folders_means_no_archives()
    {
        var root = Directory.CreateTempSubdirectory("cs-archives-").FullName;
        try
        {
            var broken = Path.Combine(root, "App.deps.json");
            File.WriteAllText(broken, "{ not json");

            Assert.IsEmpty(PackageArchives.Find(broken, [root]));
            Assert.IsEmpty(PackageArchives.Find(Path.Combine(root, "missing.deps.json"), [root]));
            Assert.IsEmpty(PackageArchives.Find(broken, []));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Nupkg(string folder, string relative, string fileName)
    {
        var directory = Path.Combine(folder, relative);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, fileName);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            zip.CreateEntry("readme.txt");
        }

        return path;
    }
}
