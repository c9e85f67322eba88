// Shared by Containers.Testing.Tasks (which writes the manifest at build time) and Containers.Testing.Generators
// (which reads it in the compiler to emit the typed handles). netstandard2.0-compatible on purpose.
using System;
using System.Collections.Generic;
using System.Text;

namespace Containers.Testing.Manifest;

/// <summary>
/// The test project's containers as the build resolved them, one per line: a kind (<see cref="App"/>,
/// <see cref="Dependency"/>, <see cref="Compose"/>, <see cref="Graph"/>), a name, then <c>key=value</c> fields, all
/// separated by tabs; keys may repeat (one <c>env</c>, <c>port</c>, <c>wait</c> ... per value). Tabs, line breaks and
/// backslashes in names and values are escaped as <c>\t</c>, <c>\n</c>, <c>\r</c> and <c>\\</c>. Lines starting with
/// <c>#</c> are comments.
/// </summary>
internal static class TestContainerManifest
{
    /// <summary>The manifest's file name (an AdditionalFiles item of the test project).</summary>
    public const string FileName = "containers-testing.manifest";

    /// <summary>A <c>ContainerUnderTest</c> item: fields <c>layout</c>, <c>tag</c> and the common ones.</summary>
    public const string App = "app";

    /// <summary>A <c>ContainerDependency</c> item: field <c>image</c> and the common ones.</summary>
    public const string Dependency = "dependency";

    /// <summary>A <c>ContainerCompose</c> item: fields <c>file</c>, <c>build</c> (<c>CONTEXT=LAYOUT</c>, one per built service), <c>reuse</c>.</summary>
    public const string Compose = "compose";

    /// <summary>The graph of every app and dependency: its name, field <c>reuse</c>.</summary>
    public const string Graph = "graph";

    /// <summary>The fields every app and dependency may have, in the order they are written.</summary>
    public static readonly string[] CommonKeys = { "env", "dependsOn", "alias", "network", "port", "wait", "command", "timeout" };

    /// <summary>The manifest's text: a comment line, then one line per entry.</summary>
    public static string Write(IEnumerable<TestContainerManifestEntry> entries)
    {
        var text = new StringBuilder("# Containers.Testing: the test project's containers, written by the build. Do not edit.\n");
        foreach (var entry in entries)
        {
            text.Append(Escape(entry.Kind)).Append('\t').Append(Escape(entry.Name));
            foreach (var field in entry.Fields)
            {
                text.Append('\t').Append(Escape(field.Key)).Append('=').Append(Escape(field.Value));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The entries of a manifest's text; lines that are not entries are skipped.</summary>
    public static List<TestContainerManifestEntry> Read(string text)
    {
        var entries = new List<TestContainerManifestEntry>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var parts = line.Split('\t');
            if (parts.Length < 2)
            {
                continue;
            }

            var entry = new TestContainerManifestEntry(Unescape(parts[0]), Unescape(parts[1]));
            for (var i = 2; i < parts.Length; i++)
            {
                var equals = IndexOf(parts[i], '=');
                if (equals > 0)
                {
                    entry.Add(Unescape(parts[i].Substring(0, equals)), Unescape(parts[i].Substring(equals + 1)));
                }
            }

            entries.Add(entry);
        }

        return entries;
    }

    // A loop, not string.IndexOf(char): netstandard2.0 has no overload with a StringComparison, and net8.0's CA1307 wants one.
    private static int IndexOf(string text, char value)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == value)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Escape(string value)
    {
        var escaped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': escaped.Append("\\\\"); break;
                case '\t': escaped.Append("\\t"); break;
                case '\n': escaped.Append("\\n"); break;
                case '\r': escaped.Append("\\r"); break;
                default: escaped.Append(c); break;
            }
        }

        return escaped.ToString();
    }

    private static string Unescape(string value)
    {
        if (IndexOf(value, '\\') < 0)
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '\\' || i + 1 == value.Length)
            {
                text.Append(value[i]);
                continue;
            }

            i++;
            text.Append(value[i] switch
            {
                't' => '\t',
                'n' => '\n',
                'r' => '\r',
                _ => value[i],
            });
        }

        return text.ToString();
    }
}

/// <summary>One line of the manifest: a kind, a name, and fields in order (keys may repeat).</summary>
internal sealed class TestContainerManifestEntry
{
    private readonly List<KeyValuePair<string, string>> _fields = new List<KeyValuePair<string, string>>();

    public TestContainerManifestEntry(string kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    public string Kind { get; }

    public string Name { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    public TestContainerManifestEntry Add(string key, string value)
    {
        _fields.Add(new KeyValuePair<string, string>(key, value));
        return this;
    }

    /// <summary>Every value of <paramref name="key"/>, in order.</summary>
    public List<string> All(string key)
    {
        var values = new List<string>();
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, key, StringComparison.Ordinal))
            {
                values.Add(field.Value);
            }
        }

        return values;
    }

    /// <summary>The first value of <paramref name="key"/>, or null.</summary>
    public string? First(string key)
    {
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, key, StringComparison.Ordinal))
            {
                return field.Value;
            }
        }

        return null;
    }
}
