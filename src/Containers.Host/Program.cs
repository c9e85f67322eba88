using Containers.Host.Lifecycle;

namespace Containers.Host;

/// <summary>
/// Containers.Host as a program, which the host starts itself with <c>dotnet exec</c> (never a user): the first argument
/// names the role — the supervisor of a reused graph, or the rootless port forwarder.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["--supervise", var directory] when OperatingSystem.IsLinux():
                return await ReuseSupervisor.RunAsync(directory).ConfigureAwait(false);
            case [Networking.RootlessForwarder.Argument, _, ..]:
                return Networking.RootlessForwarder.Serve(args[1]);
            default:
                await Console.Error.WriteLineAsync($"Containers.Host starts this itself: --supervise <reused graph directory>, or {Networking.RootlessForwarder.Argument} <socket name> [<directory it belongs to>].").ConfigureAwait(false);
                return 2;
        }
    }
}
