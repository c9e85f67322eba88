using Microsoft.EntityFrameworkCore;

namespace TodoApi;

internal sealed class TodoDb(DbContextOptions<TodoDb> options) : DbContext(options)
{
    public DbSet<Todo> Todos => Set<Todo>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Lower-case names, so the table reads naturally in psql ("select * from todos") without quoting.
        var todo = modelBuilder.Entity<Todo>().ToTable("todos");
        todo.Property(t => t.Id).HasColumnName("id");
        todo.Property(t => t.Title).HasColumnName("title").HasMaxLength(Todo.TitleMaxLength);
        todo.Property(t => t.Done).HasColumnName("done");
    }
}
