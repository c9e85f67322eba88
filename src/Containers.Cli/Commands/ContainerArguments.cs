using Containers.Cli.State;

namespace Containers.Cli.Commands;

/// <summary>What the commands that take several NAME|ID arguments share: each is handled, a failure reported, the others still done.</summary>
public static class ContainerArguments
{
    /// <summary>
    /// Runs <paramref name="action"/> for each container named; an error about one is reported on stderr and the next is
    /// done. Returns <see cref="CliExitCodes.Success"/>, or the exit code of the last error.
    /// </summary>
    public static async Task<int> ForEachAsync(IEnumerable<string> namesOrIds, CliConsole console, Func<StateStore, ContainerEntry, string, Task> action)
    {
        ArgumentNullException.ThrowIfNull(namesOrIds);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(action);
        var store = StateStore.Open();
        var exitCode = CliExitCodes.Success;
        foreach (var nameOrId in namesOrIds)
        {
            try
            {
                await action(store, store.Find(nameOrId), nameOrId).ConfigureAwait(false);
            }
            catch (CliException ex)
            {
                exitCode = CliErrorReporter.Report(ex, console.Error, console.IsVerbose);
            }
        }

        return exitCode;
    }
}
