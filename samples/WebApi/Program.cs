var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();

var todos = new List<Todo> { new(1, "Publish an image without Docker", true), new(2, "Run it", false) };

app.MapGet("/healthz", () => Results.Text("ok"));
app.MapGet("/todos", () => todos);
app.MapGet("/todos/{id:int}", (int id) => todos.FirstOrDefault(t => t.Id == id) is { } todo ? Results.Ok(todo) : Results.NotFound());

app.Run();

internal sealed record Todo(int Id, string Title, bool Done);
