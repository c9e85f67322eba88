using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;

namespace Containers.Oci.Transports;

/// <summary>An image in a registry, read through a <see cref="RegistryClient"/> (its credentials, mirrors and progress).</summary>
public sealed class RegistryImageSource : IImageSource
{
    private readonly RegistryClient _client;
    private readonly ImageReference _reference;

    /// <summary>Reads <paramref name="reference"/> with <paramref name="client"/>.</summary>
    public RegistryImageSource(RegistryClient client, ImageReference reference)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(reference);
        _client = client;
        _reference = reference;
    }

    /// <summary>The reference read.</summary>
    public ImageReference Reference => _reference;

    /// <inheritdoc />
    public async Task<ImageContent> ReadAsync(CancellationToken cancellationToken = default)
    {
        var manifest = await _client.GetManifestAsync(_reference.Registry, _reference.Repository, _reference.Reference, cancellationToken).ConfigureAwait(false);
        // By digest from here: a tag moved meanwhile cannot mix two images.
        var digest = manifest.Descriptor.Digest.ToString();
        return MediaTypes.IsIndex(manifest.Descriptor.MediaType)
            ? ImageContent.FromIndex(await _client.GetIndexAsync(_reference.Registry, _reference.Repository, digest, cancellationToken).ConfigureAwait(false))
            : ImageContent.FromImage(await _client.GetImageAsync(_reference.Registry, _reference.Repository, digest, null, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public Task<IImage> ReadImageAsync(Platform platform, CancellationToken cancellationToken = default) =>
        _client.GetImageAsync(_reference, platform, cancellationToken);

    /// <inheritdoc />
    public override string ToString() => _reference.ToString();
}

/// <summary>
/// A registry repository as a target: blobs pushed (mounted from <c>mountFrom</c> repositories of the same registry
/// when they are there, skipped when present), then the manifest by digest, then each tag — a failed push moves no tag.
/// </summary>
public sealed class RegistryImageTarget : IImageTarget
{
    private readonly RegistryClient _client;
    private readonly string _registry;
    private readonly string _repository;
    private readonly IReadOnlyList<string> _tags;
    private readonly IReadOnlyList<string> _mountFrom;

    /// <summary>Pushes to <paramref name="repository"/> on <paramref name="registry"/>, tagged with <paramref name="tags"/> (none: by digest only).</summary>
    public RegistryImageTarget(RegistryClient client, string registry, string repository, IReadOnlyList<string> tags, IReadOnlyList<string>? mountFrom = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(registry);
        ArgumentException.ThrowIfNullOrEmpty(repository);
        ArgumentNullException.ThrowIfNull(tags);
        _client = client;
        _registry = registry;
        _repository = repository;
        _tags = tags;
        _mountFrom = mountFrom ?? [];
    }

    /// <summary>Pushes to the repository of <paramref name="reference"/>, tagged with its tag (by digest only for a digest reference).</summary>
    public RegistryImageTarget(RegistryClient client, ImageReference reference)
        : this(client, (reference ?? throw new ArgumentNullException(nameof(reference))).Registry, reference.Repository, reference.Tag is { } tag ? [tag] : [])
    {
    }

    /// <inheritdoc />
    public async Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Index is { } index)
        {
            await _client.PushIndexAsync(index, _registry, _repository, _tags, _mountFrom, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _client.PushImageAsync(content.Image!, _registry, _repository, _tags, _mountFrom, cancellationToken).ConfigureAwait(false);
        }

        return content.Descriptor;
    }

    /// <inheritdoc />
    public override string ToString() => $"{_registry}/{_repository}" + (_tags.Count > 0 ? ":" + _tags[0] : "");
}
