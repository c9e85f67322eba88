using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Containers.Oci.Registry.Credentials;

namespace Containers.TestSupport;

/// <summary>How a <see cref="TestRegistry"/> authenticates clients.</summary>
public enum RegistryAuthMode
{
    /// <summary>No authentication: every request is allowed.</summary>
    Anonymous,

    /// <summary>htpasswd Basic auth (no per-repository access control).</summary>
    Basic,

    /// <summary>Bearer tokens from an in-process token server, with per-user pull/push rights.</summary>
    Token,
}

/// <summary>
/// A real distribution registry (<c>/usr/bin/docker-registry</c>, else <c>docker-registry</c> on PATH; Debian's package of distribution 2.8)
/// on a free 127.0.0.1 port, with its storage in a fresh temporary directory. Start one per test
/// (or per class) and dispose it: the process is killed and the directory deleted.
/// </summary>
/// <example>
/// <code>
/// await using var registry = await TestRegistry.StartAsync(RegistryAuthMode.Token);
/// var provider = new StaticCredentialProvider(registry.Credential);
/// // push to $"{registry.Host}/my/repo:tag" ...
/// </code>
/// </example>
public sealed class TestRegistry : IAsyncDisposable
{
    /// <summary>Every temporary directory starts with this; CI's cleanup kills <c>docker-registry serve /tmp/containers-sdk-registry-*</c>.</summary>
    public const string TemporaryDirectoryPrefix = "containers-sdk-registry-";

    private const string DefaultRegistryExecutable = "/usr/bin/docker-registry";
    private const int MaximumLogCharacters = 8 * 1024 * 1024;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
    private static readonly ConcurrentDictionary<TestRegistry, byte> Running = new();

    private readonly StringBuilder _log = new();
    private readonly string _temporaryDirectory;
    private readonly string _executable;
    private Process? _process;
    private TestTokenServer? _tokenServer;
    private int _disposed;

    static TestRegistry()
    {
        // A test host that exits without disposing (crash, Environment.Exit, aborted run) must still
        // not leave registries behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var registry in Running.Keys)
            {
                registry.StopNow();
            }
        };
    }

    private TestRegistry(RegistryAuthMode mode, string temporaryDirectory, string executable)
    {
        AuthMode = mode;
        _executable = executable;
        _temporaryDirectory = temporaryDirectory;
        StorageDirectory = Path.Combine(temporaryDirectory, "storage");
        var suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        Username = "pusher";
        Password = "push-secret-" + suffix;
        if (mode == RegistryAuthMode.Token)
        {
            ReadOnlyUsername = "puller";
            ReadOnlyPassword = "pull-secret-" + suffix;
        }
        else
        {
            ReadOnlyUsername = Username;
            ReadOnlyPassword = Password;
        }

        Credential = new RegistryCredential { Username = Username, Password = Password, Source = $"test registry ({mode}, user {Username})" };
        ReadOnlyCredential = new RegistryCredential { Username = ReadOnlyUsername, Password = ReadOnlyPassword, Source = $"test registry ({mode}, user {ReadOnlyUsername})" };
    }

    /// <summary>"127.0.0.1:&lt;port&gt;", the registry part of image references.</summary>
    public string Host { get; private set; } = "";

    /// <summary>How the registry authenticates clients.</summary>
    public RegistryAuthMode AuthMode { get; }

    /// <summary>A user with pull and push rights (ignored in <see cref="RegistryAuthMode.Anonymous"/> mode).</summary>
    public string Username { get; }

    /// <summary>Password of <see cref="Username"/>.</summary>
    public string Password { get; }

    /// <summary>In Token mode a user that may only pull; in Basic mode the same as <see cref="Username"/> (htpasswd has no ACL).</summary>
    public string ReadOnlyUsername { get; }

    /// <summary>Password of <see cref="ReadOnlyUsername"/>.</summary>
    public string ReadOnlyPassword { get; }

    /// <summary><see cref="Username"/> and <see cref="Password"/> as a credential.</summary>
    public RegistryCredential Credential { get; }

    /// <summary><see cref="ReadOnlyUsername"/> and <see cref="ReadOnlyPassword"/> as a credential.</summary>
    public RegistryCredential ReadOnlyCredential { get; }

    /// <summary>The registry's filesystem storage root (tests may corrupt blobs here).</summary>
    public string StorageDirectory { get; }

    /// <summary>Token mode: the URL of the token endpoint; otherwise null.</summary>
    public string? TokenRealm => _tokenServer?.Realm;

    /// <summary>Token mode: the <c>service</c> the registry names in its challenge.</summary>
    public string TokenService => TestTokenServer.Service;

    /// <summary>Token mode: how many access tokens the token server has issued.</summary>
    public int TokensIssued => _tokenServer?.TokensIssued ?? 0;

    /// <summary>Token mode: every scope requested from the token server, in order.</summary>
    public IReadOnlyList<string> RequestedScopes => _tokenServer?.RequestedScopes ?? [];

    /// <summary>The registry process id (to check that it is gone after dispose).</summary>
    public int ProcessId { get; private set; }

    /// <summary>The temporary directory holding config, htpasswd and storage; deleted on dispose.</summary>
    public string TemporaryDirectory => _temporaryDirectory;

    /// <summary>Starts a registry with the default token lifetime (5 minutes).</summary>
    public static Task<TestRegistry> StartAsync(RegistryAuthMode mode = RegistryAuthMode.Anonymous, CancellationToken cancellationToken = default) =>
        StartAsync(mode, TimeSpan.FromMinutes(5), cancellationToken);

    /// <summary>
    /// Starts a registry; in Token mode tokens expire after <paramref name="tokenLifetime"/> (their
    /// <c>expires_in</c> and <c>exp</c>). The registry itself allows about 60 seconds of clock leeway past <c>exp</c>.
    /// </summary>
    public static async Task<TestRegistry> StartAsync(RegistryAuthMode mode, TimeSpan tokenLifetime, CancellationToken cancellationToken = default)
    {
        var executable = File.Exists(DefaultRegistryExecutable) ? DefaultRegistryExecutable : TestTools.Require("docker-registry", "docker-registry");

        // Always under /tmp (not $TMPDIR): CI's cleanup looks for exactly this prefix.
        var temporaryRoot = Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
        var temporaryDirectory = Path.Combine(temporaryRoot, TemporaryDirectoryPrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
        Directory.CreateDirectory(temporaryDirectory);
        var registry = new TestRegistry(mode, temporaryDirectory, executable);
        Running[registry] = 0;
        try
        {
            await registry.StartCoreAsync(tokenLifetime, cancellationToken);
            return registry;
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    /// <summary>Everything the registry process printed so far (stdout and stderr, info level).</summary>
    public string ReadLog()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    /// <summary>Kills the registry, stops the token server and deletes the temporary directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Running.TryRemove(this, out _);
        if (_process is { } process)
        {
            TestTools.KillQuietly(process);
            process.Dispose();
        }

        if (_tokenServer is { } tokenServer)
        {
            await tokenServer.DisposeAsync();
        }

        DeleteTemporaryDirectory();
    }

    private void StopNow()
    {
        if (_process is { } process)
        {
            TestTools.KillQuietly(process);
        }

        DeleteTemporaryDirectory();
    }

    private void DeleteTemporaryDirectory()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(_temporaryDirectory))
                {
                    Directory.Delete(_temporaryDirectory, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 3)
            {
                // A just-killed registry may still be finishing a write into storage.
                Thread.Sleep(100);
            }
        }
    }

    private async Task StartCoreAsync(TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(StorageDirectory);
        var authSection = AuthMode switch
        {
            RegistryAuthMode.Anonymous => "",
            RegistryAuthMode.Basic => await WriteHtpasswdAsync(cancellationToken),
            RegistryAuthMode.Token => await StartTokenServerAsync(tokenLifetime, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(AuthMode), AuthMode, "unknown auth mode"),
        };

        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            var port = FindFreePort();
            Host = $"127.0.0.1:{port}";
            var configPath = Path.Combine(_temporaryDirectory, "config.yml");
            await File.WriteAllTextAsync(configPath, CreateConfig(port, authSection), cancellationToken);
            StartProcess(configPath);
            var outcome = await WaitUntilReadyAsync(cancellationToken);
            if (outcome == StartOutcome.Ready)
            {
                return;
            }

            if (outcome == StartOutcome.PortTaken && attempt < attempts)
            {
                // Another process bound the port between our probe and the registry's bind: try another.
                _process!.Dispose();
                _process = null;
                AppendLog($"--- port {port} was taken, retrying on another port ---");
                continue;
            }

            throw new InvalidOperationException(
                $"The test registry ({_executable} serve {configPath}) did not start on {Host}: {outcome}.{Environment.NewLine}--- registry log ---{Environment.NewLine}{ReadLog()}");
        }
    }

    private string CreateConfig(int port, string authSection)
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        return $"""
            version: 0.1
            log:
              level: info
              formatter: text
            storage:
              filesystem:
                rootdirectory: {StorageDirectory}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{port}
              secret: {secret}
            {authSection}
            """;
    }

    private async Task<string> WriteHtpasswdAsync(CancellationToken cancellationToken)
    {
        var htpasswd = TestTools.Require("htpasswd", "apache2-utils");
        var entry = await TestTools.RunCheckedAsync(htpasswd, ["-Bbn", Username, Password], cancellationToken: cancellationToken);
        var path = Path.Combine(_temporaryDirectory, "htpasswd");
        await File.WriteAllTextAsync(path, entry.StandardOutput.Trim() + "\n", cancellationToken);
        return $"""
            auth:
              htpasswd:
                realm: test-registry
                path: {path}
            """;
    }

    private async Task<string> StartTokenServerAsync(TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        _tokenServer = await TestTokenServer.StartAsync(Username, Password, ReadOnlyUsername, ReadOnlyPassword, tokenLifetime, cancellationToken);
        var bundle = Path.Combine(_temporaryDirectory, "token-signer.pem");
        await File.WriteAllTextAsync(bundle, _tokenServer.CertificatePem, cancellationToken);
        return $"""
            auth:
              token:
                realm: {_tokenServer.Realm}
                service: {TestTokenServer.Service}
                issuer: {TestTokenServer.Issuer}
                rootcertbundle: {bundle}
            """;
    }

    private void StartProcess(string configPath)
    {
        var startInfo = new ProcessStartInfo(_executable)
        {
            ArgumentList = { "serve", configPath },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _temporaryDirectory,
        };
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { AppendLog(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { AppendLog(e.Data); } };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        ProcessId = process.Id;
    }

    private void AppendLog(string line)
    {
        lock (_log)
        {
            // Keep the tail: a long test pushing many blobs writes a lot of access log lines.
            if (_log.Length > MaximumLogCharacters)
            {
                _log.Remove(0, _log.Length - (MaximumLogCharacters / 2));
            }

            _log.AppendLine(line);
        }
    }

    private enum StartOutcome { Ready, PortTaken, Exited, TimedOut }

    private async Task<StartOutcome> WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartupTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process!.HasExited)
            {
                _process.WaitForExit();
                return ReadLog().Contains("address already in use", StringComparison.Ordinal) ? StartOutcome.PortTaken : StartOutcome.Exited;
            }

            try
            {
                using var response = await client.GetAsync($"http://{Host}/v2/", cancellationToken);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return StartOutcome.Ready;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The per-request timeout; try again.
            }

            await Task.Delay(50, cancellationToken);
        }

        return StartOutcome.TimedOut;
    }

    private static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
