var builder = WebApplication.CreateSlimBuilder(args);
var connectionString = builder.Configuration["Database:ConnectionString"]
    ?? throw new InvalidOperationException("Missing configuration 'Database:ConnectionString'; set Database__ConnectionString.");
var app = builder.Build();
app.MapGet("/healthz", () => connectionString.Length > 0 ? "ok" : "no");
app.Run();
