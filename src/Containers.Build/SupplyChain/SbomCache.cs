using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Containers.Build.SupplyChain;

/// <summary>
/// Keeps the last SBOM made per image name and runtime identifier, keyed by a hash of everything it is made
/// from, so an unchanged publish does not read every nuspec again. NuGet packages are immutable per id and
/// version (and deps.json records each one's SHA-512), so the deps.json bytes stand for the package metadata.
/// </summary>
public static class SbomCache
{
    /// <summary>
    /// Returns the SBOM for <paramref name="request"/>: the cached bytes when <paramref name="directory"/> holds
    /// one made from the same inputs, else a new one (stored there for next time when a directory is given).
    /// </summary>
    public static (byte[] Content, bool Reused) GetOrGenerate(SbomRequest request, SbomFormat format, string? directory)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (directory is null)
        {
            return (SbomWriter.Generate(request, format), false);
        }

        var key = Key(request, format);
        var prefix = "." + Slug(request.ImageName) + "." + request.RuntimeIdentifier + ".";
        var path = Path.Combine(directory, prefix + key + SbomFormats.FileExtension(format));
        try
        {
            if (File.Exists(path))
            {
                return (File.ReadAllBytes(path), true);
            }
        }
        catch (IOException)
        {
            // An unreadable cache entry is rebuilt below.
        }

        var content = SbomWriter.Generate(request, format);
        try
        {
            Directory.CreateDirectory(directory);
            foreach (var stale in Directory.EnumerateFiles(directory, prefix + "*"))
            {
                File.Delete(stale);
            }

            AtomicFile.Write(path, content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The cache only saves time; the SBOM itself is written (and its errors reported) by the publisher.
        }

        return (content, false);
    }

    private static string Key(SbomRequest request, SbomFormat format)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? text)
        {
            var bytes = Encoding.UTF8.GetBytes(text ?? "\0");
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }

        void AddFile(string? path)
        {
            if (path is not null && File.Exists(path))
            {
                var bytes = File.ReadAllBytes(path);
                hash.AppendData(BitConverter.GetBytes(bytes.Length));
                hash.AppendData(bytes);
            }
            else
            {
                Add(null);
            }
        }

        Add(format.ToString());
        Add(request.ToolVersion);
        Add(typeof(SbomCache).Assembly.ManifestModule.ModuleVersionId.ToString());
        Add(request.ApplicationName);
        Add(request.ImageName);
        Add(request.ImageDigest?.ToString());
        Add(request.RuntimeIdentifier);
        Add(request.BaseImageName);
        Add(request.BaseImageDigest?.ToString());
        Add(string.Join("\n", request.BaseImageEnvironment));
        Add(request.Created.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        Add(string.Join("\n", request.OsPackages.Select(p => p.PackageUrl + " " + p.Sha256)));
        AddFile(request.DepsFilePath);
        AddFile(request.RuntimeConfigFilePath);
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant()[..32];
    }

    private static string Slug(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_');
        }

        return builder.ToString();
    }
}
