using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Containers.Oci.Layers;

/// <summary>The kinds of tar entry <see cref="TarEntryWriter"/> writes.</summary>
internal enum TarEntryKind
{
    /// <summary>A regular file (type flag '0').</summary>
    File = '0',

    /// <summary>A symbolic link (type flag '2').</summary>
    Symlink = '2',

    /// <summary>A directory (type flag '5').</summary>
    Directory = '5',
}

/// <summary>
/// Writes tar entries whose bytes depend only on what is written, never on the .NET runtime that writes them.
/// </summary>
/// <remarks>
/// System.Formats.Tar's output changed between runtimes: .NET 8 leaves zero numbers empty, formats the checksum
/// differently, stamps GNU entries with the current access and change time and truncates a large uid, so a layer
/// written by the tasks in SDK 8's MSBuild had another diff id than the same layer written in SDK 10's (and a GNU
/// entry another one on every run). This writer produces exactly what .NET 10's <c>TarWriter</c> writes for the
/// same entries (so the layers of earlier releases keep their digests): a USTAR header ("ustar\0", "00") when the
/// entry fits one, else a GNU header ("ustar ", " \0") preceded by <c>././@LongLink</c> records ('K' for a link
/// target, then 'L' for a name, over 100 bytes). Numbers are zero-padded octal ending in a NUL; a uid, gid or
/// size too large for octal is written in GNU base-256. User and group names, device numbers and the USTAR
/// prefix stay empty.
/// </remarks>
internal sealed class TarEntryWriter
{
    private const int BlockSize = 512;
    private const int NameBytes = 100;
    private const long MaxOctal7 = (1L << 21) - 1;
    private const long MaxOctal11 = (1L << 33) - 1;
    private const string LongLinkName = "././@LongLink";

    private readonly Stream _output;
    private readonly bool _gnuEntriesCarryAccessAndChangeTimes;
    private readonly byte[] _header = new byte[BlockSize];
    private bool _wroteEntries;

    /// <summary>Creates a writer onto <paramref name="output"/>, which it never closes.</summary>
    /// <param name="output">Where the archive goes.</param>
    /// <param name="gnuEntriesCarryAccessAndChangeTimes">
    /// Whether a GNU header also carries the access and change time (both the modification time). The image
    /// archives have always written them; layers never have.
    /// </param>
    public TarEntryWriter(Stream output, bool gnuEntriesCarryAccessAndChangeTimes = false)
    {
        _output = output;
        _gnuEntriesCarryAccessAndChangeTimes = gnuEntriesCarryAccessAndChangeTimes;
    }

    /// <summary>
    /// Writes one entry. A file's <paramref name="size"/> bytes come from <paramref name="content"/>; fewer throws
    /// <see cref="EndOfStreamException"/> (the caller may compare the stream's length afterwards for more).
    /// </summary>
    public async Task WriteEntryAsync(
        TarEntryKind kind,
        string name,
        string? linkTarget,
        int mode,
        long uid,
        long gid,
        long modificationTime,
        Stream? content,
        long size,
        CancellationToken cancellationToken)
    {
        await WriteHeaderAsync(kind, name, linkTarget, mode, uid, gid, modificationTime, size, cancellationToken).ConfigureAwait(false);
        if (size > 0)
        {
            await CopyAsync(content ?? throw new ArgumentNullException(nameof(content)), size, cancellationToken).ConfigureAwait(false);
            await PadAsync(size, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes one file's header only; the caller then gives the output its <paramref name="size"/> bytes of content by
    /// another way and calls <see cref="PadAsync"/>.
    /// </summary>
    public Task WriteFileHeaderAsync(string name, int mode, long uid, long gid, long modificationTime, long size, CancellationToken cancellationToken) =>
        WriteHeaderAsync(TarEntryKind.File, name, null, mode, uid, gid, modificationTime, size, cancellationToken);

    // The entry's header, preceded by GNU long-link records when USTAR cannot hold the name or the link target.
    private async Task WriteHeaderAsync(TarEntryKind kind, string name, string? linkTarget, int mode, long uid, long gid, long modificationTime, long size, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uid);
        ArgumentOutOfRangeException.ThrowIfNegative(gid);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfNegative(modificationTime);
        _wroteEntries = true;
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var linkBytes = linkTarget is null ? [] : Encoding.UTF8.GetBytes(linkTarget);
        var ustar = nameBytes.Length <= NameBytes && linkBytes.Length <= NameBytes
            && uid <= MaxOctal7 && gid <= MaxOctal7 && size <= MaxOctal11 && modificationTime <= MaxOctal11;

        if (!ustar && linkBytes.Length > NameBytes)
        {
            await WriteLongLinkAsync('K', linkBytes, cancellationToken).ConfigureAwait(false);
        }

        if (!ustar && nameBytes.Length > NameBytes)
        {
            await WriteLongLinkAsync('L', nameBytes, cancellationToken).ConfigureAwait(false);
        }

        var header = _header.AsSpan();
        header.Clear();
        WriteText(header[..100], name);
        WriteOctal(header.Slice(100, 8), mode);
        WriteNumber(header.Slice(108, 8), uid);
        WriteNumber(header.Slice(116, 8), gid);
        WriteNumber(header.Slice(124, 12), size);
        WriteNumber(header.Slice(136, 12), modificationTime);
        header[156] = (byte)kind;
        if (linkTarget is not null)
        {
            WriteText(header.Slice(157, 100), linkTarget);
        }

        WriteMagic(header, ustar);
        if (!ustar && _gnuEntriesCarryAccessAndChangeTimes)
        {
            WriteNumber(header.Slice(345, 12), modificationTime);
            WriteNumber(header.Slice(357, 12), modificationTime);
        }

        WriteChecksum(header);
        await _output.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the archive with two zero blocks; an archive without entries stays empty (zero bytes), as with System.Formats.Tar.</summary>
    public async Task WriteEndAsync(CancellationToken cancellationToken)
    {
        if (!_wroteEntries)
        {
            return;
        }

        Array.Clear(_header);
        await _output.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
        await _output.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
    }

    // A GNU long name ('L') or long link target ('K'): the whole text and a NUL as the data of a pseudo entry.
    private async Task WriteLongLinkAsync(char type, byte[] text, CancellationToken cancellationToken)
    {
        var header = _header.AsSpan();
        header.Clear();
        WriteText(header[..100], LongLinkName);
        WriteOctal(header.Slice(100, 8), 0b110_100_100);
        WriteOctal(header.Slice(108, 8), 0);
        WriteOctal(header.Slice(116, 8), 0);
        WriteOctal(header.Slice(124, 12), text.Length + 1);
        WriteOctal(header.Slice(136, 12), 0);
        header[156] = (byte)type;
        WriteMagic(header, ustar: false);
        Encoding.ASCII.GetBytes("root", header.Slice(265, 32));
        Encoding.ASCII.GetBytes("root", header.Slice(297, 32));
        WriteChecksum(header);
        await _output.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
        var data = new byte[text.Length + 1];
        text.CopyTo(data, 0);
        await _output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await PadAsync(data.Length, cancellationToken).ConfigureAwait(false);
    }

    private async Task CopyAsync(Stream content, long size, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            for (var remaining = size; remaining > 0;)
            {
                var read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"The entry's content ended {remaining} bytes before its size of {size} bytes.");
                }

                await _output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Zeros up to the next 512-byte boundary after an entry's <paramref name="written"/> bytes of content.</summary>
    public async Task PadAsync(long written, CancellationToken cancellationToken)
    {
        var padding = (int)((BlockSize - (written % BlockSize)) % BlockSize);
        if (padding > 0)
        {
            Array.Clear(_header);
            await _output.WriteAsync(_header.AsMemory(0, padding), cancellationToken).ConfigureAwait(false);
        }
    }

    // UTF-8, cut to the field on a character boundary (GNU readers take the whole text from the long-link record).
    private static void WriteText(Span<byte> field, string text)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        encoder.Convert(text, field, flush: true, out _, out _, out _);
    }

    // Magic and version: POSIX "ustar" NUL "00", or GNU's "ustar" space, space NUL.
    private static void WriteMagic(Span<byte> header, bool ustar)
    {
        if (ustar)
        {
            "ustar\0"u8.CopyTo(header[257..]);
            "00"u8.CopyTo(header[263..]);
        }
        else
        {
            "ustar "u8.CopyTo(header[257..]);
            " \0"u8.CopyTo(header[263..]);
        }
    }

    // Octal when it fits (digits filling the field but its last byte, then NUL), else GNU base-256: 0x80, then the
    // number big-endian in the rest of the field.
    private static void WriteNumber(Span<byte> field, long value)
    {
        if (value < (1L << (3 * (field.Length - 1))))
        {
            WriteOctal(field, value);
            return;
        }

        Span<byte> bigEndian = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64BigEndian(bigEndian, value);
        var bytes = Math.Min(bigEndian.Length, field.Length - 1);
        field.Clear();
        bigEndian[^bytes..].CopyTo(field[^bytes..]);
        field[0] = 0x80;
    }

    private static void WriteOctal(Span<byte> field, long value)
    {
        var digits = field.Length - 1;
        for (var i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }

        field[digits] = 0;
    }

    // The sum of the header's bytes with the checksum field counted as spaces: six octal digits, NUL, space.
    private static void WriteChecksum(Span<byte> header)
    {
        header.Slice(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in header)
        {
            sum += b;
        }

        WriteOctal(header.Slice(148, 7), sum);
        header[155] = (byte)' ';
    }
}
