namespace Containers.Host;

/// <summary>
/// The entry point when Containers.Host.dll runs as a helper process of the host (<c>dotnet exec Containers.Host.dll
/// &lt;role&gt; …</c>); the first argument names the role. As a library it is never called.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case Networking.RootlessForwarder.Argument when args.Length >= 2:
                return Networking.RootlessForwarder.Serve(args[1]);
            default:
                Console.Error.WriteLine($"Containers.Host.dll is a library; the host starts it as a helper process: {Networking.RootlessForwarder.Argument} <socket name> [<directory it belongs to>].");
                return 2;
        }
    }
}
