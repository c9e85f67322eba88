using System.Globalization;
using System.Text.RegularExpressions;

namespace Containers.Host.Readiness;

/// <summary>
/// The ports an ASP.NET Core app listens on, as it reads them: from its environment before it runs, and from Kestrel's
/// "Now listening on:" lines once it does.
/// </summary>
internal static partial class AspNetCorePorts
{
    /// <summary>The port the .NET base images' <c>ASPNETCORE_HTTP_PORTS</c> names.</summary>
    public const int BaseImageDefaultPort = 8080;

    /// <summary>The ports the variables name, and whether the app set them rather than the base image.</summary>
    /// <param name="Ports">In order: those of <c>ASPNETCORE_URLS</c> (which replaces the other two), else of <c>ASPNETCORE_HTTP_PORTS</c>, then <c>ASPNETCORE_HTTPS_PORTS</c>.</param>
    /// <param name="SetByApp">False when all there is is the .NET base images' <c>ASPNETCORE_HTTP_PORTS=8080</c> from the image.</param>
    public sealed record Listening(IReadOnlyList<int> Ports, bool SetByApp);

    /// <summary>What <paramref name="environment"/> (the app's whole environment) says; <paramref name="startEnvironment"/> is the part the start set.</summary>
    public static Listening From(IReadOnlyDictionary<string, string> environment, IReadOnlyDictionary<string, string>? startEnvironment)
    {
        if (environment.TryGetValue("ASPNETCORE_URLS", out var urls) && urls.Length > 0)
        {
            var fromUrls = Split(urls).Select(PortOfUrl).OfType<int>().Distinct().ToList();
            return new Listening(fromUrls, true);
        }

        var http = environment.GetValueOrDefault("ASPNETCORE_HTTP_PORTS") ?? "";
        var https = environment.GetValueOrDefault("ASPNETCORE_HTTPS_PORTS") ?? "";
        var ports = Split(http).Concat(Split(https))
            .Select(item => int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port : 0)
            .Where(port => port > 0)
            .Distinct()
            .ToList();
        var baseDefault = https.Length == 0 && http.Trim() == BaseImageDefaultPort.ToString(CultureInfo.InvariantCulture)
            && startEnvironment?.ContainsKey("ASPNETCORE_HTTP_PORTS") != true;
        return new Listening(ports, !baseDefault);
    }

    /// <summary>The port and URL of a Kestrel "Now listening on: http://[::]:8080" line; null for any other line.</summary>
    public static (int Port, string Url)? FromLogLine(string line)
    {
        var match = ListeningLine().Match(line);
        return match.Success && PortOfUrl(match.Groups["url"].Value) is { } port ? (port, match.Groups["url"].Value) : null;
    }

    // http://+:9090, http://*:9090, http://0.0.0.0:9090, http://[::]:9090, http://localhost:9090/ — the port after the host.
    private static int? PortOfUrl(string url)
    {
        var match = UrlPort().Match(url.Trim());
        return match.Success && int.TryParse(match.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port : null;
    }

    private static string[] Split(string list) => list.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*://(\[[^\]]*\]|[^/:\[\]]+):(?<port>\d{1,5})(/.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPort();

    [GeneratedRegex(@"Now listening on: (?<url>\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex ListeningLine();
}
