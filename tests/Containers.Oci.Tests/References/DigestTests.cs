using System.Text;
using Containers.Oci.Digests;

namespace Containers.Oci.Tests.References;

[TestClass]
public sealed class DigestTests
{
    // FIPS 180-2 test vectors for "abc" (checked with sha256sum/sha512sum).
    private const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string AbcSha512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [TestMethod]
    public void Sha256_digest_is_parsed()
    {
        var digest = Digest.Parse("sha256:" + AbcSha256);

        Assert.AreEqual("sha256", digest.Algorithm);
        Assert.AreEqual(AbcSha256, digest.Hex);
        Assert.AreEqual("sha256:" + AbcSha256, digest.ToString());
        Assert.IsTrue(digest.IsValid);
    }

    [TestMethod]
    public void Sha512_digest_is_parsed()
    {
        var digest = Digest.Parse("sha512:" + AbcSha512);

        Assert.AreEqual("sha512", digest.Algorithm);
        Assert.AreEqual(AbcSha512, digest.Hex);
    }

    [TestMethod]
    [DataRow("sha256:" + AbcSha512, "has 128 hex digits after 'sha256:'; sha256 needs exactly 64")]
    [DataRow("sha512:" + AbcSha256, "has 64 hex digits after 'sha512:'; sha512 needs exactly 128")]
    [DataRow("sha256:abc", "has 3 hex digits")]
    [DataRow("sha256:", "has 0 hex digits")]
    [DataRow("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "contains 'B'; a digest's encoded part is lower-case hex")]
    [DataRow("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag", "contains 'g'")]
    [DataRow("md5:900150983cd24fb0d6963f7d28e17f72", "algorithm 'md5', which is not supported; use sha256 or sha512")]
    [DataRow("SHA256:" + AbcSha256, "algorithm 'SHA256', which is not supported")]
    [DataRow("sha384:cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", "algorithm 'sha384'")]
    [DataRow(AbcSha256, "expected '<algorithm>:<hex>'")]
    [DataRow(":" + AbcSha256, "expected '<algorithm>:<hex>'")]
    [DataRow("", "empty")]
    public void Invalid_digest_is_refused_with_the_reason(string value, string expected)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => Digest.Parse(value));

        Assert.Contains(expected, error.Message);
        Assert.IsFalse(Digest.TryParse(value, out _));
    }

    [TestMethod]
    public void Compute_matches_the_known_vectors()
    {
        Assert.AreEqual("sha256:" + AbcSha256, Digest.Compute("abc"u8).ToString());
        Assert.AreEqual("sha256:" + EmptySha256, Digest.Compute(ReadOnlySpan<byte>.Empty).ToString());
        Assert.AreEqual("sha512:" + AbcSha512, Digest.Compute(Digest.Sha512, "abc"u8).ToString());
    }

    [TestMethod]
    public async Task Streamed_hash_equals_the_one_shot_hash()
    {
        var content = Encoding.UTF8.GetBytes(new string('x', 1_000_000));
        using var stream = new MemoryStream(content);

        var streamed = await Digest.ComputeAsync(stream, CancellationToken.None);

        Assert.AreEqual(Digest.Compute(content), streamed);
        using var hasher = streamed.CreateHasher();
        hasher.AppendData(content);
        Assert.AreEqual(streamed, Digest.FromHash(Digest.Sha256, hasher.GetHashAndReset()));
    }

    [TestMethod]
    public void Unknown_algorithm_cannot_be_computed()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Digest.Compute("md5", "abc"u8));

        Assert.Contains("'md5'", error.Message);
    }

    [TestMethod]
    public void Default_digest_is_not_valid_and_prints_empty()
    {
        Digest digest = default;

        Assert.IsFalse(digest.IsValid);
        Assert.AreEqual(string.Empty, digest.ToString());
    }

    [TestMethod]
    public void Digests_order_ordinally()
    {
        var low = Digest.Parse("sha256:" + EmptySha256.Replace('e', '0'));
        var high = Digest.Parse("sha256:" + EmptySha256);

        Assert.IsTrue(low < high);
        Assert.IsTrue(high >= low);
        Assert.AreEqual(-1, Math.Sign(low.CompareTo(high)));
    }
}
