using System.Formats.Tar;
using System.Text;
using Containers.Oci.Images;
using Containers.Oci.Layers;

namespace Containers.Build.OsPackages;

/// <summary>
/// What OS package resolution needs to know of a base image, read from its layers as a stream (nothing is
/// unpacked): the distribution (/etc/os-release), the installed packages (/var/lib/dpkg/status and the
/// status.d directory of distroless images), the apt keyrings it ships, and its directory symlinks (the merged
/// /usr links such as <c>bin -> usr/bin</c>, which a package's files must go through, not replace).
/// </summary>
public sealed class BaseImageFacts
{
    private const string StatusPath = "var/lib/dpkg/status";
    private const string StatusDirectory = "var/lib/dpkg/status.d/";

    private BaseImageFacts(IReadOnlyDictionary<string, string> osRelease, IReadOnlyList<DebPackage> installed, IReadOnlyList<(string Name, byte[] Content)> keyFiles, IReadOnlyDictionary<string, string> symlinks, IReadOnlyList<AptSource> aptSources)
    {
        AptSources = aptSources;
        OsRelease = osRelease;
        Installed = installed;
        KeyFiles = keyFiles;
        Symlinks = symlinks;
    }

    /// <summary>The fields of /etc/os-release (ID, VERSION_CODENAME ...).</summary>
    public IReadOnlyDictionary<string, string> OsRelease { get; }

    /// <summary>The distribution's ID (<c>debian</c>, <c>ubuntu</c>), or null.</summary>
    public string? DistributionId => OsRelease.TryGetValue("ID", out var id) ? id : null;

    /// <summary>The release codename (<c>bookworm</c>, <c>noble</c>), or null.</summary>
    public string? Codename => OsRelease.TryGetValue("VERSION_CODENAME", out var codename) && codename.Length > 0 ? codename : null;

    /// <summary>The binary apt sources the base configures (/etc/apt/sources.list and sources.list.d), in file order.</summary>
    public IReadOnlyList<AptSource> AptSources { get; }

    /// <summary>The installed packages.</summary>
    public IReadOnlyList<DebPackage> Installed { get; }

    /// <summary>The apt key files: /usr/share/keyrings/*.{gpg,pgp,asc}, /etc/apt/trusted.gpg.d/*.{gpg,asc}, /etc/apt/trusted.gpg.</summary>
    public IReadOnlyList<(string Name, byte[] Content)> KeyFiles { get; }

    /// <summary>Symbolic links of the base (path relative to the root -> target as stored) that lead to directories in common use.</summary>
    public IReadOnlyDictionary<string, string> Symlinks { get; }

    /// <summary>True when this holds only what a locked build needs (no installed packages, no keys): see <see cref="ReadSummaryAsync"/>.</summary>
    public bool IsSummary { get; private init; }

    /// <summary>
    /// What a build from a lock file needs of the base (distribution, apt sources, directory symlinks), kept in
    /// <paramref name="cacheDirectory"/> by the base manifest's digest so that an unchanged base is not read again.
    /// </summary>
    public static async Task<BaseImageFacts> ReadSummaryAsync(IImage image, string cacheDirectory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(cacheDirectory, "bases", image.ManifestDescriptor.Digest.Hex + ".json");
        if (File.Exists(path))
        {
            try
            {
                var summary = System.Text.Json.JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), BuildCacheJsonContext.Default.BaseImageSummary);
                if (summary is not null)
                {
                    return new BaseImageFacts(
                        summary.OsRelease,
                        [],
                        [],
                        summary.Symlinks,
                        summary.AptSources.Select(s => new AptSource(new Uri(s[0]), s[1], s[2..])).ToArray())
                    { IsSummary = true };
                }
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException or UriFormatException or IndexOutOfRangeException)
            {
                // Rebuilt below.
            }
        }

        var facts = await ReadAsync(image, cancellationToken).ConfigureAwait(false);
        var record = new BaseImageSummary(
            new Dictionary<string, string>(facts.OsRelease, StringComparer.Ordinal),
            new Dictionary<string, string>(facts.Symlinks, StringComparer.Ordinal),
            facts.AptSources.Select(s => new[] { s.Uri.ToString(), s.Suite }.Concat(s.Components).ToArray()).ToArray());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record, BuildCacheJsonContext.Default.BaseImageSummary));
        return facts;
    }

    /// <summary>Reads the facts from <paramref name="image"/>'s layers, lower to upper, honouring whiteouts.</summary>
    public static async Task<BaseImageFacts> ReadAsync(IImage image, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layer in image.Layers)
        {
            await foreach (var entry in LayerReader.ReadEntriesAsync(layer, cancellationToken).ConfigureAwait(false))
            {
                var path = entry.Path.TrimStart('.', '/').TrimEnd('/');
                if (entry.IsOpaqueWhiteout || entry.IsWhiteout)
                {
                    var directory = path[..(path.LastIndexOf('/') + 1)];
                    var removed = entry.IsOpaqueWhiteout ? directory : directory + path[(path.LastIndexOf('/') + 1 + ".wh.".Length)..];
                    Remove(files, removed, entry.IsOpaqueWhiteout);
                    Remove(links, removed, entry.IsOpaqueWhiteout);
                    continue;
                }

                if (entry.Type == TarEntryType.SymbolicLink && IsInteresting(path, directoryLinksToo: true))
                {
                    files.Remove(path);
                    links[path] = entry.LinkTarget;
                }
                else if (entry.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile && IsInteresting(path, directoryLinksToo: false) && entry.Content is { } content)
                {
                    links.Remove(path);
                    using var buffer = new MemoryStream();
                    await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                    files[path] = buffer.ToArray();
                }
                else if (entry.Type == TarEntryType.Directory)
                {
                    links.Remove(path);
                }
            }
        }

        var osRelease = ParseOsRelease(FindFile(files, links, "etc/os-release") ?? FindFile(files, links, "usr/lib/os-release"));
        var installed = new List<DebPackage>();
        if (files.TryGetValue(StatusPath, out var status))
        {
            installed.AddRange(ParsePackages(status, "/" + StatusPath));
        }

        foreach (var (path, content) in files.Where(f => f.Key.StartsWith(StatusDirectory, StringComparison.Ordinal) && !f.Key.EndsWith(".md5sums", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            installed.AddRange(ParsePackages(content, "/" + path));
        }

        var keyFiles = files
            .Where(f => IsKeyFile(f.Key))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => ("/" + f.Key, f.Value))
            .ToArray();
        var directoryLinks = links.Where(l => !IsInteresting(l.Key, directoryLinksToo: false)).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        var aptSources = new List<AptSource>();
        if (files.TryGetValue("etc/apt/sources.list", out var sourcesList))
        {
            aptSources.AddRange(ParseOneLineSources(Encoding.UTF8.GetString(sourcesList)));
        }

        foreach (var (path, content) in files.Where(f => f.Key.StartsWith("etc/apt/sources.list.d/", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            aptSources.AddRange(path.EndsWith(".sources", StringComparison.Ordinal)
                ? ParseDeb822Sources(Encoding.UTF8.GetString(content))
                : ParseOneLineSources(Encoding.UTF8.GetString(content)));
        }

        return new BaseImageFacts(osRelease, installed, keyFiles, directoryLinks, aptSources.Distinct().ToArray());
    }

    /// <summary>
    /// Where a package path lands in this base: through the base's directory symlinks (<c>lib/x86_64-linux-gnu/libfoo.so</c>
    /// becomes <c>usr/lib/x86_64-linux-gnu/libfoo.so</c> when the base has <c>lib -> usr/lib</c>), as dpkg would write it.
    /// </summary>
    public string MapPath(string path)
    {
        var segments = path.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            var prefix = string.Join('/', segments[..i]);
            if (Symlinks.TryGetValue(prefix, out var target))
            {
                var resolved = target.StartsWith('/') ? target.TrimStart('/') : Combine(string.Join('/', segments[..(i - 1)]), target);
                return MapPath(resolved + "/" + string.Join('/', segments[i..]));
            }
        }

        return path;
    }

    /// <summary>True when <paramref name="path"/> is a symlink in the base (a package must not replace it with a directory).</summary>
    public bool IsSymlink(string path) => Symlinks.ContainsKey(path);

    private static string Combine(string directory, string relative)
    {
        var parts = new List<string>(directory.Length == 0 ? [] : directory.Split('/'));
        foreach (var segment in relative.Split('/'))
        {
            if (segment == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (segment is not ("." or ""))
            {
                parts.Add(segment);
            }
        }

        return string.Join('/', parts);
    }

    private static bool IsInteresting(string path, bool directoryLinksToo) =>
        path is "etc/os-release" or "usr/lib/os-release" or StatusPath or "etc/apt/trusted.gpg" or "etc/apt/sources.list"
        || (path.StartsWith("etc/apt/sources.list.d/", StringComparison.Ordinal) && (path.EndsWith(".list", StringComparison.Ordinal) || path.EndsWith(".sources", StringComparison.Ordinal)))
        || path.StartsWith(StatusDirectory, StringComparison.Ordinal)
        || IsKeyFile(path)
        || (directoryLinksToo && path.Count(c => c == '/') <= 2);

    private static bool IsKeyFile(string path) =>
        (path.StartsWith("usr/share/keyrings/", StringComparison.Ordinal) && (path.EndsWith(".gpg", StringComparison.Ordinal) || path.EndsWith(".pgp", StringComparison.Ordinal) || path.EndsWith(".asc", StringComparison.Ordinal)))
        || (path.StartsWith("etc/apt/trusted.gpg.d/", StringComparison.Ordinal) && (path.EndsWith(".gpg", StringComparison.Ordinal) || path.EndsWith(".asc", StringComparison.Ordinal)))
        || path == "etc/apt/trusted.gpg";

    private static byte[]? FindFile(Dictionary<string, byte[]> files, Dictionary<string, string> links, string path)
    {
        for (var hops = 0; hops < 8; hops++)
        {
            if (files.TryGetValue(path, out var content))
            {
                return content;
            }

            if (!links.TryGetValue(path, out var target))
            {
                return null;
            }

            var directory = path.Contains('/', StringComparison.Ordinal) ? path[..path.LastIndexOf('/')] : string.Empty;
            path = target.StartsWith('/') ? target.TrimStart('/') : Combine(directory, target);
        }

        return null;
    }

    private static void Remove<T>(Dictionary<string, T> map, string path, bool below)
    {
        foreach (var key in map.Keys.ToArray())
        {
            if ((!below && key == path) || key.StartsWith(path.TrimEnd('/') + "/", StringComparison.Ordinal))
            {
                map.Remove(key);
            }
        }
    }

    private static IEnumerable<DebPackage> ParsePackages(byte[] content, string path)
    {
        IReadOnlyList<ControlParagraph> paragraphs;
        try
        {
            paragraphs = ControlParagraph.ParseAll(Encoding.UTF8.GetString(content));
        }
        catch (FormatException ex)
        {
            throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration, $"The base image's {path} is not a dpkg status file: {ex.Message}.");
        }

        return paragraphs.Where(p => p["Package"] is not null && p["Version"] is not null && p["Architecture"] is not null).Select(p => new DebPackage(p));
    }

    private static IEnumerable<AptSource> ParseOneLineSources(string text)
    {
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Split('#')[0].Trim();
            if (!line.StartsWith("deb ", StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[4..].Trim();
            if (rest.StartsWith('['))
            {
                var close = rest.IndexOf(']', StringComparison.Ordinal);
                rest = close < 0 ? string.Empty : rest[(close + 1)..].Trim();
            }

            var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 3 && Uri.TryCreate(parts[0], UriKind.Absolute, out var uri))
            {
                yield return new AptSource(uri, parts[1], parts[2..]);
            }
        }
    }

    private static IEnumerable<AptSource> ParseDeb822Sources(string text)
    {
        IReadOnlyList<ControlParagraph> paragraphs;
        try
        {
            paragraphs = ControlParagraph.ParseAll(text);
        }
        catch (FormatException)
        {
            yield break;
        }

        foreach (var paragraph in paragraphs)
        {
            var types = (paragraph["Types"] ?? string.Empty).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (!types.Contains("deb", StringComparer.Ordinal) || string.Equals(paragraph["Enabled"], "no", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var components = (paragraph["Components"] ?? string.Empty).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            foreach (var uriText in (paragraph["URIs"] ?? string.Empty).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri))
                {
                    continue;
                }

                foreach (var suite in (paragraph["Suites"] ?? string.Empty).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
                {
                    yield return new AptSource(uri, suite, components);
                }
            }
        }
    }

    private static Dictionary<string, string> ParseOsRelease(byte[]? content)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (content is null)
        {
            return fields;
        }

        foreach (var line in Encoding.UTF8.GetString(content).Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            fields[line[..equals].Trim()] = line[(equals + 1)..].Trim().Trim('"', '\'');
        }

        return fields;
    }

}

/// <summary>What <see cref="BaseImageFacts.ReadSummaryAsync"/> keeps of a base image in the cache.</summary>
internal sealed record BaseImageSummary(Dictionary<string, string> OsRelease, Dictionary<string, string> Symlinks, string[][] AptSources);
