namespace ConsoleApp.SmokeTests;

[TestClass]
public sealed class ConsoleAppSmokeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Prints_its_greeting_and_exits_0()
    {
        await using var app = await ContainersUnderTest.ConsoleApp.StartAsync(TestContext, options => options.WaitStrategies.Add(Wait.ForExit(0)));

        StringAssert.Contains(string.Join('\n', app.Logs.StandardOutput), "Hello from ConsoleApp on");
        StringAssert.Contains(string.Join('\n', app.Logs.StandardOutput), "Working directory: /app");
    }
}
