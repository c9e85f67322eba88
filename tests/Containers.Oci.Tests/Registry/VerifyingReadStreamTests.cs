using Containers.Oci.Registry;

namespace Containers.Oci.Tests.Registry;

[TestClass]
public sealed class VerifyingReadStreamTests
{
    private static readonly byte[] Content = "layer bytes for verification"u8.ToArray();

    private static Containers.Oci.Registry.VerifyingReadStream Over(byte[] served, Digest expected, long size) =>
        new(new MemoryStream(served), new MemoryStream(), expected, size, "The blob test", progress: null);

    [TestMethod]
    public async Task Matching_content_reads_to_the_end()
    {
        await using var stream = Over(Content, Digest.Compute(Content), Content.Length);

        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        CollectionAssert.AreEqual(Content, copy.ToArray());
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
            await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => truncated.CopyToAsync(Stream.Null));
        }

        await using var overlong = Over([.. Content, 1, 2, 3], Digest.Compute(Content), Content.Length);
        await Assert.ThrowsExactlyAsync<DigestMismatchException>(() => overlong.CopyToAsync(Stream.Null));
    }
}
