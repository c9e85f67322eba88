using System;
using System.Collections.Generic;
using System.Globalization;
using Containers.Sdk.Analyzers.Generators;
using Containers.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Containers.Sdk.Analyzers;

/// <summary>
/// Where an ASP.NET Core app's listening ports come from: calls in code (<c>app.Run(url)</c>,
/// <c>UseUrls</c>, Kestrel's <c>Listen*</c>) and the container environment (<c>ASPNETCORE_HTTP_PORTS</c>,
/// <c>ASPNETCORE_HTTPS_PORTS</c>, <c>ASPNETCORE_URLS</c>) set by attributes or MSBuild items.
/// </summary>
internal static class ListenPorts
{
    /// <summary>The port the .NET 8+ ASP.NET base images listen on (their <c>ASPNETCORE_HTTP_PORTS</c>) when nothing else is configured.</summary>
    public const int BaseImageDefaultPort = 8080;

    /// <summary>A listening port and where it is declared: an operation in code, an attribute argument, or (no location) an MSBuild item.</summary>
    public readonly struct Source
    {
        public Source(int port, Location location, string origin)
        {
            Port = port;
            Location = location;
            Origin = origin;
        }

        /// <summary>The port number.</summary>
        public int Port { get; }

        /// <summary>Where to report; <see cref="Location.None"/> for MSBuild items.</summary>
        public Location Location { get; }

        /// <summary>The setting's name for messages, e.g. <c>ContainerEnvironmentVariable 'ASPNETCORE_URLS'</c>.</summary>
        public string Origin { get; }
    }

    /// <summary>The ports an invocation makes the app listen on, with the operation that names each.</summary>
    public static IEnumerable<(int Port, IOperation At)> FromInvocation(IInvocationOperation invocation)
    {
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
                                yield return (port, value.Operation);
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
                        yield return (port, argument.Value);
                    }
                }

                break;
        }
    }

    /// <summary>The ports the container environment makes ASP.NET Core listen on: attributes first, then MSBuild items.</summary>
    public static List<Source> FromEnvironment(Compilation compilation, AnalyzerConfigOptions globalOptions)
    {
        var sources = new List<Source>();
        foreach (var attribute in AssemblyAttributes.OfType(compilation, ContainerAttributesSource.EnvironmentAttribute))
        {
            if (AssemblyAttributes.TryGetConstructorArgument(attribute, 0, out string? name)
                && AssemblyAttributes.TryGetConstructorArgument(attribute, 1, out string? value))
            {
                foreach (var port in FromVariable(name, value))
                {
                    sources.Add(new Source(port, AssemblyAttributes.ConstructorArgumentLocation(attribute, 1), $"ContainerEnvironment attribute '{name}'"));
                }
            }
        }

        foreach (var (name, value) in MSBuildEnvironment.Read(globalOptions))
        {
            foreach (var port in FromVariable(name, value))
            {
                sources.Add(new Source(port, Location.None, $"ContainerEnvironmentVariable '{name}'"));
            }
        }

        return sources;
    }

    /// <summary>The ports one environment variable makes Kestrel listen on; none for other variables.</summary>
    public static IEnumerable<int> FromVariable(string? name, string? value)
    {
        if (value is null)
        {
            yield break;
        }

        switch (name)
        {
            case "ASPNETCORE_HTTP_PORTS":
            case "ASPNETCORE_HTTPS_PORTS":
                foreach (var part in value.Split(';', ','))
                {
                    if (ContainerValueRules.TryParsePort(part.Trim(), out var port))
                    {
                        yield return port;
                    }
                }

                break;
            case "ASPNETCORE_URLS":
                foreach (var url in value.Split(';'))
                {
                    var trimmed = url.Trim();
                    if (TryGetUrlPort(trimmed, out var port))
                    {
                        yield return port;
                    }
                    else if (trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                    {
                        yield return 80;
                    }
                    else if (trimmed.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                    {
                        yield return 443;
                    }
                }

                break;
        }
    }

    /// <summary>True when the compilation is an ASP.NET Core app (it can reference Kestrel or WebApplication).</summary>
    public static bool IsAspNetCoreApp(Compilation compilation) =>
        compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Builder.WebApplication") is not null
        || compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions") is not null;

    /// <summary>The explicit port of a listen URL such as <c>http://+:5005</c> or <c>https://localhost:7001/</c>.</summary>
    public static bool TryGetUrlPort(string url, out int port)
    {
        port = 0;
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
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
}
