using System.Text;
using Containers.Oci.Registry.Credentials;
using Containers.Shared;

namespace Containers.Oci.Tests.Credentials;

/// <summary>
/// A throw-away home directory with docker and containers config locations and a bin directory for
/// fake credential helpers, exposed through <see cref="CredentialProviderOptions"/> so no test touches
/// the real process environment or the real ~/.docker.
/// </summary>
internal sealed class CredentialSandbox : IDisposable
{
    public CredentialSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "containers-sdk-creds-" + Guid.NewGuid().ToString("N"));
        Home = Path.Combine(Root, "home");
        BinDirectory = Path.Combine(Root, "bin");
        Directory.CreateDirectory(Home);
        Directory.CreateDirectory(BinDirectory);
        Environment["HOME"] = Home;
        Environment["PATH"] = BinDirectory + ":/usr/bin:/bin";
    }

    public string Root { get; }

    public string Home { get; }

    public string BinDirectory { get; }

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string DefaultDockerConfigPath => Path.Combine(Home, ".docker", "config.json");

    public string DefaultContainersAuthPath => Path.Combine(Home, ".config", "containers", "auth.json");

    public static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    public string WriteFile(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public string WriteDockerConfig(string json) => WriteFile(DefaultDockerConfigPath, json);

    public string WriteContainersAuth(string json) => WriteFile(DefaultContainersAuthPath, json);

    /// <summary>
    /// Writes bin/docker-credential-&lt;name&gt;: a bash script that records each call (its stdin) in
    /// &lt;name&gt;.calls and then runs <paramref name="body"/>.
    /// </summary>
    public string WriteHelper(string name, string body)
    {
        var path = Path.Combine(BinDirectory, "docker-credential-" + name);
        var callLog = CallLogPath(name);
        File.WriteAllText(path, $"#!/bin/bash\nif [ \"$1\" != get ]; then echo \"unexpected action $1\" >&2; exit 2; fi\nread -r server\necho \"$server\" >> '{callLog}'\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    public string CallLogPath(string helperName) => Path.Combine(Root, helperName + ".calls");

    public string[] HelperCalls(string helperName) =>
        File.Exists(CallLogPath(helperName)) ? File.ReadAllLines(CallLogPath(helperName)) : [];

    public ConfiguredCredentialProvider CreateProvider(string? destination = null, string? source = null, TimeSpan? helperTimeout = null) =>
        new(new CredentialProviderOptions
        {
            DestinationRegistry = destination,
            DestinationVariables = DotnetCredentialVariables.Push,
            SourceRegistry = source,
            SourceVariables = DotnetCredentialVariables.Pull,
            EnvironmentVariables = Environment,
            CredentialHelperTimeout = helperTimeout ?? TimeSpan.FromSeconds(30),
        });

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
