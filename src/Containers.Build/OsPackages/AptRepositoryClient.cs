using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using SharpCompress.Compressors.Xz;

namespace Containers.Build.OsPackages;

/// <summary>The verified index of one apt source for one architecture: its Release fields and its binary packages.</summary>
/// <param name="Source">The source.</param>
/// <param name="Architecture">The Debian architecture.</param>
/// <param name="Release">The signed Release paragraph.</param>
/// <param name="Packages">The binary packages for <paramref name="Architecture"/> and <c>all</c>.</param>
/// <param name="HasArchitecture">False when the Release lists architectures and <paramref name="Architecture"/> is not one of them.</param>
public sealed record AptIndex(AptSource Source, string Architecture, ControlParagraph Release, IReadOnlyList<DebPackage> Packages, bool HasArchitecture);

/// <summary>
/// Reads apt repositories over HTTP: the suite's InRelease (or Release + Release.gpg), verified with the source's
/// keyring, then the Packages indexes it lists, checked against their SHA-256 and size before they are parsed.
/// Indexes are cached on disk by their SHA-256, so an unchanged repository costs one InRelease request.
/// </summary>
public sealed class AptRepositoryClient(HttpClient http, string? cacheDirectory)
{
    /// <summary>Fetches and verifies the index of <paramref name="source"/> for <paramref name="architecture"/>.</summary>
    /// <exception cref="OsPackageException">Unreachable, unsigned, badly signed, or an index that does not match its hash.</exception>
    public async Task<AptIndex> GetIndexAsync(AptSource source, string architecture, OpenPgpKeyring keyring, CancellationToken cancellationToken)
    {
        var release = await GetReleaseAsync(source, keyring, cancellationToken).ConfigureAwait(false);
        var architectures = (release["Architectures"] ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var hasArchitecture = architectures.Length == 0 || architectures.Contains(architecture, StringComparer.Ordinal);
        var files = ParseHashes(release, source);
        var packages = new List<DebPackage>();
        foreach (var component in source.Components)
        {
            foreach (var arch in new[] { architecture, "all" })
            {
                var directory = $"{component}/binary-{arch}/Packages";
                var chosen = new[] { ".xz", ".gz", string.Empty }
                    .Select(extension => directory + extension)
                    .FirstOrDefault(files.ContainsKey);
                if (chosen is null)
                {
                    continue;
                }

                var (sha256, size) = files[chosen];
                var bytes = await GetVerifiedAsync(source, $"dists/{source.Suite}/{chosen}", sha256, size, cancellationToken).ConfigureAwait(false);
                var text = Decompress(bytes, chosen);
                try
                {
                    packages.AddRange(ControlParagraph.ParseAll(text).Select(p => new DebPackage(p)));
                }
                catch (FormatException ex)
                {
                    throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration, $"The index {chosen} of the source '{source.DisplayName}' is malformed: {ex.Message}.");
                }
            }
        }

        return new AptIndex(source, architecture, release, packages, hasArchitecture);
    }

    /// <summary>Downloads <paramref name="relativePath"/> of <paramref name="source"/> to <paramref name="destination"/>, returning its SHA-256 (hex).</summary>
    /// <exception cref="OsPackageException">Unreachable or an HTTP error.</exception>
    public async Task<string> DownloadAsync(AptSource source, string relativePath, string destination, CancellationToken cancellationToken)
    {
        var url = source.Resolve(relativePath);
        using var response = await SendAsync(source, url, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw Unreachable(source, url, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        await using (output.ConfigureAwait(false))
        {
            var input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var inputScope = input.ConfigureAwait(false);
            var buffer = new byte[81920];
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }

        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    private async Task<ControlParagraph> GetReleaseAsync(AptSource source, OpenPgpKeyring keyring, CancellationToken cancellationToken)
    {
        var what = $"the source '{source.DisplayName}'";
        string signedText;
        var inRelease = await TryGetAsync(source, $"dists/{source.Suite}/InRelease", cancellationToken).ConfigureAwait(false);
        if (inRelease is not null)
        {
            signedText = keyring.VerifyCleartext(Encoding.UTF8.GetString(inRelease), $"InRelease of {what}");
        }
        else
        {
            var release = await TryGetAsync(source, $"dists/{source.Suite}/Release", cancellationToken).ConfigureAwait(false)
                ?? throw new OsPackageException(OsPackageErrorCodes.RepositoryUnreachable,
                    $"The source '{source.DisplayName}' has neither dists/{source.Suite}/InRelease nor dists/{source.Suite}/Release; check its URL and suite.");
            var signature = await TryGetAsync(source, $"dists/{source.Suite}/Release.gpg", cancellationToken).ConfigureAwait(false)
                ?? throw new OsPackageException(OsPackageErrorCodes.SignatureInvalid,
                    $"The signature of Release of {what} is not valid: the repository is unsigned (no InRelease, no Release.gpg). Sign it; unsigned repositories are refused.");
            keyring.VerifyDetached(release, signature, $"Release of {what}");
            signedText = Encoding.UTF8.GetString(release);
        }

        var paragraphs = ControlParagraph.ParseAll(signedText);
        if (paragraphs.Count == 0)
        {
            throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration, $"The Release file of {what} is empty.");
        }

        var suiteOrCodename = new[] { paragraphs[0]["Suite"], paragraphs[0]["Codename"] };
        if (suiteOrCodename.All(s => s is not null) && !suiteOrCodename.Contains(source.Suite, StringComparer.Ordinal))
        {
            throw new OsPackageException(OsPackageErrorCodes.SignatureInvalid,
                $"The signature of Release of {what} is not valid for this suite: it is signed for suite '{paragraphs[0]["Suite"]}' / codename '{paragraphs[0]["Codename"]}', not '{source.Suite}' (a replayed Release).");
        }

        return paragraphs[0];
    }

    private static Dictionary<string, (string Sha256, long Size)> ParseHashes(ControlParagraph release, AptSource source)
    {
        var files = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        var field = release["SHA256"]
            ?? throw new OsPackageException(OsPackageErrorCodes.SignatureInvalid, $"The Release of the source '{source.DisplayName}' lists no SHA256 hashes; its indexes cannot be verified.");
        foreach (var line in field.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                files[parts[2]] = (parts[0].ToLowerInvariant(), size);
            }
        }

        return files;
    }

    private async Task<byte[]> GetVerifiedAsync(AptSource source, string relativePath, string sha256, long size, CancellationToken cancellationToken)
    {
        var cached = cacheDirectory is null ? null : Path.Combine(cacheDirectory, "indexes", sha256);
        if (cached is not null && File.Exists(cached))
        {
            var bytesOnDisk = await File.ReadAllBytesAsync(cached, cancellationToken).ConfigureAwait(false);
            if (Sha256Hex(bytesOnDisk) == sha256)
            {
                return bytesOnDisk;
            }
        }

        var bytes = await TryGetAsync(source, relativePath, cancellationToken).ConfigureAwait(false)
            ?? throw Unreachable(source, source.Resolve(relativePath), "HTTP 404: the Release lists it but the repository does not serve it");
        var actual = Sha256Hex(bytes);
        if (actual != sha256 || bytes.LongLength != size)
        {
            throw new OsPackageException(OsPackageErrorCodes.HashMismatch,
                $"The index {relativePath} of the source '{source.DisplayName}' has SHA-256 {actual} ({bytes.LongLength} bytes) but its signed Release says {sha256} ({size} bytes); the repository is being updated or was tampered with. Try again later.");
        }

        if (cached is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
            AtomicFile.Write(cached, bytes);
        }

        return bytes;
    }

    private async Task<byte[]?> TryGetAsync(AptSource source, string relativePath, CancellationToken cancellationToken)
    {
        var url = source.Resolve(relativePath);
        using var response = await SendAsync(source, url, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw Unreachable(source, url, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendAsync(AptSource source, Uri url, CancellationToken cancellationToken)
    {
        try
        {
            return await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(source, url, ex.Message);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(source, url, $"timed out ({ex.Message})");
        }
    }

    private static OsPackageException Unreachable(AptSource source, Uri url, string reason) =>
        new(OsPackageErrorCodes.RepositoryUnreachable, $"The source '{source.DisplayName}' cannot be read: {url} failed: {reason}. Check the URL and the network (or a proxy).");

    private static string Decompress(byte[] bytes, string name)
    {
        using var input = new MemoryStream(bytes);
        using Stream stream = name.EndsWith(".xz", StringComparison.Ordinal) ? new XZStream(input)
            : name.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(input, CompressionMode.Decompress)
            : input;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    internal static string Sha256Hex(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
