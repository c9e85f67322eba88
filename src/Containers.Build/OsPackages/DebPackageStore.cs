using System.Security.Cryptography;
using System.Text;

namespace Containers.Build.OsPackages;

/// <summary>A .deb in the store: verified, its control part read and its data unpacked.</summary>
/// <param name="Sha256">The .deb's SHA-256 (hex).</param>
/// <param name="Control">Its control part.</param>
/// <param name="Root">The host directory its data.tar is unpacked into.</param>
/// <param name="Entries">The data.tar's entries in archive order.</param>
public sealed record StoredDeb(string Sha256, DebControl Control, string Root, IReadOnlyList<DebDataEntry> Entries);

/// <summary>
/// The on-disk cache of .deb files keyed by SHA-256: each is downloaded once, verified against the hash its
/// signed index (or the lock file) gives, and unpacked once; later builds read only a small manifest.
/// Layout: <c>debs/&lt;sha256&gt;.deb</c>, <c>unpacked/&lt;sha256&gt;/root/</c> and its <c>entries</c> manifest,
/// written last so a half-unpacked package is never taken for a whole one.
/// </summary>
public sealed class DebPackageStore(string directory, AptRepositoryClient client)
{
    /// <summary>The store's root directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>Returns the package with <paramref name="sha256"/>, downloading <paramref name="filename"/> from <paramref name="source"/> when it is not stored yet.</summary>
    /// <exception cref="OsPackageException">Unreachable, a hash mismatch, or not a .deb.</exception>
    public async Task<StoredDeb> GetAsync(string packageName, AptSource source, string filename, string sha256, long size, CancellationToken cancellationToken)
    {
        sha256 = sha256.ToLowerInvariant();
        var unpacked = Path.Combine(Directory, "unpacked", sha256);
        var manifest = Path.Combine(unpacked, "entries");
        var controlFile = Path.Combine(unpacked, "control");
        if (File.Exists(manifest) && File.Exists(controlFile))
        {
            return new StoredDeb(sha256, ReadControlFile(controlFile), Path.Combine(unpacked, "root"), ReadManifest(manifest));
        }

        var deb = Path.Combine(Directory, "debs", sha256 + ".deb");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(deb)!);
        if (!File.Exists(deb) || HashFile(deb) != sha256)
        {
            var partial = deb + "." + Guid.NewGuid().ToString("N") + ".part";
            try
            {
                var actual = await client.DownloadAsync(source, filename, partial, cancellationToken).ConfigureAwait(false);
                var actualSize = new FileInfo(partial).Length;
                if (actual != sha256 || (size >= 0 && actualSize != size))
                {
                    throw new OsPackageException(OsPackageErrorCodes.HashMismatch,
                        $"The package '{packageName}' ({filename}) from the source '{source.DisplayName}' has SHA-256 {actual} ({actualSize} bytes), not {sha256}{(size >= 0 ? $" ({size} bytes)" : string.Empty)} as its signed index or the lock file says; it was tampered with or replaced. Nothing was published.");
                }

                File.Move(partial, deb, overwrite: true);
            }
            finally
            {
                File.Delete(partial);
            }
        }

        var control = DebArchive.ReadControl(deb, packageName);
        var work = unpacked + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            var entries = DebArchive.ExtractData(deb, packageName, Path.Combine(work, "root"));
            File.WriteAllText(Path.Combine(work, "control"), FormatControl(control));
            File.WriteAllText(Path.Combine(work, "entries"), FormatManifest(entries));
            try
            {
                System.IO.Directory.Move(work, unpacked);
            }
            catch (IOException) when (File.Exists(manifest))
            {
                // Another build unpacked the same package at the same time; theirs is as good as ours.
            }
        }
        finally
        {
            if (System.IO.Directory.Exists(work))
            {
                System.IO.Directory.Delete(work, recursive: true);
            }
        }

        return new StoredDeb(sha256, ReadControlFile(controlFile), Path.Combine(unpacked, "root"), ReadManifest(manifest));
    }

    private static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    // The control paragraph, then a line per maintainer script, then md5sums; separated by a form feed, which none of them contains.
    private static string FormatControl(DebControl control) =>
        control.Control + "\f" + string.Join('\n', control.MaintainerScripts) + "\f" + (control.Md5Sums ?? string.Empty);

    private static DebControl ReadControlFile(string path)
    {
        var parts = File.ReadAllText(path).Split('\f');
        return new DebControl(
            ControlParagraph.ParseAll(parts[0])[0],
            parts[2].Length == 0 ? null : parts[2],
            parts[1].Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static string FormatManifest(IReadOnlyList<DebDataEntry> entries)
    {
        var text = new StringBuilder();
        foreach (var entry in entries)
        {
            text.Append(entry.Kind).Append('\t')
                .Append(Convert.ToString((int)entry.Mode, 8)).Append('\t')
                .Append(entry.Path).Append('\t')
                .Append(entry.LinkTarget ?? string.Empty).Append('\n');
        }

        return text.ToString();
    }

    private static List<DebDataEntry> ReadManifest(string path)
    {
        var entries = new List<DebDataEntry>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split('\t');
            entries.Add(new DebDataEntry(parts[2], parts[0][0], (UnixFileMode)Convert.ToInt32(parts[1], 8), parts[0][0] == 'l' ? parts[3] : null));
        }

        return entries;
    }
}
