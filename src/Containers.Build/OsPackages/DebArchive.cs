using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using SharpCompress.Compressors.Xz;
using ZstdSharp;

namespace Containers.Build.OsPackages;

/// <summary>What a .deb's data.tar holds at one path, as the layer needs it.</summary>
/// <param name="Path">The path relative to the root, without <c>./</c>: <c>usr/bin/curl</c>.</param>
/// <param name="Kind">'d' directory, 'f' regular file, 'l' symbolic link.</param>
/// <param name="Mode">The permission bits from the tar (setuid/setgid/sticky included).</param>
/// <param name="LinkTarget">For links, the target as stored.</param>
public sealed record DebDataEntry(string Path, char Kind, UnixFileMode Mode, string? LinkTarget);

/// <summary>The control part of a .deb: its control paragraph, md5sums and which maintainer scripts it has.</summary>
public sealed record DebControl(ControlParagraph Control, string? Md5Sums, IReadOnlyList<string> MaintainerScripts);

/// <summary>
/// Reads a Debian binary package: an <c>ar</c> archive (a fixed 60-byte header per member; read here, it is too
/// small a format for a library) holding debian-binary, control.tar.* and data.tar.*, compressed with gzip, xz or
/// zstd (System.IO.Compression, SharpCompress, ZstdSharp) and read with System.Formats.Tar.
/// </summary>
public static class DebArchive
{
    private static readonly string[] ScriptNames = ["preinst", "postinst", "prerm", "postrm", "config", "triggers"];

    /// <summary>Reads the control paragraph, md5sums and the names of the maintainer scripts.</summary>
    /// <exception cref="OsPackageException">Not a well-formed .deb.</exception>
    public static DebControl ReadControl(string debPath, string packageName)
    {
        ControlParagraph? control = null;
        string? md5sums = null;
        var scripts = new List<string>();
        ReadMember(debPath, packageName, "control.tar", tar =>
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.TrimStart('.', '/');
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                {
                    continue;
                }

                if (name == "control")
                {
                    var paragraphs = ControlParagraph.ParseAll(ReadText(entry.DataStream));
                    control = paragraphs.Count > 0 ? paragraphs[0] : null;
                }
                else if (name == "md5sums")
                {
                    md5sums = ReadText(entry.DataStream);
                }
                else if (ScriptNames.Contains(name, StringComparer.Ordinal) && name != "triggers")
                {
                    scripts.Add(name);
                }
            }
        });
        return new DebControl(
            control ?? throw Invalid(debPath, packageName, "control.tar has no control file"),
            md5sums,
            scripts.Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>
    /// Extracts data.tar into <paramref name="destination"/> and returns its entries in archive order. Hard links
    /// become copies of their target; device nodes and fifos are refused (no Debian library or font package has them).
    /// </summary>
    /// <exception cref="OsPackageException">Not a well-formed .deb, or an entry that would escape the root.</exception>
    public static IReadOnlyList<DebDataEntry> ExtractData(string debPath, string packageName, string destination)
    {
        var entries = new List<DebDataEntry>();
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        ReadMember(debPath, packageName, "data.tar", tar =>
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var path = Normalize(entry.Name, debPath, packageName);
                if (path.Length == 0)
                {
                    continue;
                }

                var hostPath = Path.GetFullPath(Path.Combine(root, path));
                if (!hostPath.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw Invalid(debPath, packageName, $"the entry '{entry.Name}' lies outside the root");
                }

                var mode = entry.Mode & (UnixFileMode)0b111_111_111_111;
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(hostPath);
                        entries.Add(new DebDataEntry(path, 'd', mode, null));
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        Directory.CreateDirectory(Path.GetDirectoryName(hostPath)!);
                        using (var output = File.Create(hostPath))
                        {
                            entry.DataStream?.CopyTo(output);
                        }

                        entries.Add(new DebDataEntry(path, 'f', mode, null));
                        break;
                    case TarEntryType.SymbolicLink:
                        entries.Add(new DebDataEntry(path, 'l', mode, entry.LinkName));
                        break;
                    case TarEntryType.HardLink:
                        var target = Normalize(entry.LinkName, debPath, packageName);
                        var targetHost = Path.GetFullPath(Path.Combine(root, target));
                        if (!targetHost.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(targetHost))
                        {
                            throw Invalid(debPath, packageName, $"the hard link '{entry.Name}' points at '{entry.LinkName}', which is not an earlier file of the package");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(hostPath)!);
                        File.Copy(targetHost, hostPath, overwrite: true);
                        var targetMode = entries.LastOrDefault(e => e.Path == target)?.Mode ?? mode;
                        entries.Add(new DebDataEntry(path, 'f', targetMode, null));
                        break;
                    default:
                        throw Invalid(debPath, packageName, $"the entry '{entry.Name}' is a {entry.EntryType}, which an image layer of OS packages does not take");
                }
            }
        });
        return entries;
    }

    private static string Normalize(string name, string debPath, string packageName)
    {
        var trimmed = name.Replace('\\', '/');
        while (trimmed.StartsWith("./", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }

        trimmed = trimmed.Trim('/');
        if (trimmed is "." or "")
        {
            return string.Empty;
        }

        if (trimmed.Split('/').Any(segment => segment is ".." or "." or ""))
        {
            throw Invalid(debPath, packageName, $"the entry '{name}' is not a plain relative path");
        }

        return trimmed;
    }

    private static void ReadMember(string debPath, string packageName, string prefix, Action<TarReader> read)
    {
        try
        {
            using var file = File.OpenRead(debPath);
            Span<byte> magic = stackalloc byte[8];
            if (file.ReadAtLeast(magic, 8, throwOnEndOfStream: false) != 8 || !magic.SequenceEqual("!<arch>\n"u8))
            {
                throw Invalid(debPath, packageName, "it is not an ar archive");
            }

            var header = new byte[60];
            while (file.ReadAtLeast(header, 60, throwOnEndOfStream: false) == 60)
            {
                if (header[58] != '`' || header[59] != '\n')
                {
                    throw Invalid(debPath, packageName, "an ar member header is corrupt");
                }

                var name = Encoding.ASCII.GetString(header, 0, 16).TrimEnd(' ').TrimEnd('/');
                var size = long.Parse(Encoding.ASCII.GetString(header, 48, 10).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
                var start = file.Position;
                if (name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    using var member = new BoundedStream(file, size);
                    using var decompressed = Decompress(member, name, debPath, packageName);
                    using var tar = new TarReader(decompressed, leaveOpen: true);
                    read(tar);
                    return;
                }

                file.Position = start + size + (size % 2);
            }

            throw Invalid(debPath, packageName, $"it has no {prefix}.* member");
        }
        catch (Exception ex) when (ex is not OsPackageException and not OperationCanceledException and not OutOfMemoryException)
        {
            throw Invalid(debPath, packageName, $"its {prefix} cannot be read ({ex.Message})");
        }
    }

    private static Stream Decompress(Stream member, string name, string debPath, string packageName) => Path.GetExtension(name) switch
    {
        ".gz" => new GZipStream(member, CompressionMode.Decompress, leaveOpen: true),
        ".xz" => new XZStream(member),
        ".zst" => new DecompressionStream(member, leaveOpen: true),
        ".tar" => member,
        var other => throw Invalid(debPath, packageName, $"its member '{name}' uses the compression '{other}', which is not supported (gzip, xz, zstd or none)"),
    };

    private static string ReadText(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        return reader.ReadToEnd();
    }

    private static OsPackageException Invalid(string debPath, string packageName, string reason) =>
        new(OsPackageErrorCodes.InvalidPackageFile, $"The package file of '{packageName}' ({Path.GetFileName(debPath)}) is not a valid .deb: {reason}.");

    /// <summary>A read-only window of <c>length</c> bytes from the current position of an inner stream, which it leaves open.</summary>
    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private readonly long _length = length;
        private long _remaining = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_remaining <= 0)
            {
                return 0;
            }

            var read = inner.Read(buffer, offset, (int)Math.Min(count, _remaining));
            if (read == 0)
            {
                throw new EndOfStreamException("the ar member is truncated");
            }

            _remaining -= read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
