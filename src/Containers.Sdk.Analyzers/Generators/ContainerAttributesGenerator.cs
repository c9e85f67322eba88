using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Containers.Sdk.Analyzers.Generators;

/// <summary>Adds the container settings attributes (<c>Containers.Sdk.ContainerPortAttribute</c> etc.) to the compilation.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class ContainerAttributesGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context) =>
        context.RegisterPostInitializationOutput(static output =>
            output.AddSource(ContainerAttributesSource.HintName, SourceText.From(ContainerAttributesSource.Text, Encoding.UTF8)));
}
