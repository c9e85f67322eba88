namespace Containers.Host;

/// <summary>
/// Containers.Host as a program, which the host starts itself with <c>dotnet exec</c> (never a user): the first argument
/// names the role — the supervisor of a reused graph, or the rootless port forwarder.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (await HostHelperProcesses.RunIfHelperAsync(args).ConfigureAwait(false) is { } exitCode)
        {
            return exitCode;
        }

        await Console.Error.WriteLineAsync($"Containers.Host starts this itself: {HostHelperProcesses.SupervisorArgument} <reused graph directory>, or {Networking.RootlessForwarder.Argument} <socket name> [<directory it belongs to>].").ConfigureAwait(false);
        return 2;
    }
}
