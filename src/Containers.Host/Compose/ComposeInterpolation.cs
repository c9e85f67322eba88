namespace Containers.Host.Compose;

/// <summary>
/// Compose's variable interpolation: <c>$VAR</c>, <c>${VAR}</c>, <c>${VAR:-default}</c> (unset or empty),
/// <c>${VAR-default}</c> (unset), <c>${VAR:?error}</c>, <c>${VAR?error}</c>, <c>${VAR:+replacement}</c>,
/// <c>${VAR+replacement}</c>, nested operands, and <c>$$</c> for a literal <c>$</c>. A <c>$</c> not followed by a name or
/// <c>{</c> stays as it is, as in compose.
/// </summary>
internal static class ComposeInterpolation
{
    /// <summary>Interpolates <paramref name="text"/>; <paramref name="unset"/> hears of each variable used without a value and without a default (it becomes empty).</summary>
    /// <exception cref="FormatException">A <c>${</c> is not closed or names no variable, or a required variable is missing (the message says which).</exception>
    public static string Interpolate(string text, Func<string, string?> lookup, Action<string> unset)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new System.Text.StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                i++;
                continue;
            }

            var next = text[i + 1];
            if (next == '$')
            {
                result.Append('$');
                i += 2;
            }
            else if (next == '{')
            {
                var end = ClosingBrace(text, i + 2)
                    ?? throw new FormatException($"'{text[i..]}' opens '${{' without a closing '}}'; close it, or write '$$' for a literal '$'.");
                result.Append(Braced(text[(i + 2)..end], lookup, unset));
                i = end + 1;
            }
            else if (IsNameStart(next))
            {
                var start = i + 1;
                var stop = start;
                while (stop < text.Length && IsNamePart(text[stop]))
                {
                    stop++;
                }

                var name = text[start..stop];
                var value = lookup(name);
                if (value is null)
                {
                    unset(name);
                }

                result.Append(value ?? "");
                i = stop;
            }
            else
            {
                result.Append('$');
                i++;
            }
        }

        return result.ToString();
    }

    private static string Braced(string expression, Func<string, string?> lookup, Action<string> unset)
    {
        var nameEnd = 0;
        while (nameEnd < expression.Length && IsNamePart(expression[nameEnd]))
        {
            nameEnd++;
        }

        var name = expression[..nameEnd];
        if (name.Length == 0 || !IsNameStart(name[0]))
        {
            throw new FormatException($"'${{{expression}}}' names no variable; a name is letters, digits and '_', not starting with a digit.");
        }

        var value = lookup(name);
        if (nameEnd == expression.Length)
        {
            if (value is null)
            {
                unset(name);
            }

            return value ?? "";
        }

        var rest = expression[nameEnd..];
        var colon = rest.StartsWith(':');
        var op = colon ? (rest.Length > 1 ? rest[1] : '\0') : rest[0];
        var operand = rest[(colon ? 2 : 1)..];
        var missing = colon ? string.IsNullOrEmpty(value) : value is null;
        string Operand() => Interpolate(operand, lookup, unset);
        return op switch
        {
            '-' => missing ? Operand() : value!,
            '?' => missing ? throw new FormatException($"required variable {name} is missing a value: {Operand()}") : value!,
            '+' => missing ? "" : Operand(),
            _ => throw new FormatException($"'${{{expression}}}' is not an interpolation compose knows: after the name comes '}}', ':-', '-', ':?', '?', ':+' or '+'."),
        };
    }

    // The '}' closing a '${' whose content starts at start, skipping nested '${...}' and '$$'.
    private static int? ClosingBrace(string text, int start)
    {
        var depth = 1;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '$')
            {
                i++;
            }
            else if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                depth++;
                i++;
            }
            else if (text[i] == '}' && --depth == 0)
            {
                return i;
            }
        }

        return null;
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsNamePart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
