using System.Collections.Generic;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers;

/// <summary>
/// The <c>ContainerPort</c> items as the package's targets pass them to the compiler: the property
/// <c>ContainerPortsForAnalyzers</c> = <c>@(ContainerPort->'%(Identity)/%(Type)', ',')</c>, e.g. <c>8080/tcp,53/</c>.
/// Comma-separated because the compiler's analyzer config format ends a value at <c>;</c> or <c>#</c> (a comment).
/// </summary>
internal static class MSBuildPorts
{
    /// <summary>The property the package exposes with CompilerVisibleProperty.</summary>
    public const string PropertyName = "ContainerPortsForAnalyzers";

    /// <summary>Each item's port text and protocol (tcp when its Type metadata is empty).</summary>
    public static IEnumerable<(string Port, string Protocol)> Read(AnalyzerConfigOptions globalOptions)
    {
        if (!globalOptions.TryGetValue("build_property." + PropertyName, out var joined))
        {
            yield break;
        }

        foreach (var entry in joined.Split(','))
        {
            var trimmed = entry.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }

            var slash = trimmed.IndexOf('/');
            var port = slash < 0 ? trimmed : trimmed.Substring(0, slash);
            var protocol = slash < 0 || slash == trimmed.Length - 1 ? "tcp" : trimmed.Substring(slash + 1);
            yield return (port, protocol);
        }
    }
}
