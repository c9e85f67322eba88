using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1006: the app listens on a port that no <c>ContainerPort</c> attribute or item exposes — found in
/// code (<c>app.Run("http://+:5005")</c>, <c>UseUrls</c>, Kestrel's <c>Listen</c>/<c>ListenAnyIP</c>/
/// <c>ListenLocalhost</c>), reported at the call's argument as you type, and in the container environment
/// (<c>ASPNETCORE_HTTP_PORTS</c>, <c>ASPNETCORE_HTTPS_PORTS</c>, <c>ASPNETCORE_URLS</c> from a
/// <c>ContainerEnvironment</c> attribute or a <c>ContainerEnvironmentVariable</c> item), reported when the
/// compilation is analyzed as a whole. Only checked when the project declares at least one port (valid or not), so an
/// app relying on the base image's defaults is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ListeningPortNotExposedAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.ListeningPortNotExposed, Descriptors.ListeningPortNotExposedByEnvironment, Descriptors.ListeningPortNotExposedByEnvironmentAttribute);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var globalOptions = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
            // Checked when the project declares a port, valid or not: an invalid one (CSDK1001) is a finding of its
            // own and must not hide this one until it is fixed. Every finding shows in one build.
            if (!DeclaresPorts(start.Compilation, globalOptions))
            {
                return;
            }

            var exposed = ExposedPorts(start.Compilation, globalOptions);

            start.RegisterOperationAction(
                operation =>
                {
                    foreach (var (port, at) in ListenPorts.FromInvocation((IInvocationOperation)operation.Operation))
                    {
                        if (!exposed.Contains(port))
                        {
                            operation.ReportDiagnostic(Diagnostic.Create(Descriptors.ListeningPortNotExposed, at.Syntax.GetLocation(), PortProperty(port), port));
                        }
                    }
                },
                OperationKind.Invocation);

            // A ContainerEnvironment attribute is reported as you type, at its value, so the code fix can add the port.
            var environmentAttribute = start.Compilation.GetTypeByMetadataName(ContainerAttributesSource.EnvironmentAttribute);
            if (environmentAttribute is not null)
            {
                start.RegisterSyntaxNodeAction(
                    node => AnalyzeEnvironmentAttribute(node, environmentAttribute, exposed),
                    SyntaxKind.Attribute);
            }

            // ContainerEnvironmentVariable items have no place in source: reported once, for the compilation.
            start.RegisterCompilationEndAction(end =>
            {
                foreach (var (name, value) in MSBuildEnvironment.Read(globalOptions))
                {
                    foreach (var port in ListenPorts.FromVariable(name, value))
                    {
                        if (!exposed.Contains(port))
                        {
                            end.ReportDiagnostic(Diagnostic.Create(
                                Descriptors.ListeningPortNotExposedByEnvironment, Location.None, PortProperty(port), $"ContainerEnvironmentVariable '{name}'", port));
                        }
                    }
                }
            });
        });
    }

    private static void AnalyzeEnvironmentAttribute(SyntaxNodeAnalysisContext context, INamedTypeSymbol environmentAttribute, HashSet<int> exposed)
    {
        var attribute = (AttributeSyntax)context.Node;
        if (attribute.ArgumentList is not { Arguments.Count: >= 2 } arguments
            || context.SemanticModel.GetSymbolInfo(attribute, context.CancellationToken).Symbol is not IMethodSymbol constructor
            || !SymbolEqualityComparer.Default.Equals(constructor.ContainingType, environmentAttribute))
        {
            return;
        }

        var valueExpression = arguments.Arguments[1].Expression;
        if (context.SemanticModel.GetConstantValue(arguments.Arguments[0].Expression, context.CancellationToken) is not { HasValue: true, Value: string name }
            || context.SemanticModel.GetConstantValue(valueExpression, context.CancellationToken) is not { HasValue: true, Value: string value })
        {
            return;
        }

        foreach (var port in ListenPorts.FromVariable(name, value))
        {
            if (!exposed.Contains(port))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.ListeningPortNotExposedByEnvironmentAttribute, valueExpression.GetLocation(), PortProperty(port), $"ContainerEnvironment attribute '{name}'", port));
            }
        }
    }

    /// <summary>The explicit port of a listen URL such as <c>http://+:5005</c> or <c>https://localhost:7001/</c>.</summary>
    internal static bool TryGetUrlPort(string url, out int port) => ListenPorts.TryGetUrlPort(url, out port);

    private static bool DeclaresPorts(Compilation compilation, AnalyzerConfigOptions globalOptions) =>
        AssemblyAttributes.OfType(compilation, ContainerAttributesSource.PortAttribute).Any() || MSBuildPorts.Read(globalOptions).Any();

    private static HashSet<int> ExposedPorts(Compilation compilation, AnalyzerConfigOptions globalOptions)
    {
        var exposed = new HashSet<int>();
        foreach (var attribute in AssemblyAttributes.OfType(compilation, ContainerAttributesSource.PortAttribute))
        {
            if (AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out int port))
            {
                exposed.Add(port);
            }
        }

        foreach (var (text, _) in MSBuildPorts.Read(globalOptions))
        {
            if (ContainerValueRules.TryParsePort(text, out var port))
            {
                exposed.Add(port);
            }
        }

        return exposed;
    }

    // The code fix reads the port from here rather than parsing the message.
    private static ImmutableDictionary<string, string?> PortProperty(int port) =>
        ImmutableDictionary<string, string?>.Empty.Add("Port", port.ToString(CultureInfo.InvariantCulture));
}
