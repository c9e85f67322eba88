using System.Text;

namespace Containers.Oci.Registry;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 7235): a scheme (<c>Basic</c>, <c>Bearer</c>)
/// and its parameters (<c>realm</c>, <c>service</c>, <c>scope</c>, ...). Parameter names are case-insensitive.
/// </summary>
public sealed class AuthenticationChallenge
{
    private AuthenticationChallenge(string scheme, IReadOnlyDictionary<string, string> parameters)
    {
        Scheme = scheme;
        Parameters = parameters;
    }

    /// <summary>The auth scheme as sent (compare with <see cref="IsBasic"/> / <see cref="IsBearer"/>).</summary>
    public string Scheme { get; }

    /// <summary>The challenge's parameters; quoted values are unquoted and unescaped.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>True for the Basic scheme.</summary>
    public bool IsBasic => string.Equals(Scheme, "Basic", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for the Bearer scheme (docker token auth).</summary>
    public bool IsBearer => string.Equals(Scheme, "Bearer", StringComparison.OrdinalIgnoreCase);

    /// <summary>The <c>realm</c> parameter (the token endpoint for Bearer).</summary>
    public string? Realm => Parameters.TryGetValue("realm", out var value) ? value : null;

    /// <summary>The <c>service</c> parameter.</summary>
    public string? Service => Parameters.TryGetValue("service", out var value) ? value : null;

    /// <summary>The <c>scope</c> parameter.</summary>
    public string? Scope => Parameters.TryGetValue("scope", out var value) ? value : null;

    /// <summary>
    /// Parses every challenge in the header values. Handles several challenges in one value,
    /// quoted values containing commas and escaped quotes, and token68 values; never throws.
    /// </summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(IEnumerable<string> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        var result = new List<AuthenticationChallenge>();
        foreach (var value in headerValues)
        {
            ParseOne(value, result);
        }

        return result;
    }

    /// <summary>Parses one header value; see <see cref="Parse(IEnumerable{string})"/>.</summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(string headerValue) => Parse([headerValue]);

    private static void ParseOne(string text, List<AuthenticationChallenge> result)
    {
        var position = 0;
        string? scheme = null;
        Dictionary<string, string>? parameters = null;
        while (true)
        {
            SkipSeparators(text, ref position);
            if (position >= text.Length)
            {
                break;
            }

            var token = ReadToken(text, ref position);
            if (token.Length == 0)
            {
                // Not a token character: skip it so malformed input cannot loop forever.
                position++;
                continue;
            }

            SkipWhitespace(text, ref position);
            if (position < text.Length && text[position] == '=' && scheme is not null && !IsToken68Tail(text, position))
            {
                position++;
                SkipWhitespace(text, ref position);
                var value = position < text.Length && text[position] == '"' ? ReadQuoted(text, ref position) : ReadUntilComma(text, ref position);
                parameters![token] = value;
                continue;
            }

            // A token not followed by '=' starts a new challenge.
            if (scheme is not null)
            {
                result.Add(new AuthenticationChallenge(scheme, parameters!));
            }

            scheme = token;
            parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            SkipWhitespace(text, ref position);
            if (position < text.Length && text[position] != ',' && !LooksLikeParameter(text, position))
            {
                // token68 (for example "Negotiate abc=="): kept as a parameter without a name.
                parameters[string.Empty] = ReadUntilComma(text, ref position);
            }
        }

        if (scheme is not null)
        {
            result.Add(new AuthenticationChallenge(scheme, parameters!));
        }
    }

    private static bool LooksLikeParameter(string text, int position)
    {
        var probe = position;
        var token = ReadToken(text, ref probe);
        SkipWhitespace(text, ref probe);
        return token.Length > 0 && probe < text.Length && text[probe] == '=' && !IsToken68Tail(text, probe);
    }

    // "abc==" is token68 padding, not "abc" = "=".
    private static bool IsToken68Tail(string text, int equalsPosition)
    {
        var next = equalsPosition + 1;
        while (next < text.Length && text[next] == '=')
        {
            next++;
        }

        if (next == equalsPosition + 1)
        {
            return false;
        }

        SkipWhitespace(text, ref next);
        return next >= text.Length || text[next] == ',';
    }

    private static void SkipWhitespace(string text, ref int position)
    {
        while (position < text.Length && (text[position] == ' ' || text[position] == '\t'))
        {
            position++;
        }
    }

    private static void SkipSeparators(string text, ref int position)
    {
        while (position < text.Length && (text[position] == ' ' || text[position] == '\t' || text[position] == ','))
        {
            position++;
        }
    }

    private static string ReadToken(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && IsTokenChar(text[position]))
        {
            position++;
        }

        return text[start..position];
    }

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private static string ReadQuoted(string text, ref int position)
    {
        var builder = new StringBuilder();
        position++; // opening quote
        while (position < text.Length)
        {
            var c = text[position++];
            if (c == '\\' && position < text.Length)
            {
                builder.Append(text[position++]);
            }
            else if (c == '"')
            {
                break;
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string ReadUntilComma(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && text[position] != ',')
        {
            position++;
        }

        return text[start..position].Trim();
    }
}
