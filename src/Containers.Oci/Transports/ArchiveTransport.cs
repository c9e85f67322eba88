using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.Stores;

namespace Containers.Oci.Transports;

/// <summary>
/// An image in a tarball: an OCI archive (an image layout in a tar, as <c>skopeo copy ... oci-archive:</c> writes) or a
/// docker archive (<c>docker save</c>), told apart by their contents. Without a reference: the archive's first named
/// image (an OCI archive with no names: its first entry; a docker archive: its only image).
/// </summary>
public sealed class ArchiveImageSource : IImageSource
{
    private readonly string _path;
    private readonly string? _reference;

    /// <summary>Reads <paramref name="reference"/> (an OCI ref name or digest, a docker archive's repo tag) from <paramref name="path"/>.</summary>
    public ArchiveImageSource(string path, string? reference = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = path;
        _reference = string.IsNullOrEmpty(reference) ? null : reference;
    }

    /// <inheritdoc />
    public async Task<ImageContent> ReadAsync(CancellationToken cancellationToken = default)
    {
        var (archive, docker) = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (archive is null)
        {
            return ImageContent.FromImage(await docker!.ReadImageAsync(_reference, cancellationToken).ConfigureAwait(false));
        }

        var name = await ResolveNameAsync(archive, cancellationToken).ConfigureAwait(false);
        var entries = await archive.GetEntriesAsync(cancellationToken).ConfigureAwait(false);
        var entry = entries.FirstOrDefault(e => e.RefName == name || e.Descriptor.Digest.ToString() == name);
        return entry is not null && MediaTypes.IsIndex(entry.Descriptor.MediaType)
            ? ImageContent.FromIndex(await archive.ReadIndexAsync(name, cancellationToken).ConfigureAwait(false))
            : ImageContent.FromImage(await archive.ReadImageAsync(name, null, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<IImage> ReadImageAsync(Platform platform, CancellationToken cancellationToken = default)
    {
        var (archive, docker) = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return archive is null
            ? await docker!.ReadImageAsync(_reference, cancellationToken).ConfigureAwait(false)
            : await archive.ReadImageAsync(await ResolveNameAsync(archive, cancellationToken).ConfigureAwait(false), platform, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(OciArchiveFile? Oci, DockerArchiveFile? Docker)> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await OciArchive.OpenAsync(_path, cancellationToken).ConfigureAwait(false), null);
        }
        catch (OciException)
        {
            // Not an OCI archive: a docker archive has manifest.json instead of index.json.
            return (null, await DockerArchive.OpenAsync(_path, cancellationToken).ConfigureAwait(false));
        }
    }

    private async Task<string> ResolveNameAsync(OciArchiveFile archive, CancellationToken cancellationToken)
    {
        if (_reference is not null)
        {
            return _reference;
        }

        var names = await archive.GetRefNamesAsync(cancellationToken).ConfigureAwait(false);
        if (names.Count > 0)
        {
            return names[0];
        }

        var entries = await archive.GetEntriesAsync(cancellationToken).ConfigureAwait(false);
        return entries.Count > 0
            ? entries[0].Descriptor.Digest.ToString()
            : throw new ImageStoreException(_path, $"{_path} holds no image: its index.json lists nothing.");
    }

    /// <inheritdoc />
    public override string ToString() => "archive " + _path + (_reference is null ? "" : ":" + _reference);
}

/// <summary>
/// An OCI archive file as a target: one deterministic tar (fixed entry times, sorted blobs) holding an image layout with
/// the image named by each ref name; replaces the file. A path ending in <c>.tar.gz</c>/<c>.tgz</c> is gzip-compressed.
/// </summary>
public sealed class OciArchiveImageTarget : IImageTarget
{
    private readonly string _path;
    private readonly IReadOnlyList<string> _refNames;
    private readonly DateTimeOffset? _entryTime;

    /// <summary>Writes <paramref name="path"/> with <paramref name="refNames"/>; <paramref name="entryTime"/> stamps the tar entries (null: the fixed default).</summary>
    public OciArchiveImageTarget(string path, IReadOnlyList<string> refNames, DateTimeOffset? entryTime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(refNames);
        _path = path;
        _refNames = refNames;
        _entryTime = entryTime;
    }

    /// <inheritdoc />
    public Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return content.Index is { } index
            ? OciArchive.WriteToFileAsync(_path, index, _refNames, _entryTime, cancellationToken)
            : OciArchive.WriteToFileAsync(_path, content.Image!, _refNames, _entryTime, cancellationToken);
    }

    /// <inheritdoc />
    public override string ToString() => "oci-archive:" + _path;
}

/// <summary>
/// A docker archive file (what <c>docker load</c> reads) as a target: one image, named by each repo tag
/// (<c>repository:tag</c>); replaces the file. It holds no index: a multi-platform image is refused.
/// </summary>
public sealed class DockerArchiveImageTarget : IImageTarget
{
    private readonly string _path;
    private readonly IReadOnlyList<string> _repoTags;
    private readonly DateTimeOffset? _entryTime;

    /// <summary>Writes <paramref name="path"/> with <paramref name="repoTags"/>; <paramref name="entryTime"/> stamps the tar entries (null: the fixed default).</summary>
    public DockerArchiveImageTarget(string path, IReadOnlyList<string> repoTags, DateTimeOffset? entryTime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(repoTags);
        _path = path;
        _repoTags = repoTags;
        _entryTime = entryTime;
    }

    /// <inheritdoc />
    public async Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var image = content.Image
            ?? throw new OciException($"A docker archive holds one platform per tag; {content.Descriptor.Digest} is a multi-platform image. Write an OCI archive (oci-archive:{_path}) or pick one platform.");
        await DockerArchive.WriteToFileAsync(_path, image, _repoTags, _entryTime, cancellationToken).ConfigureAwait(false);
        return image.ManifestDescriptor;
    }

    /// <inheritdoc />
    public override string ToString() => "docker-archive:" + _path;
}
