using Containers.Host.Lifecycle;

namespace Containers.Host;

/// <summary>
/// Containers.Host as a program, which the host starts itself with <c>dotnet exec</c> (never a user): the first argument
/// says what it is to do.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["--supervise", var directory] when OperatingSystem.IsLinux():
                return await ReuseSupervisor.RunAsync(directory).ConfigureAwait(false);
            default:
                await Console.Error.WriteLineAsync("Containers.Host starts this itself: --supervise <reused graph directory>.").ConfigureAwait(false);
                return 2;
        }
    }
}
