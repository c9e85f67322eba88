using Containers.Oci.Descriptors;
using Containers.Oci.References;
using Containers.Oci.Stores;

namespace Containers.Oci.Transports;

/// <summary>
/// containerd's image store (the engine of Kubernetes nodes) as a target, through <see cref="ContainerdStore"/>: only the
/// blobs containerd lacks are sent, an index goes in whole, and each name moves to the image once everything is in.
/// </summary>
public sealed class ContainerdImageTarget : IImageTarget
{
    private readonly string? _address;
    private readonly string? _namespace;
    private readonly IReadOnlyList<string> _names;

    /// <summary>
    /// Imports into the containerd at <paramref name="address"/> (null: <see cref="ContainerdStore.DefaultAddress"/>), in
    /// <paramref name="namespace"/> (null: <see cref="ContainerdStore.DefaultNamespace"/>), named <paramref name="names"/>
    /// (full names, as <see cref="NormalizeName(string)"/> makes them).
    /// </summary>
    public ContainerdImageTarget(string? address, string? @namespace, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        _address = address;
        _namespace = @namespace;
        _names = names;
    }

    /// <summary>What the last write sent and found present; null before one.</summary>
    public ContainerdImportResult? LastImport { get; private set; }

    /// <inheritdoc />
    /// <exception cref="ContainerdException">containerd cannot be reached or refused the import; the message names the socket.</exception>
    public async Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var store = new ContainerdStore(_address, _namespace);
        LastImport = content.Index is { } index
            ? await store.ImportIndexAsync(index, _names, cancellationToken).ConfigureAwait(false)
            : await store.ImportImageAsync(content.Image!, _names, cancellationToken).ConfigureAwait(false);
        return content.Descriptor;
    }

    /// <summary>
    /// A repository (and optional tag or digest) as Kubernetes and ctr resolve a short name, so a pod's <c>image: app:1.0</c>
    /// finds the imported image: the full form <see cref="ImageReference.Parse"/> gives (<c>app</c> →
    /// <c>docker.io/library/app</c>, <c>team/app</c> → <c>docker.io/team/app</c>; a name whose first part is a host stays).
    /// </summary>
    /// <exception cref="ImageReferenceFormatException">The name is not an image reference.</exception>
    public static string NormalizeName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ImageReference.Parse(name).ToString();
    }

    /// <summary>Whether a name's first part is a registry host (a <c>.</c> or <c>:</c> in it, or <c>localhost</c>).</summary>
    internal static bool IsHost(string segment) => Shared.ImageNameRules.IsRegistryComponent(segment);

    /// <inheritdoc />
    public override string ToString() => $"containerd {_address ?? ContainerdStore.DefaultAddress} ({_namespace ?? ContainerdStore.DefaultNamespace}: {string.Join(", ", _names)})";
}
