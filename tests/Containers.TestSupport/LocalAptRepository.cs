using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Containers.TestSupport;

/// <summary>
/// A real apt repository for tests: real .debs fetched with <c>apt-get download</c> (once, into a cache keyed by
/// the package list and the machine's apt candidates), indexed with dpkg-scanpackages, a Release written by
/// apt-ftparchive, signed by gpg with a throwaway key (InRelease and Release.gpg), and served over HTTP on
/// 127.0.0.1 by an in-process listener. Tests change it (a newer package version, a tampered .deb, another key,
/// no signature) through its methods.
/// </summary>
public sealed class LocalAptRepository : IAsyncDisposable
{
    /// <summary>The environment variable that overrides <see cref="DefaultCacheDirectory"/>.</summary>
    public const string CacheEnvironmentVariable = "CONTAINERS_SDK_TEST_DEBS";

    /// <summary>Where downloaded .debs are kept between runs.</summary>
    public const string DefaultCacheDirectory = "/var/cache/containers-sdk-tests/debs";

    /// <summary>The suite the repository serves (that of the test base images).</summary>
    public const string Suite = "bookworm";

    /// <summary>The component.</summary>
    public const string Component = "main";

    /// <summary>The architecture.</summary>
    public const string Architecture = "amd64";

    private readonly TemporaryDirectory _directory;
    private readonly HttpListener _listener;
    private readonly Task _serving;
    private readonly string _gnupgHome;
    private int _requests;
    private long _bytesServed;

    private LocalAptRepository(TemporaryDirectory directory, HttpListener listener, Uri uri, string gnupgHome)
    {
        _directory = directory;
        _listener = listener;
        Uri = uri;
        _gnupgHome = gnupgHome;
        _serving = ServeAsync();
    }

    /// <summary>The repository root URL, e.g. <c>http://127.0.0.1:41234/debian/</c>.</summary>
    public Uri Uri { get; }

    /// <summary>The repository root on disk (holds dists/ and pool/).</summary>
    public string Root => Path.Combine(_directory.Path, "debian");

    /// <summary>The binary public key file (gpg --export) that signs the repository.</summary>
    public string KeyFile => Path.Combine(_directory.Path, "repository-key.gpg");

    /// <summary>The HTTP requests served so far.</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>The bytes of the response bodies served so far.</summary>
    public long BytesServed => Interlocked.Read(ref _bytesServed);

    /// <summary>The pool directory the .debs are in.</summary>
    public string Pool => Path.Combine(Root, "pool", Component);

    /// <summary>
    /// Creates a repository holding <paramref name="packages"/> and their whole dependency closure (as this
    /// machine's apt resolves it for bookworm), signed by a fresh key. Marks the test inconclusive when a tool is missing.
    /// </summary>
    public static async Task<LocalAptRepository> CreateAsync(IReadOnlyList<string> packages, CancellationToken cancellationToken = default)
    {
        TestTools.Require("apt-get", "apt");
        TestTools.Require("dpkg-scanpackages", "dpkg-dev");
        TestTools.Require("apt-ftparchive", "apt-utils");
        TestTools.Require("gpg", "gnupg");
        TestTools.Require("xz", "xz-utils");
        var debs = await FetchAsync(packages, cancellationToken);

        var directory = new TemporaryDirectory("apt-repo-");
        var gnupgHome = Path.Combine(directory.Path, "gnupg");
        Directory.CreateDirectory(gnupgHome);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(gnupgHome, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        await GenerateKeyAsync(gnupgHome, Path.Combine(directory.Path, "repository-key.gpg"), cancellationToken);

        var pool = Path.Combine(directory.Path, "debian", "pool", Component);
        Directory.CreateDirectory(pool);
        foreach (var deb in Directory.EnumerateFiles(debs, "*.deb"))
        {
            File.Copy(deb, Path.Combine(pool, Path.GetFileName(deb)));
        }

        var port = FreePort();
        var listener = new HttpListener();
        var uri = new Uri($"http://127.0.0.1:{port}/debian/");
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var repository = new LocalAptRepository(directory, listener, uri, gnupgHome);
        await repository.IndexAsync(cancellationToken);
        return repository;
    }

    /// <summary>Creates another throwaway key and writes its public part to a new file; returns the file (a key that did not sign the repository).</summary>
    public async Task<string> CreateUnrelatedKeyFileAsync(CancellationToken cancellationToken = default)
    {
        var home = Path.Combine(_directory.Path, "gnupg-other-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(home);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var keyFile = home + ".gpg";
        await GenerateKeyAsync(home, keyFile, cancellationToken);
        return keyFile;
    }

    /// <summary>
    /// Adds a copy of <paramref name="packageName"/>'s .deb rebuilt with <paramref name="newVersion"/> (dpkg-deb -R / -b),
    /// then re-indexes and re-signs the repository.
    /// </summary>
    public async Task AddRebuiltVersionAsync(string packageName, string newVersion, CancellationToken cancellationToken = default)
    {
        var deb = Directory.EnumerateFiles(Pool, packageName + "_*.deb").Order(StringComparer.Ordinal).First();
        var work = Path.Combine(_directory.Path, "rebuild-" + packageName);
        await TestTools.RunCheckedAsync("dpkg-deb", ["-R", deb, work], cancellationToken: cancellationToken);
        var control = Path.Combine(work, "DEBIAN", "control");
        var lines = (await File.ReadAllLinesAsync(control, cancellationToken)).Select(l => l.StartsWith("Version:", StringComparison.Ordinal) ? "Version: " + newVersion : l);
        await File.WriteAllLinesAsync(control, lines, cancellationToken);
        var output = Path.Combine(Pool, $"{packageName}_{newVersion.Replace(":", "%3a", StringComparison.Ordinal)}_rebuilt.deb");
        await TestTools.RunCheckedAsync("dpkg-deb", ["--root-owner-group", "-Zxz", "-b", work, output], cancellationToken: cancellationToken);
        Directory.Delete(work, recursive: true);
        await IndexAsync(cancellationToken);
    }

    /// <summary>Overwrites one byte in the middle of <paramref name="packageName"/>'s .deb in the pool without re-indexing (the index's SHA-256 no longer matches).</summary>
    public void TamperWithPackage(string packageName)
    {
        var deb = Directory.EnumerateFiles(Pool, packageName + "_*.deb").Order(StringComparer.Ordinal).First();
        using var stream = new FileStream(deb, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = stream.Length / 2;
        var value = stream.ReadByte();
        stream.Position = stream.Length / 2;
        stream.WriteByte((byte)(value ^ 0xFF));
    }

    /// <summary>Removes InRelease and Release.gpg, leaving an unsigned Release.</summary>
    public void RemoveSignatures()
    {
        File.Delete(Path.Combine(Root, "dists", Suite, "InRelease"));
        File.Delete(Path.Combine(Root, "dists", Suite, "Release.gpg"));
    }

    /// <summary>Changes one line of the signed text of InRelease (keeping its signature).</summary>
    public void TamperWithInRelease()
    {
        var path = Path.Combine(Root, "dists", Suite, "InRelease");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("Components: main", "Components: main contrib", StringComparison.Ordinal));
    }

    /// <summary>Runs dpkg-scanpackages and apt-ftparchive over the pool and signs the Release with the repository key.</summary>
    public async Task IndexAsync(CancellationToken cancellationToken = default)
    {
        var dists = Path.Combine(Root, "dists", Suite);
        var binary = Path.Combine(dists, Component, $"binary-{Architecture}");
        Directory.CreateDirectory(binary);
        var scan = await TestTools.RunCheckedAsync("dpkg-scanpackages", ["--multiversion", "pool"], workingDirectory: Root, cancellationToken: cancellationToken);
        var packages = Path.Combine(binary, "Packages");
        await File.WriteAllTextAsync(packages, scan.StandardOutput, cancellationToken);
        File.Delete(packages + ".xz");
        await TestTools.RunCheckedAsync("xz", ["-k", "-9", packages], cancellationToken: cancellationToken);
        foreach (var name in new[] { "Release", "InRelease", "Release.gpg" })
        {
            File.Delete(Path.Combine(dists, name));
        }

        var release = await TestTools.RunCheckedAsync("apt-ftparchive",
        [
            "-o", $"APT::FTPArchive::Release::Suite={Suite}",
            "-o", $"APT::FTPArchive::Release::Codename={Suite}",
            "-o", $"APT::FTPArchive::Release::Architectures={Architecture}",
            "-o", $"APT::FTPArchive::Release::Components={Component}",
            "-o", "APT::FTPArchive::Release::Origin=Containers.Sdk tests",
            "release", ".",
        ], workingDirectory: dists, cancellationToken: cancellationToken);
        var releasePath = Path.Combine(dists, "Release");
        await File.WriteAllTextAsync(releasePath, release.StandardOutput, cancellationToken);
        await Gpg(_gnupgHome, ["--clearsign", "--digest-algo", "SHA512", "-o", Path.Combine(dists, "InRelease"), releasePath], cancellationToken);
        await Gpg(_gnupgHome, ["--armor", "--detach-sign", "--digest-algo", "SHA512", "-o", Path.Combine(dists, "Release.gpg"), releasePath], cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        _directory.Dispose();
    }

    private static async Task<string> FetchAsync(IReadOnlyList<string> packages, CancellationToken cancellationToken)
    {
        // The closure as this machine's apt sees it; the cache key includes the candidates' versions so a point release refetches.
        var depends = await TestTools.RunCheckedAsync("apt-cache",
            ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", .. packages],
            cancellationToken: cancellationToken);
        var names = depends.StandardOutput.Split('\n')
            .Where(l => l.Length > 0 && char.IsAsciiLetterOrDigit(l[0]))
            .Select(l => l.Trim())
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToArray();
        var policy = await TestTools.RunCheckedAsync("apt-cache", ["show", "--no-all-versions", .. names], cancellationToken: cancellationToken);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', policy.StandardOutput.Split('\n').Where(l => l.StartsWith("SHA256:", StringComparison.Ordinal)))))).ToLowerInvariant()[..16];
        var cacheRoot = Environment.GetEnvironmentVariable(CacheEnvironmentVariable) is { Length: > 0 } configured ? configured : DefaultCacheDirectory;
        var directory = Path.Combine(cacheRoot, key);
        if (File.Exists(Path.Combine(directory, ".complete")))
        {
            return directory;
        }

        var work = directory + ".tmp." + Environment.ProcessId;
        Directory.CreateDirectory(work);
        var download = await TestTools.RunAsync("apt-get", ["download", .. names], workingDirectory: work, cancellationToken: cancellationToken);
        if (download.ExitCode != 0)
        {
            Directory.Delete(work, recursive: true);
            Assert.Inconclusive($"requires apt-get download of {string.Join(' ', names)} from the machine's Debian bookworm sources: {download.StandardError.Trim()}");
        }

        await File.WriteAllTextAsync(Path.Combine(work, ".complete"), string.Join('\n', names), cancellationToken);
        try
        {
            Directory.Move(work, directory);
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, ".complete")))
        {
            Directory.Delete(work, recursive: true);
        }

        return directory;
    }

    private static async Task GenerateKeyAsync(string gnupgHome, string publicKeyFile, CancellationToken cancellationToken)
    {
        await Gpg(gnupgHome, ["--passphrase", string.Empty, "--quick-gen-key", "Containers.Sdk test repository <repository@tests.invalid>", "rsa3072", "sign", "never"], cancellationToken);
        await Gpg(gnupgHome, ["--output", publicKeyFile, "--export"], cancellationToken);
    }

    private static Task<ToolResult> Gpg(string gnupgHome, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        TestTools.RunCheckedAsync("gpg", ["--homedir", gnupgHome, "--batch", "--yes", "--pinentry-mode", "loopback", .. arguments], cancellationToken: cancellationToken);

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            _ = Task.Run(async () =>
            {
                using var response = context.Response;
                try
                {
                    var relative = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath).TrimStart('/');
                    var path = Path.GetFullPath(Path.Combine(_directory.Path, relative));
                    if (!path.StartsWith(_directory.Path + "/", StringComparison.Ordinal) || !relative.StartsWith("debian/", StringComparison.Ordinal) || !File.Exists(path))
                    {
                        response.StatusCode = 404;
                        return;
                    }

                    var bytes = await File.ReadAllBytesAsync(path);
                    response.ContentLength64 = bytes.Length;
                    await response.OutputStream.WriteAsync(bytes);
                    Interlocked.Add(ref _bytesServed, bytes.Length);
                }
                catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
                {
                }
            });
        }
    }
}
