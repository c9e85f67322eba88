using System.Text;

namespace Containers.Host.Compose;

/// <summary>Splits a command string into arguments as a POSIX shell would (and as compose does): blanks separate, quotes group, a backslash escapes; nothing is expanded.</summary>
internal static class ShellWords
{
    /// <exception cref="FormatException">A quote is not closed.</exception>
    public static List<string> Split(string command)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\\' when i + 1 < command.Length:
                    current.Append(command[++i]);
                    break;
                case '\'':
                    var close = command.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new FormatException($"the single quote at position {i + 1} is never closed");
                    }

                    current.Append(command, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    var closed = false;
                    for (i++; i < command.Length; i++)
                    {
                        if (command[i] == '\\' && i + 1 < command.Length && command[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            current.Append(command[++i]);
                        }
                        else if (command[i] == '"')
                        {
                            closed = true;
                            break;
                        }
                        else
                        {
                            current.Append(command[i]);
                        }
                    }

                    if (!closed)
                    {
                        throw new FormatException("a double quote is never closed");
                    }

                    break;
                default:
                    current.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(current.ToString());
        }

        return words;
    }
}
