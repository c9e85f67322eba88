using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using Containers.Oci.Images;

namespace Containers.Oci.Tests.Layers;

/// <summary>A temporary directory deleted on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        Path = Directory.CreateTempSubdirectory("layers-test-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string WriteFile(string relativePath, string content, UnixFileMode? mode = null) =>
        WriteFile(relativePath, Encoding.UTF8.GetBytes(content), mode);

    public string WriteFile(string relativePath, byte[] content, UnixFileMode? mode = null)
    {
        var path = Combine(relativePath.Split('/'));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        if (mode is { } unixMode && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, unixMode);
        }

        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One tar entry as read back, without content.</summary>
internal sealed record TarListing(string Name, TarEntryType Type, UnixFileMode Mode, int Uid, int Gid, string UserName, string GroupName, DateTimeOffset ModificationTime, string LinkName, long Length, TarEntryFormat Format);

internal static class LayerTestFiles
{
    public const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode Mode0644 = Mode0600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    public const UnixFileMode Mode0700 = Mode0600 | UnixFileMode.UserExecute;
    public const UnixFileMode Mode0775 = (UnixFileMode)0b111_111_101;

    /// <summary>A small publish-like tree: an executable, libraries, a nested folder, an empty folder.</summary>
    public static void WriteSampleApp(TemporaryDirectory directory, bool alternateHostModes)
    {
        directory.WriteFile("MyApp", "\u007fELF-not-really", alternateHostModes ? Mode0700 : Mode0775);
        directory.WriteFile("MyApp.dll", new byte[] { 0x4D, 0x5A, 1, 2, 3 }, alternateHostModes ? Mode0600 : Mode0644);
        directory.WriteFile("appsettings.json", "{\"Logging\":{}}\n", alternateHostModes ? Mode0600 : Mode0644);
        directory.WriteFile("wwwroot/css/site.css", "body { margin: 0 }\n", alternateHostModes ? Mode0600 : Mode0644);
        directory.WriteFile("wwwroot/index.html", string.Concat(Enumerable.Repeat("<p>hello</p>\n", 5000)), alternateHostModes ? Mode0600 : Mode0644);
        directory.WriteFile("run.sh", "#!/bin/sh\nexec ./MyApp\n", alternateHostModes ? Mode0700 : Mode0775);
        Directory.CreateDirectory(directory.Combine("empty"));
        File.CreateSymbolicLink(directory.Combine("current"), "MyApp.dll");
        if (alternateHostModes && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory.Combine("wwwroot"), Mode0700);
            var old = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
            foreach (var path in Directory.EnumerateFileSystemEntries(directory.Path, "*", SearchOption.AllDirectories))
            {
                if (File.ResolveLinkTarget(path, returnFinalTarget: false) is null)
                {
                    File.SetLastWriteTimeUtc(path, old);
                    File.SetLastAccessTimeUtc(path, old);
                }
            }
        }
    }

    public static async Task<List<TarListing>> ListAsync(ILayer layer)
    {
        var listing = new List<TarListing>();
        await using var tar = await layer.OpenUncompressedAsync();
        await using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            var posix = (PosixTarEntry)entry;
            listing.Add(new TarListing(entry.Name, entry.EntryType, entry.Mode, entry.Uid, entry.Gid, posix.UserName, posix.GroupName, entry.ModificationTime, entry.LinkName, entry.Length, entry.Format));
        }

        return listing;
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    public static async Task<string> RunCheckedAsync(string fileName, params string[] arguments)
    {
        var (exitCode, output, error) = await RunAsync(fileName, arguments);
        Assert.AreEqual(0, exitCode, $"{fileName} {string.Join(' ', arguments)} failed:\n{output}\n{error}");
        return output;
    }

    public static string RequireTool(string tool, string package)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Inconclusive($"requires {tool} (apt-get install {package})");
        return tool;
    }
}
