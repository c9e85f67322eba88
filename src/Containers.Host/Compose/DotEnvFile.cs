using System.Text;

namespace Containers.Host.Compose;

/// <summary>
/// The <c>.env</c> and <c>env_file</c> format compose reads: <c>VAR=VAL</c> lines, <c>#</c> comments, an optional
/// <c>export </c>, values unquoted (an inline comment after a space), in double quotes (escapes <c>\n \r \t \\ \"</c>,
/// may span lines) or in single quotes (literal); unquoted and double-quoted values are interpolated. A line with a
/// name alone sets nothing.
/// </summary>
internal static class DotEnvFile
{
    /// <summary>The variables of <paramref name="text"/> in order; <paramref name="interpolate"/> null reads values raw (compose's <c>format: raw</c>).</summary>
    /// <exception cref="FormatException">A line is not <c>NAME=VALUE</c> or a quote is not closed; the message names the line.</exception>
    public static List<KeyValuePair<string, string>> Parse(string text, Func<string, Func<string, string?>, string>? interpolate)
    {
        var variables = new List<KeyValuePair<string, string>>();
        var defined = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        var line = 1;
        while (i < text.Length)
        {
            var lineStart = line;
            var end = text.IndexOf('\n', i);
            var raw = (end < 0 ? text[i..] : text[i..end]).TrimEnd('\r');
            var content = raw.TrimStart();
            if (content.Length == 0 || content.StartsWith('#'))
            {
                i = end < 0 ? text.Length : end + 1;
                line++;
                continue;
            }

            if (content.StartsWith("export ", StringComparison.Ordinal))
            {
                content = content["export ".Length..].TrimStart();
            }

            var equals = content.IndexOf('=', StringComparison.Ordinal);
            var name = (equals < 0 ? content : content[..equals]).Trim();
            if (name.Length == 0 || name.Any(char.IsWhiteSpace))
            {
                throw new FormatException($"line {lineStart}: '{raw}' is not NAME=VALUE.");
            }

            if (equals < 0)
            {
                i = end < 0 ? text.Length : end + 1;
                line++;
                continue;
            }

            // The value starts after '=' (leading blanks skipped) and may run over lines when quoted.
            // The name holds no '=', so the line's first '=' is the one after it.
            var valueStart = i + raw.IndexOf('=', StringComparison.Ordinal) + 1;
            while (valueStart < text.Length && text[valueStart] is ' ' or '\t')
            {
                valueStart++;
            }

            string value;
            int next;
            if (valueStart < text.Length && text[valueStart] is '"' or '\'')
            {
                var quote = text[valueStart];
                var builder = new StringBuilder();
                var j = valueStart + 1;
                var closed = false;
                for (; j < text.Length; j++)
                {
                    var c = text[j];
                    if (c == '\n')
                    {
                        line++;
                    }

                    if (c == '\\' && j + 1 < text.Length)
                    {
                        var escaped = text[j + 1];
                        if (quote == '"' && escaped is 'n' or 'r' or 't' or '\\' or '"')
                        {
                            builder.Append(escaped switch { 'n' => '\n', 'r' => '\r', 't' => '\t', _ => escaped });
                            j++;
                            continue;
                        }

                        if (escaped == quote)
                        {
                            builder.Append(quote);
                            j++;
                            continue;
                        }
                    }

                    if (c == quote)
                    {
                        closed = true;
                        break;
                    }

                    builder.Append(c);
                }

                if (!closed)
                {
                    throw new FormatException($"line {lineStart}: the value of {name} opens {quote} and never closes it.");
                }

                value = quote == '"' && interpolate is not null ? interpolate(builder.ToString(), Lookup) : builder.ToString();
                var lineEnd = text.IndexOf('\n', j);
                next = lineEnd < 0 ? text.Length : lineEnd + 1;
            }
            else
            {
                var lineEnd = text.IndexOf('\n', valueStart);
                var unquoted = (lineEnd < 0 ? text[valueStart..] : text[valueStart..lineEnd]).TrimEnd('\r');
                var comment = unquoted.IndexOf(" #", StringComparison.Ordinal);
                unquoted = (comment < 0 ? unquoted : unquoted[..comment]).Trim();
                value = interpolate is not null ? interpolate(unquoted, Lookup) : unquoted;
                next = lineEnd < 0 ? text.Length : lineEnd + 1;
            }

            defined[name] = value;
            variables.Add(new(name, value));
            i = next;
            line++;
        }

        return variables;

        // Inside the file, a value may use the variables defined above it.
        string? Lookup(string variable) => defined.TryGetValue(variable, out var known) ? known : null;
    }
}
