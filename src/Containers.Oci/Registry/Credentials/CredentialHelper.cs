using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Containers.Oci.Registry.Credentials;

/// <summary>
/// Runs a docker credential helper (<c>docker-credential-&lt;name&gt; get</c>, the server URL on
/// standard input, JSON <c>{"ServerURL","Username","Secret"}</c> on standard output), as docker does.
/// </summary>
internal static class CredentialHelper
{
    private const string IdentityTokenUsername = "<token>";

    /// <summary>Returns the credential, or null when the helper has none for this server.</summary>
    public static async Task<RegistryCredential?> GetAsync(
        string helperName, string registry, string source, CredentialProviderOptions options, CancellationToken cancellationToken)
    {
        var executableName = "docker-credential-" + helperName;
        var executable = FindExecutable(executableName, options.GetVariable("PATH"));
        if (executable is null)
        {
            throw new RegistryCredentialException(registry, source,
                $"Cannot get credentials for registry '{registry}' from {source}: the credential helper '{executableName}' was not found on PATH. "
                + $"Install {executableName}, or remove the entry that names '{helperName}' from the configuration file.")
            { HelperExecutable = executableName };
        }

        var startInfo = new ProcessStartInfo(executable)
        {
            ArgumentList = { "get" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (options.EnvironmentVariables is { } environment)
        {
            foreach (var (name, value) in environment)
            {
                startInfo.Environment[name] = value;
            }
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new RegistryCredentialException(registry, source,
                $"Cannot get credentials for registry '{registry}' from {source}: the credential helper '{executable}' could not be started ({exception.Message}). "
                + "Check that it is executable, or remove the entry from the configuration file.", exception)
            { HelperExecutable = executable };
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CredentialHelperTimeout);
        string output;
        string error;
        try
        {
            var standardOutput = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var standardError = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.StandardInput.WriteAsync(HelperServerUrlLine(registry)).ConfigureAwait(false);
            process.StandardInput.Close();
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            output = await standardOutput.ConfigureAwait(false);
            error = await standardError.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            throw new RegistryCredentialException(registry, source,
                $"Cannot get credentials for registry '{registry}' from {source}: the credential helper '{executable}' did not answer within "
                + $"{options.CredentialHelperTimeout.TotalSeconds:0} seconds (it may be waiting for a keychain prompt). Run `echo {RegistryHostNames.HelperServerUrl(registry)} | {executableName} get` to check it.")
            { HelperExecutable = executable };
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
        catch (IOException exception)
        {
            // The helper exited before reading standard input.
            Kill(process);
            throw new RegistryCredentialException(registry, source,
                $"Cannot get credentials for registry '{registry}' from {source}: the credential helper '{executable}' failed ({exception.Message}).", exception)
            { HelperExecutable = executable };
        }

        if (process.ExitCode != 0)
        {
            // Docker's helpers report a missing entry this way; it means "no credentials", not an error.
            if (output.Contains("credentials not found", StringComparison.OrdinalIgnoreCase)
                || error.Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            throw new RegistryCredentialException(registry, source,
                $"Cannot get credentials for registry '{registry}' from {source}: the credential helper '{executable}' exited with code {process.ExitCode}"
                + $"{Describe(error, output)}. Fix the helper's setup (log in again with it), or remove the entry from the configuration file.")
            { HelperExecutable = executable };
        }

        CredentialHelperResponse? response;
        try
        {
            response = JsonSerializer.Deserialize(output, CredentialJsonContext.Default.CredentialHelperResponse);
        }
        catch (JsonException exception)
        {
            // The output may hold a secret, so the message only says where parsing stopped.
            throw new RegistryCredentialException(registry, source,
                $"Cannot get credentials for registry '{registry}' from {source}: the credential helper '{executable}' printed output that is not the expected JSON "
                + $"{{\"Username\": ..., \"Secret\": ...}} (invalid at line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}). Update or reinstall the helper.", exception)
            { HelperExecutable = executable };
        }

        if (response is null || string.IsNullOrEmpty(response.Secret))
        {
            return null;
        }

        return response.Username == IdentityTokenUsername
            ? new RegistryCredential { IdentityToken = response.Secret, Source = source }
            : new RegistryCredential { Username = response.Username, Password = response.Secret, Source = source };
    }

    private static string HelperServerUrlLine(string registry) => RegistryHostNames.HelperServerUrl(registry) + "\n";

    private static string Describe(string error, string output)
    {
        // A failing helper prints its reason; keep the first line, short, in case anything else follows.
        var text = (string.IsNullOrWhiteSpace(error) ? output : error).Trim();
        if (text.Length == 0)
        {
            return "";
        }

        var firstLine = text.Split('\n')[0].Trim();
        return ": " + (firstLine.Length > 200 ? firstLine[..200] + "..." : firstLine);
    }

    private static string? FindExecutable(string name, string? path) => Containers.Shared.PathSearch.FindIn(path ?? "", name);

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Already exited (reported by the OS).
        }
    }
}
