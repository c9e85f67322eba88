using Containers.Host.Compose;

namespace Containers.Host.Tests.Compose;

[TestClass]
public sealed class ComposeInterpolationTests
{
    private static readonly Dictionary<string, string> Variables = new() { ["SET"] = "value", ["EMPTY"] = "", ["PORT"] = "5432" };

    private static string Interpolate(string text, List<string>? unset = null) =>
        ComposeInterpolation.Interpolate(text, name => Variables.GetValueOrDefault(name), name => unset?.Add(name));

    [TestMethod]
    [DataRow("${SET}", "value")]
    [DataRow("$SET and $PORT", "value and 5432")]
    [DataRow("${SET:-default}", "value")]
    [DataRow("${EMPTY:-default}", "default")]
    [DataRow("${UNSET:-default}", "default")]
    [DataRow("${EMPTY-default}", "")]
    [DataRow("${UNSET-default}", "default")]
    [DataRow("${SET:+alt}", "alt")]
    [DataRow("${EMPTY:+alt}", "")]
    [DataRow("${EMPTY+alt}", "alt")]
    [DataRow("${UNSET+alt}", "")]
    [DataRow("${UNSET:-${SET}}", "value")]
    [DataRow("${UNSET:-${ALSO_UNSET:-inner}}", "inner")]
    [DataRow("$${SET} costs $$5", "${SET} costs $5")]
    [DataRow("a $ sign, $1 and $-", "a $ sign, $1 and $-")]
    [DataRow("host:${PORT}/db", "host:5432/db")]
    public void Values_are_interpolated_as_compose_does(string text, string expected) => Assert.AreEqual(expected, Interpolate(text));

    [TestMethod]
    public void An_unset_variable_without_default_becomes_empty_and_is_reported()
    {
        var unset = new List<string>();
        Assert.AreEqual("x--/y", Interpolate("x-${NOPE}-$ALSO_NOPE/y", unset));
        CollectionAssert.AreEqual(new[] { "NOPE", "ALSO_NOPE" }, unset);
    }

    [TestMethod]
    public void Required_variables_and_bad_syntax_are_errors_that_say_what_is_wrong()
    {
        Assert.AreEqual("value", Interpolate("${SET:?must be set}"));
        Assert.AreEqual("", Interpolate("${EMPTY?must be set}"));
        var required = Assert.Throws<FormatException>(() => Interpolate("${EMPTY:?set the password}"));
        Assert.AreEqual("required variable EMPTY is missing a value: set the password", required.Message);
        var unset = Assert.Throws<FormatException>(() => Interpolate("${UNSET?needed}"));
        Assert.AreEqual("required variable UNSET is missing a value: needed", unset.Message);
        StringAssert.Contains(Assert.Throws<FormatException>(() => Interpolate("${SET")).Message, "without a closing '}'");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Interpolate("${1X}")).Message, "names no variable");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Interpolate("${SET/a/b}")).Message, "not an interpolation compose knows");
    }

    [TestMethod]
    public void Env_files_have_comments_quotes_escapes_export_and_interpolation()
    {
        var text = """
            # a comment
            export PLAIN=plain value # trailing comment
            HASH=a#b
            DOUBLE="line1\nline2 # kept"
            SINGLE='$PLAIN ${X} \n'
            USES=${PLAIN}-$OUTSIDE
            EMPTY=
            NAME_ONLY
            MULTI="first
            second"
            """;

        var variables = DotEnvFile.Parse(text, (value, local) => ComposeInterpolation.Interpolate(value, v => local(v) ?? (v == "OUTSIDE" ? "out" : null), _ => { }));

        CollectionAssert.AreEqual(
            new[] { "PLAIN=plain value", "HASH=a#b", "DOUBLE=line1\nline2 # kept", "SINGLE=$PLAIN ${X} \\n", "USES=plain value-out", "EMPTY=", "MULTI=first\nsecond" },
            variables.Select(v => v.Key + "=" + v.Value).ToList());
        StringAssert.Contains(Assert.Throws<FormatException>(() => DotEnvFile.Parse("A=\"open", null)).Message, "line 1: the value of A opens \" and never closes it");
        StringAssert.Contains(Assert.Throws<FormatException>(() => DotEnvFile.Parse("OK=1\nNOT A LINE=2", null)).Message, "line 2");
    }

    [TestMethod]
    public void Commands_split_like_a_shell_without_expanding()
    {
        CollectionAssert.AreEqual(new[] { "sh", "-c", "echo \"hi $HOME\" 'x'" }, ShellWords.Split("sh -c 'echo \"hi $HOME\" '\\''x'\\'''"));
        CollectionAssert.AreEqual(new[] { "bundle", "exec", "thin", "-p", "3000" }, ShellWords.Split("  bundle exec  thin -p 3000 "));
        CollectionAssert.AreEqual(new[] { "a b", "c\"d", "e f", "$X" }, ShellWords.Split("\"a b\" \"c\\\"d\" e\\ f $X"));
        Assert.IsEmpty(ShellWords.Split(""));
        Assert.Throws<FormatException>(() => ShellWords.Split("echo 'open"));
    }

    [TestMethod]
    public void Durations_and_byte_values()
    {
        Assert.IsTrue(ComposeValues.TryParseDuration("1m30s", out var duration));
        Assert.AreEqual(TimeSpan.FromSeconds(90), duration);
        Assert.IsTrue(ComposeValues.TryParseDuration("1h5m30s20ms", out duration));
        Assert.AreEqual(new TimeSpan(0, 1, 5, 30, 20), duration);
        Assert.IsTrue(ComposeValues.TryParseDuration("1.5s", out duration));
        Assert.AreEqual(TimeSpan.FromMilliseconds(1500), duration);
        Assert.IsFalse(ComposeValues.TryParseDuration("10", out _));
        Assert.IsFalse(ComposeValues.TryParseDuration("10 s", out _));
        Assert.IsTrue(ComposeValues.TryParseBytes("512m", out var bytes));
        Assert.AreEqual(512L * 1024 * 1024, bytes);
        Assert.IsTrue(ComposeValues.TryParseBytes("1gb", out bytes));
        Assert.AreEqual(1024L * 1024 * 1024, bytes);
        Assert.IsTrue(ComposeValues.TryParseBytes("2048", out bytes));
        Assert.AreEqual(2048L, bytes);
        Assert.IsFalse(ComposeValues.TryParseBytes("lots", out _));
    }
}
