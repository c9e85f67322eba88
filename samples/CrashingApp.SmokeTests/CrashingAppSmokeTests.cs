namespace CrashingApp.SmokeTests;

/// <summary>Expected to fail: the app throws at startup, and the failure must be quick and show why.</summary>
[TestClass]
public sealed class CrashingAppSmokeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Starts_and_answers_healthz()
    {
        await using var app = await ContainersUnderTest.CrashingApp.StartAsync(TestContext);
        using var http = app.CreateHttpClient();
        Assert.AreEqual("ok", await http.GetStringAsync("/healthz", TestContext.CancellationToken));
    }
}
