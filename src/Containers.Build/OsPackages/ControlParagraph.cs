using System.Text;

namespace Containers.Build.OsPackages;

/// <summary>
/// One paragraph of a deb822 control file (Packages, Release, dpkg status): fields in their original order,
/// looked up case-insensitively. Continuation lines are kept with their leading space, as dpkg writes them.
/// </summary>
public sealed class ControlParagraph
{
    private readonly List<KeyValuePair<string, string>> _fields;

    /// <summary>Creates a paragraph from fields in order.</summary>
    public ControlParagraph(IEnumerable<KeyValuePair<string, string>> fields)
    {
        _fields = fields.ToList();
    }

    /// <summary>The fields in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>The value of <paramref name="name"/> (its first line trimmed, continuation lines joined by '\n'), or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var field in _fields)
            {
                if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return field.Value;
                }
            }

            return null;
        }
    }

    /// <summary>The same paragraph with <paramref name="name"/> set to <paramref name="value"/> (replaced in place, or appended).</summary>
    public ControlParagraph With(string name, string value)
    {
        var fields = new List<KeyValuePair<string, string>>(_fields);
        var index = fields.FindIndex(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            fields[index] = new(fields[index].Key, value);
        }
        else
        {
            fields.Add(new(name, value));
        }

        return new ControlParagraph(fields);
    }

    /// <summary>The same paragraph with <paramref name="name"/> inserted after the field <paramref name="after"/> (or appended).</summary>
    public ControlParagraph WithAfter(string after, string name, string value)
    {
        var fields = _fields.Where(f => !string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).ToList();
        var index = fields.FindIndex(f => string.Equals(f.Key, after, StringComparison.OrdinalIgnoreCase));
        fields.Insert(index < 0 ? fields.Count : index + 1, new(name, value));
        return new ControlParagraph(fields);
    }

    /// <summary>The paragraph as deb822 text, ending with a newline (no blank line after it).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (name, value) in _fields)
        {
            text.Append(name).Append(':');
            var lines = value.Split('\n');
            if (lines[0].Length > 0)
            {
                text.Append(' ').Append(lines[0]);
            }

            text.Append('\n');
            for (var i = 1; i < lines.Length; i++)
            {
                text.Append(lines[i]).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Parses every paragraph of <paramref name="text"/>; blank lines separate paragraphs, '#' lines are comments.</summary>
    /// <exception cref="FormatException">A line is neither a field, a continuation nor blank.</exception>
    public static IReadOnlyList<ControlParagraph> ParseAll(string text)
    {
        var paragraphs = new List<ControlParagraph>();
        var fields = new List<KeyValuePair<string, string>>();
        string? name = null;
        var value = new StringBuilder();
        var lineNumber = 0;

        void EndField()
        {
            if (name is not null)
            {
                fields.Add(new(name, value.ToString()));
                name = null;
                value.Clear();
            }
        }

        void EndParagraph()
        {
            EndField();
            if (fields.Count > 0)
            {
                paragraphs.Add(new ControlParagraph(fields));
                fields = new List<KeyValuePair<string, string>>();
            }
        }

        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                EndParagraph();
            }
            else if (line[0] == '#')
            {
                continue;
            }
            else if (line[0] is ' ' or '\t')
            {
                if (name is null)
                {
                    throw new FormatException($"line {lineNumber}: a continuation line without a field before it");
                }

                value.Append('\n').Append(line);
            }
            else
            {
                EndField();
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new FormatException($"line {lineNumber}: expected 'Field: value', found '{Truncate(line)}'");
                }

                name = line[..colon];
                value.Append(line[(colon + 1)..].Trim());
            }
        }

        EndParagraph();
        return paragraphs;
    }

    private static string Truncate(string line) => line.Length <= 60 ? line : line[..60] + "...";
}
