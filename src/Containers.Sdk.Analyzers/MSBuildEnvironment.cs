using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers;

/// <summary>
/// The <c>ContainerEnvironmentVariable</c> items as the package's targets pass them to the compiler: the
/// property <c>ContainerEnvironmentForAnalyzers</c>, <c>NAME=value</c> pairs joined with <c>,</c>, where
/// <c>\</c>, <c>,</c>, <c>;</c>, <c>#</c>, <c>=</c> and line breaks inside names and values are written
/// <c>\xHH</c> (<c>\\</c> for a backslash), because the analyzer config format would end the value there.
/// </summary>
internal static class MSBuildEnvironment
{
    /// <summary>The property the package exposes with CompilerVisibleProperty.</summary>
    public const string PropertyName = "ContainerEnvironmentForAnalyzers";

    /// <summary>Each item's name and value, in item order.</summary>
    public static IEnumerable<(string Name, string Value)> Read(AnalyzerConfigOptions globalOptions)
    {
        if (!globalOptions.TryGetValue("build_property." + PropertyName, out var joined) || joined.Trim().Length == 0)
        {
            yield break;
        }

        foreach (var entry in joined.Split(','))
        {
            if (entry.Length == 0)
            {
                continue;
            }

            var equals = entry.IndexOf('=');
            yield return equals < 0
                ? (Decode(entry.Trim()), string.Empty)
                : (Decode(entry.Substring(0, equals).Trim()), Decode(entry.Substring(equals + 1)));
        }
    }

    /// <summary>Undoes the targets' escaping: <c>\xHH</c> is the character HH, <c>\\</c> a backslash.</summary>
    internal static string Decode(string text)
    {
        if (text.IndexOf('\\') < 0)
        {
            return text;
        }

        var decoded = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == '\\')
            {
                decoded.Append('\\');
                i++;
            }
            else if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x'
                && int.TryParse(text.Substring(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                decoded.Append((char)code);
                i += 3;
            }
            else
            {
                decoded.Append(text[i]);
            }
        }

        return decoded.ToString();
    }
}
