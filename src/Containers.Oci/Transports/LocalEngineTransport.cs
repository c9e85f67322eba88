using Containers.Oci.Descriptors;
using Containers.Oci.Stores;

namespace Containers.Oci.Transports;

/// <summary>
/// The image store of a local docker or podman engine, through its CLI's <c>load</c>: one platform, named by each
/// <c>repository:tag</c>. The engine re-makes the manifest (its digest is the engine's), the config and layers are kept.
/// </summary>
public sealed class LocalEngineImageTarget : IImageTarget
{
    private readonly string _executable;
    private readonly IReadOnlyList<string> _names;
    private readonly DateTimeOffset _entryTime;
    private readonly string? _temporaryDirectory;

    /// <summary>Loads into the engine of <paramref name="executable"/> (a path or <c>docker</c>/<c>podman</c>) as <paramref name="names"/>.</summary>
    public LocalEngineImageTarget(string executable, IReadOnlyList<string> names, DateTimeOffset entryTime, string? temporaryDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        ArgumentNullException.ThrowIfNull(names);
        _executable = executable;
        _names = names;
        _entryTime = entryTime;
        _temporaryDirectory = temporaryDirectory;
    }

    /// <inheritdoc />
    public async Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var image = content.Image
            ?? throw new OciException($"A local {Path.GetFileName(_executable)} store holds one platform per tag; {content.Descriptor.Digest} is a multi-platform image. Load one platform, or push the multi-platform image to a registry.");
        await LocalEngines.LoadAsync(_executable, image, _names, _entryTime, _temporaryDirectory, cancellationToken).ConfigureAwait(false);
        return image.ManifestDescriptor;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Path.GetFileName(_executable)} ({string.Join(", ", _names)})";
}
