using System.Globalization;
using Containers.Host.Lifecycle;
using Containers.Host.Runtimes;
using Containers.Oci;

namespace Containers.Host.Networking;

/// <summary>
/// A podman/docker network: <c>network create --opt isolate=true</c> (no traffic to the CLI's other networks; not
/// <c>--internal</c>, whose members podman cannot publish ports of), a /24 of 10.90.0.0/16 chosen here so members get fixed
/// addresses (<c>--network &lt;id&gt;:ip=…,alias=…</c>); the CLI's own DNS resolves the aliases.
/// </summary>
internal sealed class CliNetworkDriver : INetworkDriver
{
    /// <summary>The label that records the owner, for reaping.</summary>
    public const string OwnerLabel = "dev.containers-sdk.owner";

    private readonly string _executable;
    private readonly string _id;

    private CliNetworkDriver(string executable, string id, string subnet)
    {
        _executable = executable;
        _id = id;
        Subnet = subnet;
    }

    public NetworkDriverKind Kind => NetworkDriverKind.Cli;

    public string Subnet { get; }

    public static async Task<CliNetworkDriver> CreateAsync(string cliName, string executable, string id, CancellationToken cancellationToken)
    {
        // A subnet that no other network of the CLI has: it refuses overlapping ones, so try a few.
        string last = "";
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var subnet = $"10.90.{Random.Shared.Next(1, 255).ToString(CultureInfo.InvariantCulture)}.0/24";
            var (code, output) = await HostTools.RunAsync(executable, ["network", "create", "--opt", "isolate=true", "--subnet", subnet, "--label", OwnerLabel + "=" + OwnerStamp.Current, id], cancellationToken).ConfigureAwait(false);
            if (code == 0)
            {
                return new CliNetworkDriver(executable, id, subnet);
            }

            last = output.Trim();
        }

        throw new OciException($"'{cliName} network create' could not make the network {id} ({last}); check that {cliName} works ('{cliName} network ls').");
    }

    public string AllocateAddress(IReadOnlySet<string> taken)
    {
        for (var host = 2; host < 255; host++)
        {
            var address = ContainerNetwork.HostAddress(Subnet, host);
            if (!taken.Contains(address))
            {
                return address;
            }
        }

        throw new OciException($"The network {_id} has no free address left ({Subnet}).");
    }

    public Task AttachAsync(NetworkMember member, NetworkNamespaceHandle containerNamespace, string interfaceName, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The run argument that joins <paramref name="member"/>'s network with its address and aliases.</summary>
    public string RunArgument(NetworkMember member) =>
        _id + ":ip=" + member.Address + string.Concat(member.Aliases.Select(alias => ",alias=" + alias));

    public async Task DeleteAsync(CancellationToken cancellationToken) =>
        await HostTools.RunAsync(_executable, ["network", "rm", "--force", _id], cancellationToken).ConfigureAwait(false);

    /// <summary>Removes the CLI's networks of ours whose owner is gone.</summary>
    public static async Task<int> ReapAsync(string executable, CancellationToken cancellationToken)
    {
        var reaped = 0;
        foreach (var (name, owner) in await ListOwnedAsync(executable, cancellationToken).ConfigureAwait(false))
        {
            if (!OwnerStamp.IsAlive(owner))
            {
                await HostTools.RunAsync(executable, ["network", "rm", "--force", name], cancellationToken).ConfigureAwait(false);
                reaped++;
            }
        }

        return reaped;
    }

    /// <summary>The CLI's networks of ours, with their owners.</summary>
    /// <remarks>
    /// <c>{{index .Labels "…"}}</c> fails for networks in podman 4 ("cannot index slice/array with type string"): both podman
    /// and docker print a network's labels as <c>key=value</c> pairs apart by commas, which are read here.
    /// </remarks>
    public static async Task<IReadOnlyList<(string Name, string Owner)>> ListOwnedAsync(string executable, CancellationToken cancellationToken)
    {
        var (code, output) = await HostTools.RunAsync(executable, ["network", "ls", "--filter", "label=" + OwnerLabel, "--format", "{{.Name}}\t{{.Labels}}"], cancellationToken).ConfigureAwait(false);
        var owned = new List<(string, string)>();
        foreach (var line in code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [])
        {
            var parts = line.Split('\t');
            var owner = parts.Length == 2
                ? parts[1].Split(',').Select(label => label.Trim()).FirstOrDefault(label => label.StartsWith(OwnerLabel + "=", StringComparison.Ordinal))?[(OwnerLabel.Length + 1)..]
                : null;
            if (owner is not null && parts[0].StartsWith(ContainerNetwork.IdPrefix, StringComparison.Ordinal))
            {
                owned.Add((parts[0], owner));
            }
        }

        return owned;
    }
}
