using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1012 (info): an ASP.NET Core app exposes a TCP port that nothing makes it listen on. The listening
/// ports are those named in code and in the container environment (see <see cref="ListenPorts"/>); with
/// none, the app listens where the .NET base images tell it to, port 8080. Ports configured elsewhere
/// (appsettings.json, the command line) are invisible to the compiler, hence info rather than warning.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ExposedPortNotListenedAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.ExposedPortNotListened);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            if (!ListenPorts.IsAspNetCoreApp(start.Compilation))
            {
                return;
            }

            var inCode = new ConcurrentDictionary<int, bool>();
            start.RegisterOperationAction(
                operation =>
                {
                    foreach (var (port, _) in ListenPorts.FromInvocation((IInvocationOperation)operation.Operation))
                    {
                        inCode.TryAdd(port, true);
                    }
                },
                OperationKind.Invocation);

            start.RegisterCompilationEndAction(end =>
            {
                var globalOptions = end.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
                var listened = new SortedSet<int>(inCode.Keys);
                listened.UnionWith(ListenPorts.FromEnvironment(end.Compilation, globalOptions).Select(source => source.Port));
                var listenedText = listened.Count == 0
                    ? $"{ListenPorts.BaseImageDefaultPort} (the .NET base images' ASPNETCORE_HTTP_PORTS, as nothing else is configured)"
                    : string.Join(", ", listened.Select(port => port.ToString(CultureInfo.InvariantCulture)));
                if (listened.Count == 0)
                {
                    listened.Add(ListenPorts.BaseImageDefaultPort);
                }

                foreach (var attribute in AssemblyAttributes.OfType(end.Compilation, ContainerAttributesSource.PortAttribute))
                {
                    if (AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out int port)
                        && (AssemblyAttributes.NamedString(attribute, "Protocol", "tcp") ?? "tcp") == "tcp"
                        && ContainerValueRules.IsValidPort(port)
                        && !listened.Contains(port))
                    {
                        end.ReportDiagnostic(Diagnostic.Create(
                            Descriptors.ExposedPortNotListened, AssemblyAttributes.ConstructorArgumentLocation(attribute, 0), "ContainerPort attribute", port, listenedText));
                    }
                }

                foreach (var (text, protocol) in MSBuildPorts.Read(globalOptions))
                {
                    if (protocol == "tcp" && ContainerValueRules.TryParsePort(text, out var port) && !listened.Contains(port))
                    {
                        end.ReportDiagnostic(Diagnostic.Create(Descriptors.ExposedPortNotListened, Location.None, "ContainerPort item", port, listenedText));
                    }
                }
            });
        });
    }
}
