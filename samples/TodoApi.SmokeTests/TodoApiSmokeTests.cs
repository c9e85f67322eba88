using System.Net;
using System.Net.Http.Json;

namespace TodoApi.SmokeTests;

[TestClass]
public sealed class TodoApiSmokeTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task A_todo_written_over_http_is_stored_in_postgres_and_read_back_through_the_redis_cache()
    {
        // PostgreSQL, Redis and the app on one private network, each started once what it depends on is ready.
        await using var graph = await ContainersUnderTest.Graph.StartAsync(TestContext);
        await WriteAndReadBackAsync(graph);
    }

    [TestMethod]
    public async Task The_compose_file_starts_the_same_three_services_and_passes_the_same_test()
    {
        await using var graph = await ContainersUnderTest.Compose.StartAsync(TestContext);
        await WriteAndReadBackAsync(graph);
    }

    private async Task WriteAndReadBackAsync(RunningContainerGraph graph)
    {
        using var http = graph["TodoApi"].CreateHttpClient();

        var created = await http.PostAsJsonAsync("/todos", new { title = "Ship the image without Docker" }, TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.Created, created.StatusCode, await created.Content.ReadAsStringAsync(TestContext.CancellationToken));
        var location = created.Headers.Location!.ToString();

        // The row is in the database container itself, not only in the app.
        var rows = await graph["db"].ExecAsync(["psql", "-U", "todo", "-d", "todo", "-tAc", "select title from todos"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, rows.ExitCode, rows.StandardError);
        Assert.AreEqual("Ship the image without Docker", rows.StandardOutput.Trim());

        // The first read comes from PostgreSQL and fills the cache; the second from Redis.
        var first = await http.GetAsync(location, TestContext.CancellationToken);
        var second = await http.GetAsync(location, TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, first.StatusCode);
        Assert.AreEqual("database", first.Headers.GetValues("X-Todo-Source").Single());
        Assert.AreEqual("cache", second.Headers.GetValues("X-Todo-Source").Single());
        StringAssert.Contains(await second.Content.ReadAsStringAsync(TestContext.CancellationToken), "Ship the image without Docker");

        var keys = await graph["cache"].ExecAsync(["redis-cli", "--scan", "--pattern", "todo-api:*"], cancellationToken: TestContext.CancellationToken);
        Assert.AreEqual(0, keys.ExitCode, keys.StandardError);
        Assert.AreNotEqual("", keys.StandardOutput.Trim(), "the cached todo is in the Redis container");
    }

    [TestMethod]
    public async Task Healthz_is_ok_when_both_neighbours_answer()
    {
        await using var graph = await ContainersUnderTest.Graph.StartAsync(TestContext);
        using var http = graph["TodoApi"].CreateHttpClient();

        var response = await http.GetAsync("/healthz", TestContext.CancellationToken);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("ok", await response.Content.ReadAsStringAsync(TestContext.CancellationToken));
    }
}
