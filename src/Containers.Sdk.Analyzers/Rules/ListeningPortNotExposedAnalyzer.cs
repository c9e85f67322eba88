using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using Containers.Sdk.Analyzers.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1006: the app listens (<c>app.Run("http://+:5005")</c>, <c>UseUrls</c>, Kestrel's
/// <c>Listen</c>/<c>ListenAnyIP</c>/<c>ListenLocalhost</c>) on a port that no <c>ContainerPort</c>
/// attribute or item exposes. Only checked when the project declares at least one port, so an app
/// relying on the base image's defaults is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ListeningPortNotExposedAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ListeningPortNotExposed);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var exposed = new HashSet<int>();
            foreach (var attribute in AssemblyAttributes.OfType(start.Compilation, ContainerAttributesSource.PortAttribute))
            {
                if (AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out int port))
                {
                    exposed.Add(port);
                }
            }

            foreach (var (text, _) in MSBuildPorts.Read(start.Options.AnalyzerConfigOptionsProvider.GlobalOptions))
            {
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                {
                    exposed.Add(port);
                }
            }

            if (exposed.Count > 0)
            {
                start.RegisterOperationAction(operation => AnalyzeInvocation(operation, exposed), OperationKind.Invocation);
            }
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, HashSet<int> exposed)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        var typeName = method.ContainingType?.Name;
        switch (method.Name)
        {
            case "Run" when typeName == "WebApplication":
            case "UseUrls":
                foreach (var argument in invocation.Arguments)
                {
                    foreach (var value in StringValues(argument.Value))
                    {
                        foreach (var url in value.Text.Split(';'))
                        {
                            if (TryGetUrlPort(url, out var port))
                            {
                                Report(context, exposed, port, value.Operation);
                            }
                        }
                    }
                }

                break;
            case "ListenAnyIP" or "ListenLocalhost" or "Listen" when typeName == "KestrelServerOptions":
                foreach (var argument in invocation.Arguments)
                {
                    if (argument.Parameter?.Name == "port" && argument.Value.ConstantValue is { HasValue: true, Value: int port })
                    {
                        Report(context, exposed, port, argument.Value);
                    }
                }

                break;
        }
    }

    private static void Report(OperationAnalysisContext context, HashSet<int> exposed, int port, IOperation at)
    {
        if (!exposed.Contains(port))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.ListeningPortNotExposed,
                at.Syntax.GetLocation(),
                ImmutableDictionary<string, string?>.Empty.Add("Port", port.ToString(CultureInfo.InvariantCulture)),
                port));
        }
    }

    private static IEnumerable<(string Text, IOperation Operation)> StringValues(IOperation value)
    {
        if (value.ConstantValue is { HasValue: true, Value: string text })
        {
            yield return (text, value);
        }
        else if (value is IArrayCreationOperation { Initializer: { } initializer })
        {
            foreach (var element in initializer.ElementValues)
            {
                if (element.ConstantValue is { HasValue: true, Value: string elementText })
                {
                    yield return (elementText, element);
                }
            }
        }
    }

    /// <summary>The explicit port of a listen URL such as <c>http://+:5005</c> or <c>https://localhost:7001/</c>.</summary>
    internal static bool TryGetUrlPort(string url, out int port)
    {
        port = 0;
        var scheme = url.IndexOf("://", System.StringComparison.Ordinal);
        if (scheme < 0)
        {
            return false;
        }

        var authority = url.Substring(scheme + 3);
        var slash = authority.IndexOf('/');
        if (slash >= 0)
        {
            authority = authority.Substring(0, slash);
        }

        var colon = authority.LastIndexOf(':');
        return colon >= 0 && colon > authority.LastIndexOf(']')
            && int.TryParse(authority.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }
}
