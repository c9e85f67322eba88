namespace Worker.SmokeTests;

[TestClass]
public sealed class WorkerSmokeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Logs_heartbeats_and_stops_on_SIGTERM()
    {
        await using var app = await ContainersUnderTest.Worker.StartAsync(TestContext, options => options.WaitStrategies.Add(Wait.ForLogLine("Worker heartbeat 2 at")));

        await app.StopAsync(TestContext.CancellationToken);

        Assert.AreEqual(0, await app.Exited, "the generic host stops cleanly on SIGTERM");
    }
}
