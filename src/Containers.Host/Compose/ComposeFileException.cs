using Containers.Oci;

namespace Containers.Host.Compose;

/// <summary>
/// A compose file that cannot be used: not YAML, a value of the wrong form, a reference to nothing. The message names
/// the file, the line and column, the key path (<c>services.db.ports[0]</c>), what was expected and how to fix it.
/// </summary>
public sealed class ComposeFileException : OciException
{
    internal ComposeFileException(string file, string? keyPath, int? line, int? column, string problem, Exception? inner = null)
        : base(Format(file, keyPath, line, column, problem), inner)
    {
        File = file;
        KeyPath = keyPath;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>The compose file (its path, or the name given to text).</summary>
    public string File { get; }

    /// <summary>Where in the file, as keys and indexes (<c>services.db.ports[0]</c>); null for the whole file.</summary>
    public string? KeyPath { get; }

    /// <summary>The line (1-based) of the offending value, when known.</summary>
    public int? Line { get; }

    /// <summary>The column (1-based) of the offending value, when known.</summary>
    public int? Column { get; }

    /// <summary>What is wrong and how to fix it, without the location.</summary>
    public string Problem { get; }

    internal static string Location(string file, int? line, int? column) =>
        line is { } l ? $"{file}({l}{(column is { } c ? "," + c : "")})" : file;

    private static string Format(string file, string? keyPath, int? line, int? column, string problem) =>
        $"{Location(file, line, column)}: {(keyPath is null ? "" : keyPath + ": ")}{problem}";
}

/// <summary>Something in a compose file that the host does not do as docker compose would (ignored, or done differently): <see cref="KeyPath"/> names it, <see cref="Message"/> says what happens.</summary>
/// <param name="File">The compose file.</param>
/// <param name="KeyPath">The key, e.g. <c>services.db.restart</c>.</param>
/// <param name="Message">What happens instead, e.g. <c>ignored: …</c>.</param>
/// <param name="Line">Its line (1-based).</param>
/// <param name="Column">Its column (1-based).</param>
public sealed record ComposeWarning(string File, string KeyPath, string Message, int Line, int Column)
{
    /// <summary><c>file(line,column): key.path: message</c>.</summary>
    public override string ToString() => $"{ComposeFileException.Location(File, Line, Column)}: {KeyPath}: {Message}";
}
