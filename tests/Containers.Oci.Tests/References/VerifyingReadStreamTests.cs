using Containers.Oci.Digests;

namespace Containers.Oci.Tests.References;

[TestClass]
public sealed class VerifyingReadStreamTests
{
    private static readonly byte[] Content = "layer bytes for verification"u8.ToArray();

    private static VerifyingReadStream Over(byte[] served, Digest expected, long size, IDisposable? owner = null) =>
        new(new MemoryStream(served), expected, size, "The blob test", owner: owner);

    [TestMethod]
    public async Task Matching_content_reads_to_the_end()
    {
        await using var stream = Over(Content, Digest.Compute(Content), Content.Length);

        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        CollectionAssert.AreEqual(Content, copy.ToArray());
    }

    [TestMethod]
    public async Task A_reader_that_stops_at_the_stated_length_still_gets_the_check()
    {
        var served = (byte[])Content.Clone();
        served[^1] ^= 1;
        await using var stream = Over(served, Digest.Compute(Content), Content.Length);

        var buffer = new byte[Content.Length];
        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(async () => await stream.ReadExactlyAsync(buffer));

        Assert.AreEqual(Digest.Compute(served), error.Actual);
    }

    [TestMethod]
    public async Task Wrong_bytes_throw_at_the_end_but_a_zero_length_read_is_not_the_end()
    {
        var served = (byte[])Content.Clone();
        served[3] ^= 1;
        await using var stream = Over(served, Digest.Compute(Content), Content.Length);

        Assert.AreEqual(0, await stream.ReadAsync(Memory<byte>.Empty));
        var error = await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null));

        Assert.AreEqual(Digest.Compute(served), error.Actual);
    }

    [TestMethod]
    public async Task A_truncated_or_overlong_stream_is_refused()
    {
        await using (var truncated = Over(Content[..10], Digest.Compute(Content), Content.Length))
        {
            var error = await Assert.ThrowsExactlyAsync<OciException>(() => truncated.CopyToAsync(Stream.Null));
            Assert.Contains($"The blob test ended after 10 bytes but its descriptor says {Content.Length} bytes", error.Message);
        }

        var owner = new MemoryStream();
        await using (var overlong = Over([.. Content, 1, 2, 3], Digest.Compute(Content), Content.Length, owner))
        {
            var error = await Assert.ThrowsExactlyAsync<OciException>(() => overlong.CopyToAsync(Stream.Null));
            Assert.Contains($"The blob test is longer than the {Content.Length} bytes its descriptor says", error.Message);
        }

        Assert.IsFalse(owner.CanRead, "disposing the stream disposes its owner (a download's HTTP response)");
    }
}
