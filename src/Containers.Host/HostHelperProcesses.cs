using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Containers.Host.Lifecycle;
using Containers.Host.Networking;

namespace Containers.Host;

/// <summary>
/// The host's helper processes — the rootless port forwarder and a reused graph's supervisor — run from an app's own
/// executable. The host starts them as <c>dotnet exec Containers.Host.dll &lt;role&gt; …</c>; an app compiled ahead of time
/// (Native AOT) or published as a single file has no Containers.Host.dll to run, so it hands its arguments to
/// <see cref="RunIfHelperAsync"/> first thing in <c>Main</c>, and the host starts its helpers as that executable instead.
/// </summary>
/// <example>
/// <code>
/// if (await HostHelperProcesses.RunIfHelperAsync(args) is { } helperExitCode)
/// {
///     return helperExitCode;
/// }
/// </code>
/// </example>
public static class HostHelperProcesses
{
    /// <summary>
    /// This process's executable when Containers.Host is compiled into it (no Containers.Host.dll of its own) and the app
    /// called <see cref="RunIfHelperAsync"/>; null otherwise, and the host uses <c>dotnet exec</c>.
    /// </summary>
    internal static string? OwnExecutable { get; private set; }

    /// <summary>
    /// Runs the helper role that <paramref name="args"/> name, when they name one, and returns its exit code; returns null
    /// for any other arguments (the app's own), and from then on the host starts its helpers as this executable when
    /// Containers.Host has no file of its own here.
    /// </summary>
    /// <param name="args">The app's command-line arguments, as <c>Main</c> got them.</param>
    public static async Task<int?> RunIfHelperAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (HostAssemblyFile is null && System.Environment.ProcessPath is { Length: > 0 } executable)
        {
            OwnExecutable = executable;
        }

        return args switch
        {
            [SupervisorArgument, var directory] when OperatingSystem.IsLinux() => await ReuseSupervisor.RunAsync(directory).ConfigureAwait(false),
            [RootlessForwarder.Argument, var socket, ..] => RootlessForwarder.Serve(socket),
            _ => null,
        };
    }

    /// <summary>Containers.Host.dll's path, or null when it has no file of its own (compiled into a single-file or Native AOT app).</summary>
    internal static string? HostAssemblyFile => AssemblyFile(typeof(HostHelperProcesses).Assembly);

    /// <summary>The directory of the runtime's own assemblies, or null in a single-file or Native AOT app.</summary>
    internal static string? RuntimeAssemblyDirectory => AssemblyFile(typeof(object).Assembly) is { } file ? Path.GetDirectoryName(file) : null;

    // The one place that asks for an assembly's file: empty in a single-file or Native AOT app, which is what callers test.
    [UnconditionalSuppressMessage("SingleFile", "IL3000:Avoid accessing Assembly file path when publishing as a single file", Justification = "An empty Location is handled: it means no file, and callers then run helpers as the app itself.")]
    private static string? AssemblyFile(Assembly assembly) => assembly.Location is { Length: > 0 } location ? location : null;

    /// <summary>The role argument of a reused graph's supervisor, followed by the graph's directory.</summary>
    internal const string SupervisorArgument = "--supervise";
}
