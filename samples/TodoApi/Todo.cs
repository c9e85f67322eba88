namespace TodoApi;

internal sealed class Todo
{
    public const int TitleMaxLength = 200;

    /// <summary>Assigned by the database (an identity column) when the todo is first saved.</summary>
    public int Id { get; set; }

    public required string Title { get; set; }

    public bool Done { get; set; }
}

/// <summary>The body of <c>POST /todos</c>: what a client may choose (the id is the database's).</summary>
internal sealed record NewTodo(string? Title, bool Done);
