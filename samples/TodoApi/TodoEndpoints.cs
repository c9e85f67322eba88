using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace TodoApi;

internal static class TodoEndpoints
{
    /// <summary>Says where <c>GET /todos/{id}</c> found the todo: <c>cache</c> (Redis) or <c>database</c> (PostgreSQL).</summary>
    public const string SourceHeader = "X-Todo-Source";

    public static RouteGroupBuilder MapTodos(this IEndpointRouteBuilder app)
    {
        var todos = app.MapGroup("/todos");
        todos.MapGet("/", ListAsync);
        todos.MapGet("/{id:int}", GetAsync);
        todos.MapPost("/", CreateAsync);
        todos.MapDelete("/{id:int}", DeleteAsync);
        return todos;
    }

    private static async Task<Ok<List<Todo>>> ListAsync(TodoDb db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.Todos.AsNoTracking().OrderBy(t => t.Id).ToListAsync(cancellationToken));

    private static async Task<Results<Ok<Todo>, NotFound>> GetAsync(int id, TodoDb db, TodoCache cache, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await cache.GetAsync(id, cancellationToken) is { } cached)
        {
            response.Headers[SourceHeader] = "cache";
            return TypedResults.Ok(cached);
        }

        if (await db.Todos.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is not { } todo)
        {
            return TypedResults.NotFound();
        }

        await cache.SetAsync(todo, cancellationToken);
        response.Headers[SourceHeader] = "database";
        return TypedResults.Ok(todo);
    }

    private static async Task<Results<Created<Todo>, ValidationProblem>> CreateAsync(NewTodo input, TodoDb db, CancellationToken cancellationToken)
    {
        var title = input.Title?.Trim();
        if (string.IsNullOrEmpty(title) || title.Length > Todo.TitleMaxLength)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["title"] = [$"A todo needs a title of 1 to {Todo.TitleMaxLength} characters."],
            });
        }

        var todo = new Todo { Title = title, Done = input.Done };
        db.Todos.Add(todo);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/todos/{todo.Id}", todo);
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(int id, TodoDb db, TodoCache cache, CancellationToken cancellationToken)
    {
        var deleted = await db.Todos.Where(t => t.Id == id).ExecuteDeleteAsync(cancellationToken);
        await cache.RemoveAsync(id, cancellationToken);
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }
}
