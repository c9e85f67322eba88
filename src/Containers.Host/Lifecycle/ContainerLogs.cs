namespace Containers.Host.Lifecycle;

/// <summary>What a container wrote to stdout and stderr, line by line, as it runs.</summary>
public sealed class ContainerLogs
{
    private readonly object _gate = new();
    private readonly List<(bool IsError, string Line)> _lines = [];
    private readonly List<Action<string>> _listeners = [];

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
        Action<string>[] listeners;
        lock (_gate)
        {
            _lines.Add((isError, line));
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            listener(line);
        }
    }

    // Calls back for every line already written and every line to come (used by the log-line wait).
    internal IDisposable Subscribe(Action<string> listener)
    {
        string[] existing;
        lock (_gate)
        {
            existing = [.. _lines.Select(l => l.Line)];
            _listeners.Add(listener);
        }

        foreach (var line in existing)
        {
            listener(line);
        }

        return new Subscription(this, listener);
    }

    private sealed class Subscription(ContainerLogs logs, Action<string> listener) : IDisposable
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
