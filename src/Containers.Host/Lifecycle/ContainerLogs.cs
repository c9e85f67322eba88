namespace Containers.Host.Lifecycle;

/// <summary>What a container wrote to stdout and stderr, line by line, as it runs.</summary>
public sealed class ContainerLogs
{
    private readonly object _gate = new();
    private readonly List<(bool IsError, string Line)> _lines = [];
    private readonly List<Action<string, bool>> _listeners = [];

    /// <summary>The stdout lines so far.</summary>
    public IReadOnlyList<string> StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _lines.Where(l => !l.IsError).Select(l => l.Line).ToList();
            }
        }
    }

    /// <summary>The stderr lines so far.</summary>
    public IReadOnlyList<string> StandardError
    {
        get
        {
            lock (_gate)
            {
                return _lines.Where(l => l.IsError).Select(l => l.Line).ToList();
            }
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of both streams, in the order they arrived, stderr lines marked.</summary>
    public string Tail(int lines = 50)
    {
        lock (_gate)
        {
            return string.Join(System.Environment.NewLine, _lines.Skip(Math.Max(0, _lines.Count - lines)).Select(l => (l.IsError ? "stderr| " : "stdout| ") + l.Line));
        }
    }

    /// <summary>Everything, both streams in arrival order.</summary>
    public override string ToString() => Tail(int.MaxValue);

    internal void Add(bool isError, string line)
    {
        Action<string, bool>[] listeners;
        lock (_gate)
        {
            _lines.Add((isError, line));
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            listener(line, isError);
        }
    }

    /// <summary>
    /// Calls <paramref name="onLine"/> with every line written so far and then every line to come, with whether it came
    /// from stderr, until the returned handle is disposed (what <c>dotnet container run</c> and <c>logs -f</c> stream).
    /// Lines of one stream arrive in order, on the thread that reads the container's output: keep the callback short.
    /// </summary>
    public IDisposable Follow(Action<string, bool> onLine)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        (string Line, bool IsError)[] existing;
        lock (_gate)
        {
            existing = [.. _lines.Select(l => (l.Line, l.IsError))];
            _listeners.Add(onLine);
        }

        foreach (var (line, isError) in existing)
        {
            onLine(line, isError);
        }

        return new Subscription(this, onLine);
    }

    // Calls back for every line already written and every line to come, of either stream (used by the log-line wait).
    internal IDisposable Subscribe(Action<string> listener) => Follow((line, _) => listener(line));

    private sealed class Subscription(ContainerLogs logs, Action<string, bool> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (logs._gate)
            {
                logs._listeners.Remove(listener);
            }
        }
    }
}
