using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Containers.Sdk.Analyzers.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Containers.Sdk.Analyzers.Generators;

public sealed partial class ContainerSettingsGenerator
{
    /// <summary>Turns attributes and MSBuild properties into models, and merges them.</summary>
    internal static class Parser
    {
        /// <summary>Every MSBuild property the package must expose to the compiler (CompilerVisibleProperty), for the generator and the analyzers.</summary>
        public static readonly ImmutableArray<string> VisibleProperties = ImmutableArray.Create(
            "ContainerRegistry", "ContainerRepository", "ContainerImageTag", "ContainerImageTagsForAnalyzers", "ContainerUser", "ContainerWorkingDirectory",
            MSBuildPorts.PropertyName, MSBuildEnvironment.PropertyName, "ContainerBaseImage");

        /// <summary>Reads container attributes of the assembly (those of one kind, in one file, from the pipeline).</summary>
        public static ContainerConfigModel ParseAttributes(ImmutableArray<AttributeData> attributes, CancellationToken cancellationToken)
        {
            var ports = ImmutableArray.CreateBuilder<PortModel>();
            var environment = ImmutableArray.CreateBuilder<NameValueModel>();
            var labels = ImmutableArray.CreateBuilder<NameValueModel>();
            string? user = null;
            string? workingDirectory = null;
            HealthCheckModel? healthCheck = null;
            foreach (var attribute in attributes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var args = attribute.ConstructorArguments;
                switch (attribute.AttributeClass?.ToDisplayString())
                {
                    case ContainerAttributesSource.PortAttribute when args.Length == 1 && args[0].Value is int port:
                        AddPort(ports, new PortModel(port, Named(attribute, "Protocol") as string ?? "tcp"));
                        break;
                    case ContainerAttributesSource.EnvironmentAttribute when args.Length == 2 && args[0].Value is string name:
                        environment.Add(new NameValueModel(name, args[1].Value as string ?? string.Empty));
                        break;
                    case ContainerAttributesSource.LabelAttribute when args.Length == 2 && args[0].Value is string key:
                        labels.Add(new NameValueModel(key, args[1].Value as string ?? string.Empty));
                        break;
                    case ContainerAttributesSource.UserAttribute when args.Length == 1 && args[0].Value is string value:
                        user = value;
                        break;
                    case ContainerAttributesSource.WorkingDirectoryAttribute when args.Length == 1 && args[0].Value is string path:
                        workingDirectory = path;
                        break;
                    case ContainerAttributesSource.HealthCheckAttribute when args.Length == 1 && args[0].Value is string path:
                        healthCheck = new HealthCheckModel(
                            path,
                            Named(attribute, "Port") as int? ?? 0,
                            Named(attribute, "IntervalSeconds") as int? ?? 30,
                            Named(attribute, "TimeoutSeconds") as int? ?? 5,
                            Named(attribute, "Retries") as int? ?? 3);
                        break;
                }
            }

            return new ContainerConfigModel(
                new(ports.ToImmutable()), new(environment.ToImmutable()), new(labels.ToImmutable()), user, workingDirectory, healthCheck);
        }

        /// <summary>
        /// Joins what each kind of attribute declares (each array in file order) into the settings declared in code:
        /// lists in order, ports once each, and for a single-valued attribute the last one.
        /// </summary>
        public static ContainerConfigModel Combine(params ImmutableArray<ContainerConfigModel>[] byKind)
        {
            var ports = ImmutableArray.CreateBuilder<PortModel>();
            var environment = ImmutableArray.CreateBuilder<NameValueModel>();
            var labels = ImmutableArray.CreateBuilder<NameValueModel>();
            string? user = null;
            string? workingDirectory = null;
            HealthCheckModel? healthCheck = null;
            foreach (var declared in byKind.SelectMany(static models => models))
            {
                foreach (var port in declared.Ports)
                {
                    AddPort(ports, port);
                }

                environment.AddRange(declared.Environment);
                labels.AddRange(declared.Labels);
                user = declared.User ?? user;
                workingDirectory = declared.WorkingDirectory ?? workingDirectory;
                healthCheck = declared.HealthCheck ?? healthCheck;
            }

            return new ContainerConfigModel(
                new(ports.ToImmutable()), new(environment.ToImmutable()), new(labels.ToImmutable()), user, workingDirectory, healthCheck);
        }

        /// <summary>Reads the MSBuild properties exposed as <c>build_property.*</c>.</summary>
        public static ContainerConfigModel ParseMSBuild(AnalyzerConfigOptions options)
        {
            var ports = ImmutableArray.CreateBuilder<PortModel>();
            foreach (var (number, protocol) in MSBuildPorts.Read(options))
            {
                if (int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                {
                    AddPort(ports, new PortModel(port, protocol));
                }
            }

            var environment = ImmutableArray.CreateBuilder<NameValueModel>();
            foreach (var (name, value) in MSBuildEnvironment.Read(options))
            {
                environment.Add(new NameValueModel(name, value));
            }

            return new ContainerConfigModel(
                new(ports.ToImmutable()), new(environment.ToImmutable()), default,
                Property(options, "ContainerUser"), Property(options, "ContainerWorkingDirectory"), null);
        }

        /// <summary>
        /// Merges: an MSBuild property (project file or command line) overrides the attribute, so a
        /// deployment can change a setting without a code change; ports are the union, MSBuild's first;
        /// an environment variable set by a ContainerEnvironmentVariable item overrides the attribute of
        /// the same name. The publish tasks apply the same precedence (ContainerSettingsResolver).
        /// </summary>
        public static ContainerConfigModel Merge(ContainerConfigModel code, ContainerConfigModel msbuild)
        {
            var ports = ImmutableArray.CreateBuilder<PortModel>();
            foreach (var port in msbuild.Ports)
            {
                AddPort(ports, port);
            }

            foreach (var port in code.Ports)
            {
                AddPort(ports, port);
            }

            return new ContainerConfigModel(
                new(ports.ToImmutable()),
                MergeEnvironment(code.Environment, msbuild.Environment),
                code.Labels,
                msbuild.User ?? code.User,
                msbuild.WorkingDirectory ?? code.WorkingDirectory,
                code.HealthCheck);
        }

        private static EquatableArray<NameValueModel> MergeEnvironment(EquatableArray<NameValueModel> code, EquatableArray<NameValueModel> msbuild)
        {
            if (msbuild.Count == 0)
            {
                return code;
            }

            var merged = new List<NameValueModel>();
            foreach (var variable in code)
            {
                merged.RemoveAll(existing => existing.Name == variable.Name);
                merged.Add(variable);
            }

            foreach (var variable in msbuild)
            {
                merged.RemoveAll(existing => existing.Name == variable.Name);
                merged.Add(variable);
            }

            return new(merged.ToImmutableArray());
        }

        private static void AddPort(ImmutableArray<PortModel>.Builder ports, PortModel port)
        {
            if (!ports.Contains(port))
            {
                ports.Add(port);
            }
        }

        private static object? Named(AttributeData attribute, string name)
        {
            foreach (var pair in attribute.NamedArguments)
            {
                if (pair.Key == name)
                {
                    return pair.Value.Value;
                }
            }

            return null;
        }

        private static string? Property(AnalyzerConfigOptions options, string name) =>
            options.TryGetValue("build_property." + name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
    }
}
