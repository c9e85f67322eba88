using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace Containers.Sdk.Tasks.BuildServer;

/// <summary>
/// The entry point of the tasks assembly when it runs as the build server
/// (<c>dotnet exec Containers.Sdk.dll --build-server &lt;socket&gt; --msbuild &lt;MSBuild directory&gt;</c>).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length != 4 || args[0] != BuildServerHost.ServerArgument || args[2] != BuildServerHost.MSBuildArgument)
        {
            Console.Error.WriteLine($"Containers.Sdk.dll is an MSBuild task assembly; builds start it as a build server: {BuildServerHost.ServerArgument} <socket> {BuildServerHost.MSBuildArgument} <MSBuild directory>.");
            return 2;
        }

        // The tasks are compiled against MSBuild, which the package does not ship: load the build's own copy.
        var msbuildDirectory = args[3];
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            var candidate = Path.Combine(msbuildDirectory, name.Name + ".dll");
            return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
        };
        return Serve(args[1]);
    }

    // Not inlined: MSBuild's types must be resolved after the handler above is in place.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Serve(string socketPath) => BuildServerHost.Run(socketPath);
}
