using Containers.Build.OsPackages;
using Containers.TestSupport;

namespace Containers.Build.Tests.OsPackages;

[TestClass]
public sealed class DebianVersionTests
{
    // Pairs that exercise each rule of Debian policy 5.6.12: epochs, '~', letters before other characters, numeric runs, revisions.
    private static readonly (string Left, string Right)[] Pairs =
    [
        ("1.0", "1.0"), ("1.0", "1.1"), ("1.0~rc1", "1.0"), ("1.0~~", "1.0~"), ("1.0~~a", "1.0~~"), ("1.0", "1.0+b1"),
        ("1:1.0", "2.0"), ("0:1.0", "1.0"), ("1.0-1", "1.0-2"), ("1.0-1", "1.0"), ("1.0-0", "1.0"), ("1.01", "1.1"),
        ("1.10", "1.9"), ("1.0a", "1.0+"), ("1.0a", "1.0."), ("1.0", "1.0a"), ("7.88.1-10+deb12u8", "7.88.1-10+deb12u14"),
        ("2.36-9+deb12u10", "2.36-9+deb12u9"), ("3.0.15-1~deb12u1", "3.0.15-1"), ("1.2.3-1ubuntu1", "1.2.3-1"),
        ("10.0.0~rc.1.25451.107-1", "10.0.0-1"), ("2:1.0", "1:9.9"), ("1.0-1.1", "1.0-1"), ("a", "b"), ("1.0-a", "1.0-A"),
    ];

    [TestMethod]
    public async Task Compare_AgreesWithDpkgCompareVersions()
    {
        var dpkg = TestTools.Require("dpkg", "dpkg");
        foreach (var (left, right) in Pairs)
        {
            var ours = Math.Sign(DebianVersion.Compare(left, right));
            var lower = (await TestTools.RunAsync(dpkg, ["--compare-versions", left, "lt", right])).ExitCode == 0;
            var equal = (await TestTools.RunAsync(dpkg, ["--compare-versions", left, "eq", right])).ExitCode == 0;
            var expected = lower ? -1 : equal ? 0 : 1;
            Assert.AreEqual(expected, ours, $"{left} vs {right}");
            Assert.AreEqual(-expected, Math.Sign(DebianVersion.Compare(right, left)), $"{right} vs {left}");
        }
    }

    [TestMethod]
    public void Parse_SplitsEpochUpstreamAndRevision()
    {
        var version = DebianVersion.Parse("1:7.88.1-10+deb12u8");
        Assert.AreEqual(1, version.Epoch);
        Assert.AreEqual("7.88.1", version.Upstream);
        Assert.AreEqual("10+deb12u8", version.Revision);
        Assert.IsFalse(DebianVersion.TryParse("1.0 2", out _));
        Assert.IsFalse(DebianVersion.TryParse("x:1.0", out _));
        Assert.IsFalse(DebianVersion.TryParse("1.0-", out _));
    }

    [TestMethod]
    public void Relations_ParseAlternativesQualifiersAndVersions()
    {
        var groups = PackageRelation.ParseField("libc6 (>= 2.34), libssl3 (>= 3.0.0) | libssl-dev:any, python3:any (<< 3.12), default-mta | mail-transport-agent");
        Assert.AreEqual(4, groups.Count);
        Assert.AreEqual(VersionRelation.LaterOrEqual, groups[0][0].Relation);
        Assert.AreEqual("2.34", groups[0][0].Version!.Text);
        Assert.AreEqual(2, groups[1].Count);
        Assert.AreEqual("any", groups[1][1].ArchitectureQualifier);
        Assert.AreEqual("python3", groups[2][0].Name);
        Assert.AreEqual(VersionRelation.Earlier, groups[2][0].Relation);
        Assert.IsTrue(groups[0][0].IsSatisfiedBy(DebianVersion.Parse("2.36-9+deb12u10")));
        Assert.IsFalse(groups[2][0].IsSatisfiedBy(DebianVersion.Parse("3.12.1-1")));
    }
}
