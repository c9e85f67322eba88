using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;

namespace Containers.Oci.Transports;

/// <summary>An image in an OCI image layout directory, by ref name (tag) or digest; null takes the layout's only image.</summary>
public sealed class OciLayoutImageSource : IImageSource
{
    private readonly string _directory;
    private readonly string? _reference;

    /// <summary>Reads <paramref name="reference"/> (a ref name or digest) from the layout in <paramref name="directory"/>.</summary>
    public OciLayoutImageSource(string directory, string? reference = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
        _reference = string.IsNullOrEmpty(reference) ? null : reference;
    }

    /// <inheritdoc />
    public async Task<ImageContent> ReadAsync(CancellationToken cancellationToken = default)
    {
        var layout = OciLayout.Open(_directory);
        var name = await ResolveNameAsync(layout, cancellationToken).ConfigureAwait(false);
        var descriptor = await layout.ResolveAsync(name, cancellationToken).ConfigureAwait(false);
        return MediaTypes.IsIndex(descriptor.MediaType)
            ? ImageContent.FromIndex(await layout.ReadIndexAsync(name, cancellationToken).ConfigureAwait(false))
            : ImageContent.FromImage(await layout.ReadImageAsync(name, null, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<IImage> ReadImageAsync(Platform platform, CancellationToken cancellationToken = default)
    {
        var layout = OciLayout.Open(_directory);
        var name = await ResolveNameAsync(layout, cancellationToken).ConfigureAwait(false);
        return await layout.ReadImageAsync(name, platform, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> ResolveNameAsync(OciLayout layout, CancellationToken cancellationToken)
    {
        if (_reference is not null)
        {
            return _reference;
        }

        var names = await layout.GetRefNamesAsync(cancellationToken).ConfigureAwait(false);
        return names.Count == 1
            ? names[0]
            : throw new OciException($"The OCI layout '{_directory}' holds {names.Count} tagged images{(names.Count == 0 ? "" : $" ({string.Join(", ", names)})")}; name one as oci:{_directory}:TAG.");
    }

    /// <inheritdoc />
    public override string ToString() => ImageLocation.FormatOciLayout(_directory, _reference);
}

/// <summary>
/// An OCI image layout directory as a target: created when missing, blobs added, the image named by each tag
/// (<c>org.opencontainers.image.ref.name</c>); an existing name moves to the new image.
/// </summary>
public sealed class OciLayoutImageTarget : IImageTarget
{
    private readonly string _directory;
    private readonly IReadOnlyList<string> _tags;

    /// <summary>Writes into the layout in <paramref name="directory"/> under <paramref name="tags"/> (none: by digest only).</summary>
    public OciLayoutImageTarget(string directory, IReadOnlyList<string> tags)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(tags);
        _directory = directory;
        _tags = tags;
    }

    /// <summary>The layout, as <see cref="OciLayout.Create(string)"/> opened or made it, after a write.</summary>
    public OciLayout? Layout { get; private set; }

    /// <inheritdoc />
    public async Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var layout = Layout ??= OciLayout.Create(_directory);
        return content.Index is { } index
            ? await layout.WriteIndexAsync(index, _tags, cancellationToken).ConfigureAwait(false)
            : await layout.WriteImageAsync(content.Image!, _tags, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => ImageLocation.FormatOciLayout(_directory, _tags.Count > 0 ? _tags[0] : null);
}
