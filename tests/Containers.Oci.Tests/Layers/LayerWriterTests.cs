using System.Formats.Tar;
using System.Text;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Layers;

namespace Containers.Oci.Tests.Layers;

[TestClass]
public sealed class LayerWriterTests
{
    private static readonly DateTimeOffset CommitTime = DateTimeOffset.Parse("2024-05-06T07:08:09Z", System.Globalization.CultureInfo.InvariantCulture);

    [TestMethod]
    [DataRow(LayerCompression.Gzip)]
    [DataRow(LayerCompression.Zstd)]
    [DataRow(LayerCompression.None)]
    public async Task Same_files_in_different_directories_with_different_times_and_modes_give_identical_layers(LayerCompression compression)
    {
        using var first = new TemporaryDirectory();
        using var second = new TemporaryDirectory();
        LayerTestFiles.WriteSampleApp(first, alternateHostModes: false);
        LayerTestFiles.WriteSampleApp(second, alternateHostModes: true);
        var options = new LayerWriteOptions { Compression = compression, Timestamp = CommitTime };

        var (firstResult, firstBytes) = await WriteToMemoryAsync(LayerPlan.Empty.AddDirectoryTree(first.Path, "/app"), options);
        var (secondResult, secondBytes) = await WriteToMemoryAsync(LayerPlan.Empty.AddDirectoryTree(second.Path, "/app"), options);

        Assert.AreEqual(firstResult.DiffId, secondResult.DiffId);
        Assert.AreEqual(firstResult.Descriptor, secondResult.Descriptor);
        CollectionAssert.AreEqual(firstBytes, secondBytes);
        Assert.AreEqual(Digest.Compute(firstBytes), firstResult.Descriptor.Digest);
        Assert.AreEqual(firstBytes.Length, firstResult.Descriptor.Size);
        Assert.AreEqual(MediaTypes.LayerMediaType(compression), firstResult.Descriptor.MediaType);
    }

    [TestMethod]
    public async Task Gzip_header_carries_no_time_and_no_file_name()
    {
        var (_, bytes) = await WriteToMemoryAsync(LayerPlan.Empty.AddDirectory("/app"), new LayerWriteOptions { Compression = LayerCompression.Gzip });

        Assert.AreEqual(0x1f, bytes[0]);
        Assert.AreEqual(0x8b, bytes[1]);
        Assert.AreEqual(0, bytes[3], "no FNAME, FCOMMENT or FEXTRA flag");
        CollectionAssert.AreEqual(new byte[4], bytes[4..8], "MTIME is zero");
    }

    [TestMethod]
    public async Task Zstd_output_does_not_depend_on_the_thread_count()
    {
        using var files = new TemporaryDirectory();
        var random = new byte[24_000_000]; // several zstd jobs (a job is a few window sizes: 8 MiB at level 3)
        new Random(3).NextBytes(random);
        files.WriteFile("random.bin", random);
        files.WriteFile("text.txt", string.Concat(Enumerable.Range(0, 200_000).Select(i => $"line {i % 977}\n")));
        var plan = LayerPlan.Empty.AddDirectoryTree(files.Path, "/data");

        var (one, oneBytes) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = LayerCompression.Zstd, ZstdThreads = 1 });
        var (four, fourBytes) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = LayerCompression.Zstd, ZstdThreads = 4 });

        Assert.AreEqual(one.Descriptor.Digest, four.Descriptor.Digest);
        CollectionAssert.AreEqual(oneBytes, fourBytes);
    }

    [TestMethod]
    public async Task Diff_id_and_size_describe_the_uncompressed_tar()
    {
        using var files = new TemporaryDirectory();
        LayerTestFiles.WriteSampleApp(files, alternateHostModes: false);
        var plan = LayerPlan.Empty.AddDirectoryTree(files.Path, "/app");

        var (gzip, gzipBytes) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = LayerCompression.Gzip });
        var (zstd, _) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = LayerCompression.Zstd });
        var (plain, plainBytes) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = LayerCompression.None });

        Assert.AreEqual(plain.Descriptor.Digest, plain.DiffId, "an uncompressed layer's digest is its diff id");
        Assert.AreEqual(plain.DiffId, gzip.DiffId);
        Assert.AreEqual(plain.DiffId, zstd.DiffId);
        Assert.AreEqual(plainBytes.Length, gzip.UncompressedSize);
        using var decompressed = new MemoryStream();
        await using (var gunzip = LayerStreams.Decompress(new MemoryStream(gzipBytes), LayerCompression.Gzip))
        {
            await gunzip.CopyToAsync(decompressed);
        }

        CollectionAssert.AreEqual(plainBytes, decompressed.ToArray());
    }

    [TestMethod]
    public async Task Entries_are_sorted_ordinally_by_path_with_each_parent_directory_once_before_its_children()
    {
        using var files = new TemporaryDirectory();
        var source = files.WriteFile("x.txt", "x");
        var plan = LayerPlan.Empty
            .AddFile(source, "/usr/share/doc/z.txt")
            .AddFile(source, "/usr/share/doc-extra/a.txt")
            .AddFile(source, "/usr/bin/tool")
            .AddDirectory("/var/lib/empty")
            .AddSymlink("/usr/share/doc/link", "z.txt");

        var layer = await WriteToDirectoryAsync(files, plan, new LayerWriteOptions());
        var names = (await LayerTestFiles.ListAsync(layer)).Select(entry => entry.Name).ToList();

        CollectionAssert.AreEqual(
            new[]
            {
                "usr/", "usr/bin/", "usr/bin/tool", "usr/share/", "usr/share/doc/", "usr/share/doc-extra/", "usr/share/doc-extra/a.txt",
                "usr/share/doc/link", "usr/share/doc/z.txt", "var/", "var/lib/", "var/lib/empty/",
            },
            names,
            string.Join(", ", names));
    }

    [TestMethod]
    public async Task Modes_are_normalized_and_ownership_is_root_without_names()
    {
        using var files = new TemporaryDirectory();
        var publish = new TemporaryDirectory();
        using var publishCleanup = publish;
        LayerTestFiles.WriteSampleApp(publish, alternateHostModes: true);

        var layer = await WriteToDirectoryAsync(files, LayerPlan.Empty.AddDirectoryTree(publish.Path, "/app"), new LayerWriteOptions { Timestamp = CommitTime });
        var entries = (await LayerTestFiles.ListAsync(layer)).ToDictionary(entry => entry.Name);

        const UnixFileMode rwxr_xr_x = (UnixFileMode)0b111_101_101;
        const UnixFileMode rw_r__r__ = (UnixFileMode)0b110_100_100;
        Assert.AreEqual(rwxr_xr_x, entries["app/"].Mode);
        Assert.AreEqual(rwxr_xr_x, entries["app/wwwroot/"].Mode, "a 0700 host directory becomes 0755");
        Assert.AreEqual(rwxr_xr_x, entries["app/empty/"].Mode);
        Assert.AreEqual(rwxr_xr_x, entries["app/MyApp"].Mode, "a 0700 host executable keeps +x for everyone");
        Assert.AreEqual(rwxr_xr_x, entries["app/run.sh"].Mode);
        Assert.AreEqual(rw_r__r__, entries["app/MyApp.dll"].Mode, "a 0600 host file becomes 0644");
        Assert.AreEqual(rw_r__r__, entries["app/wwwroot/css/site.css"].Mode);
        Assert.AreEqual(TarEntryType.SymbolicLink, entries["app/current"].Type);
        Assert.AreEqual("MyApp.dll", entries["app/current"].LinkName);
        Assert.AreEqual((UnixFileMode)0b111_111_111, entries["app/current"].Mode);
        foreach (var entry in entries.Values)
        {
            Assert.AreEqual(0, entry.Uid, entry.Name);
            Assert.AreEqual(0, entry.Gid, entry.Name);
            Assert.AreEqual("", entry.UserName, entry.Name);
            Assert.AreEqual("", entry.GroupName, entry.Name);
            Assert.AreEqual(CommitTime, entry.ModificationTime, entry.Name);
            Assert.AreEqual(TarEntryFormat.Ustar, entry.Format, entry.Name);
        }
    }

    [TestMethod]
    public async Task Owner_and_per_entry_modes_can_be_chosen()
    {
        using var files = new TemporaryDirectory();
        var script = files.WriteFile("tool.sh", "echo hi", LayerTestFiles.Mode0644);
        var plan = LayerPlan.Empty
            .AddFile(script, "/opt/tool.sh", mode: (UnixFileMode)0b111_101_000)
            .AddDirectory("/data", (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);

        var layer = await WriteToDirectoryAsync(files, plan, new LayerWriteOptions { OwnerUid = 1654, OwnerGid = 1655 });
        var entries = (await LayerTestFiles.ListAsync(layer)).ToDictionary(entry => entry.Name);

        Assert.AreEqual((UnixFileMode)0b111_101_000, entries["opt/tool.sh"].Mode);
        Assert.AreEqual((UnixFileMode)0b1_111_111_111, entries["data/"].Mode);
        Assert.IsTrue(entries.Values.All(entry => entry.Uid == 1654 && entry.Gid == 1655));
    }

    [TestMethod]
    public async Task Timestamp_defaults_to_the_epoch_and_an_explicit_one_is_truncated_to_seconds()
    {
        using var files = new TemporaryDirectory();
        var plan = LayerPlan.Empty.AddFile(files.WriteFile("a", "a"), "/a");
        var withoutEpoch = Environment.GetEnvironmentVariable(LayerWriteOptions.SourceDateEpochVariable);
        if (!string.IsNullOrEmpty(withoutEpoch))
        {
            Assert.Inconclusive("SOURCE_DATE_EPOCH is set in the test environment");
        }

        var byDefault = await LayerTestFiles.ListAsync(await WriteToDirectoryAsync(files, plan, new LayerWriteOptions()));
        var explicitTime = await LayerTestFiles.ListAsync(await WriteToDirectoryAsync(files, plan, new LayerWriteOptions { Timestamp = CommitTime.AddMilliseconds(678) }));

        Assert.AreEqual(DateTimeOffset.UnixEpoch, byDefault[0].ModificationTime);
        Assert.AreEqual(CommitTime, explicitTime[0].ModificationTime);
    }

    [TestMethod]
    [DoNotParallelize]
    public async Task Source_date_epoch_from_the_environment_is_used_when_no_timestamp_is_given()
    {
        using var files = new TemporaryDirectory();
        var plan = LayerPlan.Empty.AddFile(files.WriteFile("a", "a"), "/a");
        var previous = Environment.GetEnvironmentVariable(LayerWriteOptions.SourceDateEpochVariable);
        Environment.SetEnvironmentVariable(LayerWriteOptions.SourceDateEpochVariable, CommitTime.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            var fromEnvironment = await LayerTestFiles.ListAsync(await WriteToDirectoryAsync(files, plan, new LayerWriteOptions()));
            var explicitWins = await LayerTestFiles.ListAsync(await WriteToDirectoryAsync(files, plan, new LayerWriteOptions { Timestamp = DateTimeOffset.UnixEpoch.AddDays(1) }));

            Assert.AreEqual(CommitTime, fromEnvironment[0].ModificationTime);
            Assert.AreEqual(DateTimeOffset.UnixEpoch.AddDays(1), explicitWins[0].ModificationTime);
        }
        finally
        {
            Environment.SetEnvironmentVariable(LayerWriteOptions.SourceDateEpochVariable, previous);
        }
    }

    [TestMethod]
    [DataRow("yesterday")]
    [DataRow("-5")]
    [DataRow("1.5")]
    public void Invalid_source_date_epoch_is_refused_naming_the_value(string value)
    {
        var error = Assert.ThrowsExactly<OciException>(() => LayerWriteOptions.ParseSourceDateEpoch(value));

        Assert.Contains($"SOURCE_DATE_EPOCH='{value}'", error.Message);
    }

    [TestMethod]
    public async Task Long_and_non_ascii_names_are_kept_and_no_pax_header_carries_the_process_id()
    {
        using var files = new TemporaryDirectory();
        var source = files.WriteFile("a", "content");
        var longDirectory = "/app/" + new string('d', 90) + "/" + new string('e', 90);
        var longLink = "../" + new string('t', 120);
        var plan = LayerPlan.Empty
            .AddFile(source, longDirectory + "/file.txt")
            .AddFile(source, "/app/réservé-日本.txt")
            .AddSymlink("/app/long-link", longLink);

        var (_, tarBytes) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Compression = LayerCompression.None });
        var tarText = Encoding.Latin1.GetString(tarBytes);
        var layer = new StoredLayer(
            new Descriptor { MediaType = MediaTypes.OciLayer, Digest = Digest.Compute(tarBytes), Size = tarBytes.Length },
            Digest.Compute(tarBytes),
            _ => Task.FromResult<Stream>(new MemoryStream(tarBytes)));
        var entries = (await LayerTestFiles.ListAsync(layer)).ToDictionary(entry => entry.Name);

        Assert.DoesNotContain("PaxHeaders", tarText);
        Assert.DoesNotContain("GlobalHead", tarText);
        Assert.DoesNotContain("PaxHeaders." + Environment.ProcessId, tarText);
        Assert.IsTrue(entries.ContainsKey(longDirectory[1..] + "/file.txt"));
        Assert.IsTrue(entries.ContainsKey("app/réservé-日本.txt"));
        Assert.AreEqual(longLink, entries["app/long-link"].LinkName);
        Assert.AreEqual(TarEntryFormat.Gnu, entries[longDirectory[1..] + "/file.txt"].Format);
    }

    [TestMethod]
    [DataRow("../etc/passwd")]
    [DataRow("/app/../../etc/passwd")]
    [DataRow("app/..")]
    [DataRow("C:\\app\\x.dll")]
    [DataRow("app\\x.dll")]
    [DataRow("/")]
    [DataRow("")]
    public void Hostile_or_empty_paths_are_refused_naming_the_path(string path)
    {
        var error = Assert.ThrowsExactly<InvalidLayerPathException>(() => LayerPlan.Empty.AddSymlink(path, "target"));

        Assert.AreEqual(path, error.Path);
        Assert.Contains($"'{path}'", error.Message);
    }

    [TestMethod]
    public void Entry_below_a_file_is_refused_naming_both_paths()
    {
        var plan = LayerPlan.Empty.AddSymlink("/app/config", "/etc/app").AddDirectory("/app/config/sub");

        var error = Assert.ThrowsExactly<InvalidLayerPathException>(() => plan.Entries);

        Assert.Contains("'app/config/sub'", error.Message);
        Assert.Contains("'app/config'", error.Message);
    }

    [TestMethod]
    public void Plans_print_and_compare_without_reading_content()
    {
        using var files = new TemporaryDirectory();
        LayerTestFiles.WriteSampleApp(files, alternateHostModes: false);

        var first = LayerPlan.Empty.AddDirectoryTree(files.Path, "/app");
        var second = LayerPlan.Empty.AddDirectoryTree(files.Path, "app/");
        var third = first.AddSymlink("/usr/bin/myapp", "/app/MyApp");

        Assert.AreEqual(first, second);
        Assert.AreEqual(first.GetHashCode(), second.GetHashCode());
        Assert.AreNotEqual(first, third);
        Assert.Contains("-rwxr-xr-x app/MyApp <- " + files.Combine("MyApp") + "\n", first.ToString());
        Assert.Contains("drwxr-xr-x app/wwwroot/\n", first.ToString());
        Assert.Contains("lrwxrwxrwx app/current -> MyApp.dll\n", first.ToString());
        Assert.Contains("drwxr-xr-x usr/bin/\n", third.ToString());
    }

    [TestMethod]
    public void Later_additions_replace_earlier_ones_at_the_same_path()
    {
        using var files = new TemporaryDirectory();
        var source = files.WriteFile("a", "a", LayerTestFiles.Mode0644);

        var plan = LayerPlan.Empty.AddFile(source, "/app/a").AddFile(source, "/app/a", (UnixFileMode)0b111_000_000);

        Assert.AreEqual(2, plan.Entries.Length);
        Assert.AreEqual((UnixFileMode)0b111_000_000, plan.Entries[1].Mode);
    }

    [TestMethod]
    public async Task Docker_format_writes_the_docker_gzip_media_type_and_refuses_zstd()
    {
        var plan = LayerPlan.Empty.AddDirectory("/app");

        var (docker, _) = await WriteToMemoryAsync(plan, new LayerWriteOptions { Format = ManifestFormat.Docker });
        var error = await Assert.ThrowsExactlyAsync<OciException>(() =>
            WriteToMemoryAsync(plan, new LayerWriteOptions { Format = ManifestFormat.Docker, Compression = LayerCompression.Zstd }));

        Assert.AreEqual(MediaTypes.DockerLayerGzip, docker.Descriptor.MediaType);
        Assert.Contains("zstd", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [TestMethod]
    public async Task Writing_to_a_directory_names_the_blob_by_its_digest_and_leaves_no_temporary_file()
    {
        using var files = new TemporaryDirectory();
        LayerTestFiles.WriteSampleApp(files, alternateHostModes: false);
        using var blobs = new TemporaryDirectory();

        var layer = await LayerWriter.WriteToDirectoryAsync(LayerPlan.Empty.AddDirectoryTree(files.Path, "/app"), blobs.Path, new LayerWriteOptions { Compression = LayerCompression.Zstd });

        var written = Directory.GetFiles(blobs.Path).Select(Path.GetFileName).ToArray();
        CollectionAssert.AreEqual(new[] { layer.Descriptor.Digest.Hex }, written);
        Assert.AreEqual(layer.Descriptor.Digest, Digest.Compute(await File.ReadAllBytesAsync(blobs.Combine(layer.Descriptor.Digest.Hex))));
        await using var uncompressed = await layer.OpenUncompressedAsync();
        Assert.AreEqual(layer.DiffId, await Digest.ComputeAsync(uncompressed));
    }

    [TestMethod]
    public async Task Cancelled_write_to_a_directory_leaves_no_file()
    {
        using var files = new TemporaryDirectory();
        LayerTestFiles.WriteSampleApp(files, alternateHostModes: false);
        using var blobs = new TemporaryDirectory();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAsync<OperationCanceledException>(() =>
            LayerWriter.WriteToDirectoryAsync(LayerPlan.Empty.AddDirectoryTree(files.Path, "/app"), blobs.Path, new LayerWriteOptions(), cancellation.Token));

        Assert.IsEmpty(Directory.GetFileSystemEntries(blobs.Path));
    }

    [TestMethod]
    public async Task A_source_file_deleted_after_planning_is_reported_with_its_path()
    {
        using var files = new TemporaryDirectory();
        var source = files.WriteFile("gone.txt", "soon gone");
        var plan = LayerPlan.Empty.AddFile(source, "/app/gone.txt");
        File.Delete(source);

        var error = await Assert.ThrowsExactlyAsync<OciException>(() => WriteToMemoryAsync(plan, new LayerWriteOptions()));

        Assert.Contains(source, error.Message);
        Assert.Contains("app/gone.txt", error.Message);
    }

    [TestMethod]
    public async Task Writing_a_100_MB_layer_streams_instead_of_buffering()
    {
        using var files = new TemporaryDirectory();
        const int fileSize = 10 * 1024 * 1024;
        var block = new byte[fileSize];
        new Random(42).NextBytes(block.AsSpan(0, 4096));
        for (var offset = 4096; offset < fileSize; offset += 4096)
        {
            block.AsSpan(0, 4096).CopyTo(block.AsSpan(offset));
        }

        var plan = LayerPlan.Empty;
        for (var i = 0; i < 10; i++)
        {
            block[i] = (byte)i;
            plan = plan.AddFile(files.WriteFile($"in/file{i}.bin", block), $"/data/file{i}.bin");
        }

        block = null;
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await LayerWriter.WriteAsync(plan, Stream.Null, new LayerWriteOptions { Compression = LayerCompression.Gzip });
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.IsGreaterThan(100L * 1024 * 1024, result.UncompressedSize);
        Assert.IsLessThan(16L * 1024 * 1024, allocated, $"allocated {allocated:N0} bytes writing a {result.UncompressedSize:N0}-byte layer");
    }

    internal static async Task<(LayerWriteResult Result, byte[] Bytes)> WriteToMemoryAsync(LayerPlan plan, LayerWriteOptions options)
    {
        using var destination = new MemoryStream();
        var result = await LayerWriter.WriteAsync(plan, destination, options);
        return (result, destination.ToArray());
    }

    private static Task<StoredLayer> WriteToDirectoryAsync(TemporaryDirectory directory, LayerPlan plan, LayerWriteOptions options) =>
        LayerWriter.WriteToDirectoryAsync(plan, directory.Combine("blobs", Guid.NewGuid().ToString("N")), options);
}
