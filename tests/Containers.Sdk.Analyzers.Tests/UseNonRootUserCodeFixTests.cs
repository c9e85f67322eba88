using Containers.Sdk.Analyzers.CodeFixes;
using Containers.Sdk.Analyzers.Generators;
using Containers.Sdk.Analyzers.Rules;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Containers.Sdk.Analyzers.Tests;

[TestClass]
public sealed class UseNonRootUserCodeFixTests
{
    [TestMethod]
    [DataRow("root")]
    [DataRow("0")]
    [DataRow("root:root")]
    public async Task CSDK1005_fix_replaces_root_with_app(string user)
    {
        var test = new CSharpCodeFixTest<ContainerUserIsRootAnalyzer, UseNonRootUserCodeFix, DefaultVerifier>
        {
            TestCode = $"[assembly: Containers.Sdk.ContainerUser([|\"{user}\"|])] // runs the app",
            FixedCode = "[assembly: Containers.Sdk.ContainerUser(\"app\")] // runs the app",
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            // CSDK1005 has two descriptors (the attribute as you type, the property at compilation end); markup means the first.
            MarkupOptions = MarkupOptions.UseFirstDescriptor,
        };
        test.TestState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.FixedState.Sources.Add((ContainerAttributesSource.HintName, ContainerAttributesSource.Text));
        test.TestState.AdditionalReferences.AddRange(RuntimeReferences.All);
        test.FixedState.AdditionalReferences.AddRange(RuntimeReferences.All);
        await test.RunAsync(CancellationToken.None);
    }
}
