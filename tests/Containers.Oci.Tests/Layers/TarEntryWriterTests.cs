using System.Formats.Tar;
using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Layers;

namespace Containers.Oci.Tests.Layers;

/// <summary>
/// <see cref="TarEntryWriter"/> writes what .NET 10's System.Formats.Tar writes for the same entries (so layers keep
/// the digests earlier releases gave them), and does so on any runtime (it uses no runtime tar code).
/// </summary>
[TestClass]
public sealed class TarEntryWriterTests
{
    private const long Time = 1_700_000_000;

    private sealed record Entry(TarEntryKind Kind, string Name, int Mode, long Uid = 0, long Gid = 0, string? Link = null, string? Text = null, bool Gnu = false);

    // Every header shape the layer and archive writers produce: USTAR directories, files (empty, one block, several
    // blocks and a tail), symlinks, special mode bits, a non-root owner; GNU long names and link targets (both at
    // once: 'K' before 'L'), names cut inside a two-byte character, a uid beyond octal (base-256).
    private static readonly Entry[] Entries =
    [
        new(TarEntryKind.Directory, "app/", 0b111_101_101),
        new(TarEntryKind.File, "app/a.txt", 0b110_100_100, Text: "hello\n"),
        new(TarEntryKind.File, "app/empty", 0b110_100_100, Uid: 1654, Gid: 1654, Text: ""),
        new(TarEntryKind.File, "app/blocks", 0b111_101_101, Text: new string('x', 1500)),
        new(TarEntryKind.File, "app/block", 0b110_100_100, Text: new string('y', 512)),
        new(TarEntryKind.Symlink, "app/link", 0b111_111_111, Link: "a.txt"),
        new(TarEntryKind.File, "app/suid", 0b100_111_101_101, Text: "s"),
        new(TarEntryKind.File, "app/" + new string('c', 96), 0b110_100_100, Text: "exactly 100 bytes"),
        new(TarEntryKind.File, "app/" + new string('n', 120), 0b110_100_100, Text: "long\n", Gnu: true),
        new(TarEntryKind.Directory, "app/" + new string('d', 110) + "/", 0b111_101_101, Gnu: true),
        new(TarEntryKind.Symlink, "app/longlink", 0b111_111_111, Link: new string('l', 130), Gnu: true),
        new(TarEntryKind.Symlink, "app/" + new string('b', 120), 0b111_111_111, Link: new string('k', 600), Gnu: true),
        new(TarEntryKind.File, "app/x" + string.Concat(Enumerable.Repeat("é", 60)), 0b110_100_100, Text: "é", Gnu: true),
        new(TarEntryKind.File, "app/" + new string('m', 507), 0b110_100_100, Text: "a name of 511 bytes and its NUL fill one block", Gnu: true),
        new(TarEntryKind.File, "app/biguid", 0b110_100_100, Uid: 3_000_000, Gid: 3_000_001, Text: "u", Gnu: true),
    ];

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public async Task Writes_the_bytes_of_the_runtime_tar_writer_for_every_header_shape(bool gnuTimes)
    {
        var ours = new MemoryStream();
        var writer = new TarEntryWriter(ours, gnuTimes);
        foreach (var entry in Entries)
        {
            var content = entry.Text is null ? null : new MemoryStream(Encoding.UTF8.GetBytes(entry.Text));
            await writer.WriteEntryAsync(entry.Kind, entry.Name, entry.Link, entry.Mode, entry.Uid, entry.Gid, Time, content, content?.Length ?? 0, CancellationToken.None);
        }

        await writer.WriteEndAsync(CancellationToken.None);

        var runtime = new MemoryStream();
        using (var tar = new TarWriter(runtime, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var entry in Entries)
            {
                var type = entry.Kind switch { TarEntryKind.Directory => TarEntryType.Directory, TarEntryKind.Symlink => TarEntryType.SymbolicLink, _ => TarEntryType.RegularFile };
                PosixTarEntry tarEntry = entry.Gnu ? new GnuTarEntry(type, entry.Name) : new UstarTarEntry(type, entry.Name);
                if (tarEntry is GnuTarEntry gnu && gnuTimes)
                {
                    gnu.AccessTime = DateTimeOffset.FromUnixTimeSeconds(Time);
                    gnu.ChangeTime = DateTimeOffset.FromUnixTimeSeconds(Time);
                }

                tarEntry.Mode = (UnixFileMode)entry.Mode;
                tarEntry.ModificationTime = DateTimeOffset.FromUnixTimeSeconds(Time);
                tarEntry.Uid = (int)entry.Uid;
                tarEntry.Gid = (int)entry.Gid;
                if (entry.Link is not null)
                {
                    tarEntry.LinkName = entry.Link;
                }

                if (entry.Text is not null)
                {
                    tarEntry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(entry.Text));
                }

                tar.WriteEntry(tarEntry);
            }
        }

        Assert.AreEqual(10, Environment.Version.Major, "the expected bytes are .NET 10's; on another runtime, pin them from a .NET 10 run");
        CollectionAssert.AreEqual(runtime.ToArray(), ours.ToArray(), FirstDifference(runtime.ToArray(), ours.ToArray()));

        // And it reads back: every entry with its name, link, mode, owner and content.
        ours.Position = 0;
        using var reader = new TarReader(ours);
        foreach (var expected in Entries)
        {
            var read = reader.GetNextEntry()!;
            Assert.AreEqual(expected.Name, read.Name);
            Assert.AreEqual(expected.Link ?? "", read.LinkName);
            Assert.AreEqual(expected.Mode, (int)read.Mode);
            Assert.AreEqual(expected.Uid, read.Uid);
            Assert.AreEqual(expected.Gid, read.Gid);
            Assert.AreEqual(Time, read.ModificationTime.ToUnixTimeSeconds());
            if (expected.Text is not null)
            {
                Assert.AreEqual(expected.Text, read.DataStream is null ? "" : new StreamReader(read.DataStream).ReadToEnd());
            }
        }

        Assert.IsNull(reader.GetNextEntry());
    }

    [TestMethod]
    public async Task A_layer_has_the_same_diff_id_as_in_earlier_releases()
    {
        // Pinned from the LayerWriter of the previous release (System.Formats.Tar on .NET 10): changing how the tar is
        // written would give every unchanged app a new layer digest and re-upload it.
        var root = Directory.CreateTempSubdirectory("tar-pin-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "a.txt"), "hello\n");
            var file = Path.Combine(root, "a.txt");
            var plan = LayerPlan.Empty
                .AddFile(file, "/app/a.txt", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead)
                .AddFile(file, "/app/" + new string('n', 120), UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead)
                .AddSymlink("/app/link", "a.txt");
            var result = await LayerWriter.WriteAsync(plan, Stream.Null, new LayerWriteOptions { Compression = LayerCompression.None, Timestamp = DateTimeOffset.FromUnixTimeSeconds(Time) });
            Assert.AreEqual(PinnedDiffId, result.DiffId.ToString());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public async Task An_archive_without_entries_is_empty_and_a_short_content_fails()
    {
        var output = new MemoryStream();
        var writer = new TarEntryWriter(output);
        await writer.WriteEndAsync(CancellationToken.None);
        Assert.AreEqual(0, output.Length, "as System.Formats.Tar: no end blocks without entries");

        await Assert.ThrowsExactlyAsync<EndOfStreamException>(() =>
            writer.WriteEntryAsync(TarEntryKind.File, "short", null, 0b110_100_100, 0, 0, Time, new MemoryStream(new byte[10]), 11, CancellationToken.None));
    }

    private const string PinnedDiffId = "sha256:80f8f82cec2500aa34827a661f6240ad088de00a2b3517e08ee1d777dfffb8d3";

    private static string FirstDifference(byte[] expected, byte[] actual)
    {
        for (var i = 0; i < Math.Min(expected.Length, actual.Length); i++)
        {
            if (expected[i] != actual[i])
            {
                return $"first difference at byte {i} (block {i / 512}, offset {i % 512}): expected 0x{expected[i]:x2}, got 0x{actual[i]:x2}";
            }
        }

        return $"lengths {expected.Length} and {actual.Length}";
    }
}
