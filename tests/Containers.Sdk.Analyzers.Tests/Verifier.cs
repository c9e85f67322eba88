using System.Collections.Immutable;
using Containers.Sdk.Analyzers.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

/// <summary>Runs an analyzer on a source with <c>[|...|]</c> markup, with the generated attributes added.</summary>
internal static class Verifier<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task VerifyAsync(string source) => VerifyAsync(source, msbuildProperties: null);

    /// <summary>Runs with MSBuild properties (as the package's CompilerVisibleProperty passes them) and extra expected diagnostics.</summary>
    public static async Task VerifyAsync(string source, IReadOnlyDictionary<string, string>? msbuildProperties, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            // Offline: compile against the running runtime's assemblies instead of downloading a reference pack.
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            // CSDK1006 has two descriptors (as you type, and at compilation end); markup means the first.
            MarkupOptions = MarkupOptions.UseFirstDescriptor,
        };
        test.TestState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.TestState.AdditionalReferences.AddRange(RuntimeReferences.All);
        if (msbuildProperties is not null)
        {
            test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig",
                "is_global = true\n" + string.Concat(msbuildProperties.Select(pair => $"build_property.{pair.Key} = {pair.Value}\n"))));
        }

        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync(CancellationToken.None);
    }
}

/// <summary>Metadata references to the assemblies of the running runtime.</summary>
internal static class RuntimeReferences
{
    public static readonly ImmutableArray<MetadataReference> All =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
}
