using Containers.Build.Layering;

namespace Containers.Build.Tests.Layering;

[TestClass]
public sealed class GlobTests
{
    [TestMethod]
    [DataRow("models/**", "models/a.onnx", true)]
    [DataRow("models/**", "models/deep/er/a.onnx", true)]
    [DataRow("models/**", "modelsx/a.onnx", false)]
    [DataRow("**/*.onnx", "a.onnx", true)]
    [DataRow("**/*.onnx", "x/y/a.onnx", true)]
    [DataRow("**/*.onnx", "x/y/a.onnx.bak", false)]
    [DataRow("*.json", "appsettings.json", true)]
    [DataRow("*.json", "config/appsettings.json", false)]
    [DataRow("data/?.bin", "data/1.bin", true)]
    [DataRow("data/?.bin", "data/12.bin", false)]
    [DataRow("data\\*.bin", "data/1.bin", true)]
    [DataRow("./data/*.bin", "data/1.bin", true)]
    [DataRow("Data/*.bin", "data/1.bin", false)]
    [DataRow("**", "anything/at/all", true)]
    public void Matches_like_msbuild_globs(string pattern, string path, bool expected) =>
        Assert.AreEqual(expected, Glob.IsMatch(pattern, path));
}
