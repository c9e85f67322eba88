using System.Net;

namespace WebApi.SmokeTests;

[TestClass]
public sealed class WebApiSmokeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Healthz_answers_ok()
    {
        await using var app = await ContainersUnderTest.WebApi.StartAsync(TestContext);
        using var http = app.CreateHttpClient();

        var response = await http.GetAsync("/healthz", TestContext.CancellationToken);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("ok", await response.Content.ReadAsStringAsync(TestContext.CancellationToken));
    }

    [TestMethod]
    public async Task Todos_are_served_and_unknown_ones_are_404()
    {
        // One container for both reads: started on first use, stopped in AssemblyCleanup.
        var app = await ContainersUnderTest.WebApi.GetSharedAsync(TestContext.CancellationToken);
        using var http = app.CreateHttpClient();

        StringAssert.Contains(await http.GetStringAsync("/todos/1", TestContext.CancellationToken), "Publish an image without Docker");
        Assert.AreEqual(HttpStatusCode.NotFound, (await http.GetAsync("/todos/42", TestContext.CancellationToken)).StatusCode);
    }

    [AssemblyCleanup]
    public static Task StopSharedContainers() => Containers.Testing.ContainerUnderTest.DisposeSharedAsync();
}
