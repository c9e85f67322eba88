using System.Text.RegularExpressions;
using Containers.Build.OsPackages;
using Containers.Oci.Images;
using Containers.Oci.Layers;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;
using Containers.TestSupport;

namespace Containers.Build.Tests.OsPackages;

/// <summary>
/// The apt client, resolver, .deb store and os-packages layer against a real signed repository (real bookworm
/// .debs, dpkg-scanpackages, apt-ftparchive, gpg) served on 127.0.0.1, over the real test base image.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed partial class OsPackageTests
{
    private static readonly string[] Wanted = ["curl", "fonts-dejavu-core"];
    private static LocalAptRepository? s_repository;
    private static IImage? s_base;

    public TestContext TestContext { get; set; } = null!;

    private static LocalAptRepository Repository => s_repository!;

    [ClassInitialize]
    public static async Task ClassInitialize(TestContext context)
    {
        var layout = TestBaseImages.LayoutDirectory;
        s_base = await OciLayout.Open(layout).ReadImageAsync("runtime-deps-10.0", Platform.LinuxAmd64, context.CancellationToken);
        s_repository = await LocalAptRepository.CreateAsync(Wanted, context.CancellationToken);
    }

    [ClassCleanup]
    public static async Task ClassCleanup()
    {
        if (s_repository is not null)
        {
            await s_repository.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task BaseImageFacts_ReadsDistributionPackagesKeyringsAndMergedUsrLinks()
    {
        var facts = await BaseImageFacts.ReadAsync(s_base!, TestContext.CancellationToken);
        Assert.AreEqual("debian", facts.DistributionId);
        Assert.AreEqual("bookworm", facts.Codename);
        Assert.IsTrue(facts.Installed.Any(p => p.Name == "libc6" && p.IsInstalled), "libc6 installed");
        Assert.IsFalse(facts.Installed.Any(p => p.Name == "curl"), "the test base has no curl");
        Assert.IsTrue(facts.KeyFiles.Any(k => k.Name.Contains("debian-archive", StringComparison.Ordinal)), string.Join(", ", facts.KeyFiles.Select(k => k.Name)));
        Assert.AreEqual("usr/lib/x86_64-linux-gnu/libfoo.so", facts.MapPath("lib/x86_64-linux-gnu/libfoo.so"));
        Assert.AreEqual("usr/bin/true", facts.MapPath("bin/true"));
        Assert.IsTrue(facts.AptSources.Count > 0 && facts.AptSources[0].Suite == "bookworm", string.Join("; ", facts.AptSources));
    }

    [TestMethod]
    public async Task Index_InReleaseVerifiedWithTheRepositoryKey_ListsThePackages()
    {
        using var http = new HttpClient();
        var index = await new AptRepositoryClient(http, null).GetIndexAsync(Source(), "amd64", RepositoryKeyring(), TestContext.CancellationToken);
        Assert.IsTrue(index.HasArchitecture);
        Assert.AreEqual("bookworm", index.Release["Suite"]);
        var curl = index.Packages.Single(p => p.Name == "curl");
        Assert.IsNotNull(curl.Sha256);
        Assert.IsTrue(curl.Filename!.StartsWith("pool/main/curl_", StringComparison.Ordinal), curl.Filename);
    }

    [TestMethod]
    public async Task Resolve_AddsTheClosureMinusTheBase()
    {
        var facts = await BaseImageFacts.ReadAsync(s_base!, TestContext.CancellationToken);
        using var http = new HttpClient();
        var index = await new AptRepositoryClient(http, null).GetIndexAsync(Source(), "amd64", RepositoryKeyring(), TestContext.CancellationToken);
        var resolved = new OsPackageResolver("amd64", facts.Installed, [index]).Resolve([new("curl"), new("fonts-dejavu-core")]);
        var names = resolved.Select(r => r.Package.Name).ToArray();
        CollectionAssert.Contains(names, "curl");
        CollectionAssert.Contains(names, "libcurl4");
        CollectionAssert.Contains(names, "fonts-dejavu-core");
        CollectionAssert.DoesNotContain(names, "libc6", "the base has libc6");
        CollectionAssert.DoesNotContain(names, "zlib1g", "the base has zlib1g");
        CollectionAssert.AreEqual(names.Order(StringComparer.Ordinal).ToArray(), names, "sorted");

        var resolver = new OsPackageResolver("amd64", facts.Installed, [index]);
        AssertCode(OsPackageErrorCodes.UnknownPackage, () => resolver.Resolve([new("no-such-package")]), "no-such-package");
        AssertCode(OsPackageErrorCodes.VersionNotFound, () => resolver.Resolve([new("curl", "0.1-1")]), "curl");
        AssertCode(OsPackageErrorCodes.Unsatisfiable, () => resolver.Resolve([new("libc6", "2.0-1")]), "libc6");
        AssertCode(OsPackageErrorCodes.ArchitectureNotAvailable,
            () => new OsPackageResolver("arm64", facts.Installed, [index with { Architecture = "arm64", HasArchitecture = false, Packages = [] }]).Resolve([new("curl")]), "arm64");
    }

    [TestMethod]
    public async Task Index_SignedByAnotherKey_IsRefused()
    {
        var otherKey = await Repository.CreateUnrelatedKeyFileAsync(TestContext.CancellationToken);
        var keyring = OpenPgpKeyring.Load([(otherKey, File.ReadAllBytes(otherKey))], "the other key");
        using var http = new HttpClient();
        var error = await Assert.ThrowsExactlyAsync<OsPackageException>(() => new AptRepositoryClient(http, null).GetIndexAsync(Source(), "amd64", keyring, TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.SignatureInvalid, error.Code);
        StringAssert.Contains(error.Message, Repository.Uri.ToString().TrimEnd('/'));
    }

    [TestMethod]
    public async Task Index_VerifiedWithTheBaseImagesOwnKeyring_RefusesARepositoryItDoesNotTrust()
    {
        // The default keyring is the base's (Debian's archive keys), which did not sign the test repository.
        var facts = await BaseImageFacts.ReadAsync(s_base!, TestContext.CancellationToken);
        var keyring = OpenPgpKeyring.Load(facts.KeyFiles, "the base image's keyrings");
        Assert.IsTrue(keyring.KeyRingCount > 0);
        using var http = new HttpClient();
        var error = await Assert.ThrowsExactlyAsync<OsPackageException>(() => new AptRepositoryClient(http, null).GetIndexAsync(Source(), "amd64", keyring, TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.SignatureInvalid, error.Code);
        StringAssert.Contains(error.Message, "none of which is in the base image's keyrings");
    }

    [TestMethod]
    public async Task Index_TamperedUnsignedOrDetachedSignature()
    {
        await using var repository = await LocalAptRepository.CreateAsync(Wanted, TestContext.CancellationToken);
        var source = new AptSource(repository.Uri, LocalAptRepository.Suite, [LocalAptRepository.Component]);
        var keyring = OpenPgpKeyring.Load([(repository.KeyFile, File.ReadAllBytes(repository.KeyFile))], "the repository key");
        using var http = new HttpClient();
        var client = new AptRepositoryClient(http, null);

        // Release + Release.gpg (no InRelease) is accepted when the detached signature verifies.
        File.Delete(Path.Combine(repository.Root, "dists", LocalAptRepository.Suite, "InRelease"));
        var index = await client.GetIndexAsync(source, "amd64", keyring, TestContext.CancellationToken);
        Assert.IsTrue(index.Packages.Any(p => p.Name == "curl"));

        await repository.IndexAsync(TestContext.CancellationToken);
        repository.TamperWithInRelease();
        var tampered = await Assert.ThrowsExactlyAsync<OsPackageException>(() => client.GetIndexAsync(source, "amd64", keyring, TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.SignatureInvalid, tampered.Code);
        StringAssert.Contains(tampered.Message, "does not match its content");

        repository.RemoveSignatures();
        var unsigned = await Assert.ThrowsExactlyAsync<OsPackageException>(() => client.GetIndexAsync(source, "amd64", keyring, TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.SignatureInvalid, unsigned.Code);
        StringAssert.Contains(unsigned.Message, "unsigned");
    }

    [TestMethod]
    public async Task Index_UnreachableRepository_IsACodedError()
    {
        using var http = new HttpClient();
        var source = new AptSource(new Uri("http://127.0.0.1:1/debian/"), "bookworm", ["main"]);
        var error = await Assert.ThrowsExactlyAsync<OsPackageException>(() => new AptRepositoryClient(http, null).GetIndexAsync(source, "amd64", RepositoryKeyring(), TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.RepositoryUnreachable, error.Code);
        StringAssert.Contains(error.Message, "http://127.0.0.1:1/debian bookworm main");
    }

    [TestMethod]
    public async Task Layer_SameDigestFromTwoCleanCaches_WithFilesStatusEntriesAndDpkgQuery()
    {
        using var work = new TemporaryDirectory("os-packages-");
        var digests = new List<string>();
        OsPackageLayer? layer = null;
        foreach (var run in new[] { "a", "b" })
        {
            var root = Path.Combine(work, run);
            using var http = new HttpClient();
            using var installer = new OsPackageInstaller(http, Path.Combine(root, "cache"), _ => { });
            layer = await installer.PlanAsync(Options(root), s_base!, "amd64", TestContext.CancellationToken);
            Assert.IsTrue(layer.Resolved && layer.LockWritten);
            var written = await LayerWriter.WriteToDirectoryAsync(layer.Plan, Path.Combine(root, "blobs"), new LayerWriteOptions { Timestamp = DateTimeOffset.FromUnixTimeSeconds(1747699200) }, TestContext.CancellationToken);
            digests.Add(written.Descriptor.Digest.ToString());
            Assert.AreEqual(File.ReadAllText(Path.Combine(work, "a", OsPackageLockFile.FileName)), File.ReadAllText(Path.Combine(root, OsPackageLockFile.FileName)), "same lock");
        }

        Assert.AreEqual(digests[0], digests[1], "the same lock gives the same layer");
        var paths = layer!.Plan.Entries.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        Assert.IsTrue(paths.Contains("usr/bin/curl"));
        Assert.IsTrue(paths.Contains("usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"));
        Assert.IsTrue(paths.Contains("var/lib/dpkg/status.d/curl"));
        Assert.IsFalse(paths.Any(p => p is "bin" or "lib" or "sbin" || p.StartsWith("lib/", StringComparison.Ordinal) || p.StartsWith("bin/", StringComparison.Ordinal)),
            "files go through the base's merged-/usr links instead of replacing them");
        Assert.IsTrue(layer.Plan.Entries.Single(e => e.Path == "usr/bin/curl").Mode.HasFlag(UnixFileMode.UserExecute));
        Assert.AreEqual("pkg:deb/debian/curl@" + layer.Packages.Single(p => p.Locked.Name == "curl").Locked.Version + "?arch=amd64",
            layer.Packages.Single(p => p.Locked.Name == "curl").PackageUrl);

        // Independent read: tar unpacks the layer, dpkg-query reads the status.d entries as a dpkg database.
        var tar = TestTools.Require("tar", "tar");
        var dpkgQuery = TestTools.Require("dpkg-query", "dpkg");
        var rootfs = Path.Combine(work, "rootfs");
        Directory.CreateDirectory(rootfs);
        var blob = Directory.EnumerateFiles(Path.Combine(work, "a", "blobs"), "*", SearchOption.AllDirectories).Single(f => f.EndsWith(digests[0].Split(':')[1], StringComparison.Ordinal));
        await TestTools.RunCheckedAsync(tar, ["-xzf", blob, "-C", rootfs], cancellationToken: TestContext.CancellationToken);
        var admin = Path.Combine(work, "admindir");
        Directory.CreateDirectory(Path.Combine(admin, "info"));
        Directory.CreateDirectory(Path.Combine(admin, "updates"));
        var statusEntries = Directory.EnumerateFiles(Path.Combine(rootfs, "var/lib/dpkg/status.d")).Where(f => !f.EndsWith(".md5sums", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(admin, "status"), string.Join("\n", statusEntries.Select(File.ReadAllText)), TestContext.CancellationToken);
        var listed = await TestTools.RunCheckedAsync(dpkgQuery, ["--admindir", admin, "-W", "-f", "${Package} ${Version} ${Architecture} ${db:Status-Status}\\n"], cancellationToken: TestContext.CancellationToken);
        var lines = listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(layer.Packages.Count, lines.Length, listed.StandardOutput);
        foreach (var package in layer.Packages)
        {
            CollectionAssert.Contains(lines, $"{package.Locked.Name} {package.Locked.Version} {package.Locked.Architecture} installed");
        }

        // The packages with maintainer scripts (named in the CONTAINER8130 warning) are those dpkg-deb -I shows scripts in.
        var dpkgDeb = TestTools.Require("dpkg-deb", "dpkg");
        var withScripts = new List<string>();
        foreach (var package in layer.Packages)
        {
            var deb = Path.Combine(work, "b", "cache", "debs", package.Locked.Sha256 + ".deb");
            Assert.IsTrue(File.Exists(deb), deb);
            var info = await TestTools.RunCheckedAsync(dpkgDeb, ["-I", deb], cancellationToken: TestContext.CancellationToken);
            if (MaintainerScriptLine().IsMatch(info.StandardOutput))
            {
                withScripts.Add(package.Locked.Name);
            }
        }

        CollectionAssert.AreEqual(withScripts, layer.PackagesWithScripts.ToList());
    }

    [TestMethod]
    public async Task LockFile_IsUsedAsIs_WhenTheRepositoryGainsANewerVersion_UntilResolvedAgain()
    {
        await using var repository = await LocalAptRepository.CreateAsync(Wanted, TestContext.CancellationToken);
        using var work = new TemporaryDirectory("os-packages-lock-");
        var options = Options(work, repository);
        using var http = new HttpClient();
        using var installer = new OsPackageInstaller(http, Path.Combine(work, "cache"), _ => { });
        var first = await installer.PlanAsync(options, s_base!, "amd64", TestContext.CancellationToken);
        var lockText = File.ReadAllText(options.LockFilePath);
        var oldVersion = first.Packages.Single(p => p.Locked.Name == "fonts-dejavu-core").Locked.Version;

        await repository.AddRebuiltVersionAsync("fonts-dejavu-core", oldVersion + "+rebuilt1", TestContext.CancellationToken);
        var requestsBefore = repository.RequestCount;

        // The default: the lock covers the request, so it is used as is (no index read, the old version kept).
        var kept = await installer.PlanAsync(options, s_base!, "amd64", TestContext.CancellationToken);
        Assert.IsFalse(kept.Resolved);
        Assert.IsFalse(kept.LockWritten);
        Assert.AreEqual(oldVersion, kept.Packages.Single(p => p.Locked.Name == "fonts-dejavu-core").Locked.Version);
        Assert.AreEqual(first.Plan, kept.Plan);

        // Locked mode (CI): the same.
        var locked = await installer.PlanAsync(options with { LockedMode = true }, s_base!, "amd64", TestContext.CancellationToken);
        Assert.IsFalse(locked.Resolved);
        Assert.IsFalse(locked.LockWritten);
        Assert.AreEqual(requestsBefore, repository.RequestCount, "locked and cached: no request to the repository");
        Assert.AreEqual(lockText, File.ReadAllText(options.LockFilePath));
        Assert.AreEqual(oldVersion, locked.Packages.Single(p => p.Locked.Name == "fonts-dejavu-core").Locked.Version);
        Assert.AreEqual(first.Plan, locked.Plan);

        // Locked mode refuses a lock that would change (here: another package asked for).
        var changed = options with { Requests = [.. options.Requests, new OsPackageRequest("libgdbm6")], LockedMode = true };
        var error = await Assert.ThrowsExactlyAsync<OsPackageException>(() => installer.PlanAsync(changed, s_base!, "amd64", TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.LockFileOutOfDate, error.Code);
        Assert.AreEqual(lockText, File.ReadAllText(options.LockFilePath), "locked mode writes nothing");

        // Re-resolving on demand takes the newer version.
        var again = await installer.PlanAsync(options with { ForceResolve = true }, s_base!, "amd64", TestContext.CancellationToken);
        Assert.IsTrue(again.LockWritten);
        Assert.AreEqual(oldVersion + "+rebuilt1", again.Packages.Single(p => p.Locked.Name == "fonts-dejavu-core").Locked.Version);
    }

    [TestMethod]
    public async Task TamperedDeb_IsRefusedAndNothingIsLaidOut()
    {
        await using var repository = await LocalAptRepository.CreateAsync(Wanted, TestContext.CancellationToken);
        repository.TamperWithPackage("curl");
        using var work = new TemporaryDirectory("os-packages-tamper-");
        using var http = new HttpClient();
        using var installer = new OsPackageInstaller(http, Path.Combine(work, "cache"), _ => { });
        var error = await Assert.ThrowsExactlyAsync<OsPackageException>(() => installer.PlanAsync(Options(work, repository), s_base!, "amd64", TestContext.CancellationToken));
        Assert.AreEqual(OsPackageErrorCodes.HashMismatch, error.Code);
        StringAssert.Contains(error.Message, "'curl'");
        StringAssert.Contains(error.Message, repository.Uri.ToString().TrimEnd('/'));
        Assert.IsFalse(Directory.EnumerateFiles(Path.Combine(work, "cache", "debs")).Any(f => f.Contains("curl", StringComparison.Ordinal) || f.EndsWith(".part", StringComparison.Ordinal)), "no partial download is kept");
    }

    private static OsPackageOptions Options(string root, LocalAptRepository? repository = null) => new(
        [new OsPackageRequest("curl"), new OsPackageRequest("fonts-dejavu-core")],
        [new AptSource((repository ?? Repository).Uri, LocalAptRepository.Suite, [LocalAptRepository.Component], (repository ?? Repository).KeyFile)],
        Path.Combine(root, OsPackageLockFile.FileName),
        Path.Combine(root, "cache"));

    private static AptSource Source() => new(Repository.Uri, LocalAptRepository.Suite, [LocalAptRepository.Component]);

    private static OpenPgpKeyring RepositoryKeyring() =>
        OpenPgpKeyring.Load([(Repository.KeyFile, File.ReadAllBytes(Repository.KeyFile))], "the repository key");

    [GeneratedRegex(@"^\s*\d+ bytes,\s+\d+ lines\s+\*?\s*(preinst|postinst|prerm|postrm|config)\s", RegexOptions.Multiline)]
    private static partial Regex MaintainerScriptLine();

    private static void AssertCode(string code, Action action, string mentioned)
    {
        var error = Assert.ThrowsExactly<OsPackageException>(action);
        Assert.AreEqual(code, error.Code, error.Message);
        StringAssert.Contains(error.Message, mentioned);
    }
}
