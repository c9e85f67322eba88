using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Containers.Sdk.Analyzers.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Containers.Sdk.Analyzers.Rules;

/// <summary>
/// CSDK1007: <c>[assembly: ContainerHealthCheck("/healthz")]</c> while no <c>MapGet</c>, <c>Map</c> or
/// <c>MapHealthChecks</c> call maps that literal path. Silent when any such call's pattern is not a
/// constant, since the path may be mapped there.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HealthCheckPathNotMappedAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(Descriptors.HealthCheckPathNotMapped);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var healthCheck = AssemblyAttributes.OfType(start.Compilation, ContainerAttributesSource.HealthCheckAttribute).FirstOrDefault();
            if (healthCheck is null || !AssemblyAttributes.TryGetConstructorArgument(healthCheck, 0, out string? path) || path is null)
            {
                return;
            }

            var mapped = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var sawDynamicPattern = 0;
            start.RegisterOperationAction(
                operation =>
                {
                    var invocation = (IInvocationOperation)operation.Operation;
                    if (invocation.TargetMethod.Name is not ("MapGet" or "Map" or "MapHealthChecks"))
                    {
                        return;
                    }

                    var pattern = invocation.Arguments.FirstOrDefault(argument => argument.Parameter?.Name == "pattern");
                    if (pattern is null)
                    {
                        return;
                    }

                    if (pattern.Value.ConstantValue is { HasValue: true, Value: string text })
                    {
                        mapped[Normalize(text)] = true;
                    }
                    else
                    {
                        System.Threading.Interlocked.Exchange(ref sawDynamicPattern, 1);
                    }
                },
                OperationKind.Invocation);
            start.RegisterCompilationEndAction(end =>
            {
                if (sawDynamicPattern == 0 && !mapped.ContainsKey(Normalize(path)))
                {
                    end.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.HealthCheckPathNotMapped, AssemblyAttributes.ConstructorArgumentLocation(healthCheck, 0), path));
                }
            });
        });
    }

    private static string Normalize(string path) => "/" + path.Trim().Trim('/');
}
