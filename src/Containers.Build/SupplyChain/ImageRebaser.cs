using System.Globalization;
using Containers.Build.Publishing;
using Containers.Build.Publishing.Transfers;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Models;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Transports;

namespace Containers.Build.SupplyChain;

/// <summary>What to rebase, onto what, and where the result goes.</summary>
public sealed record ImageRebaseRequest
{
    /// <summary>The image to rebase (a tag or digest in a registry), built by Containers.Sdk so that its manifest names its base.</summary>
    public required ImageReference Image { get; init; }

    /// <summary>The new base: the same repository the image was built on, at a newer tag or digest.</summary>
    public required ImageReference NewBase { get; init; }

    /// <summary>The repository the rebased image is pushed to; null pushes to the image's own repository.</summary>
    public string? DestinationRepository { get; init; }

    /// <summary>The tags the rebased image is written under; empty uses the image reference's tag.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>One platform image of a rebase.</summary>
/// <param name="Platform">Its platform.</param>
/// <param name="OriginalManifest">The manifest digest before.</param>
/// <param name="RebasedManifest">The manifest digest after.</param>
/// <param name="OriginalBase">The base manifest digest it was built on.</param>
/// <param name="NewBase">The base manifest digest it now sits on.</param>
/// <param name="AppLayers">The app's layer digests, the same before and after.</param>
public sealed record RebasedImage(Platform Platform, Digest OriginalManifest, Digest RebasedManifest, Digest OriginalBase, Digest NewBase, IReadOnlyList<Digest> AppLayers);

/// <summary>The outcome of a rebase.</summary>
public sealed record ImageRebaseResult
{
    /// <summary>What the tags now point at: the rebased manifest, or index for a multi-platform image.</summary>
    public required Digest Digest { get; init; }

    /// <summary>The full names written, <c>registry/repository:tag</c>.</summary>
    public required IReadOnlyList<string> Names { get; init; }

    /// <summary>Each platform image.</summary>
    public required IReadOnlyList<RebasedImage> Images { get; init; }

    /// <summary>True when the image already sat on the new base: nothing but the tags was written.</summary>
    public bool AlreadyOnNewBase { get; init; }

    /// <summary>Bytes of blobs uploaded (the configs; layers are never uploaded, only mounted or found).</summary>
    public long BytesUploaded { get; init; }

    /// <summary>The blobs uploaded, by digest.</summary>
    public IReadOnlyList<Digest> BlobsUploaded { get; init; } = [];
}

/// <summary>
/// Moves an image built by Containers.Sdk onto a newer base image without rebuilding it: the app layers stay
/// byte-identical and are never uploaded again; the base layers become the new base's; the config keeps what the
/// app set (entrypoint, user, working directory, its environment variables, ports and labels) over the new base's.
/// Refuses when the image does not sit on the base its annotations name, or when the new base changes the
/// platform, the user or the working directory.
/// </summary>
/// <example>
/// <code>
/// using var rebaser = new ImageRebaser(new RegistryClientOptions { CredentialProvider = credentials });
/// var result = await rebaser.RebaseAsync(new ImageRebaseRequest
/// {
///     Image = ImageReference.Parse("registry.example/shop/api:1.4"),
///     NewBase = ImageReference.Parse("mcr.microsoft.com/dotnet/aspnet:10.0"),
///     Tags = ["1.4", "latest"],
/// }, cancellationToken);
/// </code>
/// </example>
public sealed class ImageRebaser : IDisposable
{
    private const string BaseNameAnnotation = "org.opencontainers.image.base.name";
    private const string BaseDigestAnnotation = "org.opencontainers.image.base.digest";

    private readonly RegistryClient _registry;
    private readonly TransferTally _uploads;
    private readonly IProgress<PublishProgress>? _progress;

    /// <summary>Creates a rebaser with its own registry client.</summary>
    /// <param name="registryOptions">Credentials, insecure hosts and retries for the registries involved.</param>
    /// <param name="progress">Receives one-line progress messages.</param>
    public ImageRebaser(RegistryClientOptions? registryOptions = null, IProgress<PublishProgress>? progress = null)
    {
        var options = registryOptions ?? new RegistryClientOptions();
        // No per-blob log lines: a rebase uploads configs only, and says so in its one summary line.
        _uploads = new TransferTally(options.Progress);
        _registry = new RegistryClient(options with { Progress = _uploads });
        _progress = progress;
    }

    /// <summary>Rebases the image (each platform of an index) and pushes the result under the requested tags.</summary>
    /// <exception cref="ImageRebaseException">The image cannot be rebased onto the new base; the message says why and what to do.</exception>
    public async Task<ImageRebaseResult> RebaseAsync(ImageRebaseRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var image = request.Image;
        var repository = request.DestinationRepository ?? image.Repository;
        var tags = request.Tags.Count > 0 ? request.Tags : image.Tag is { } tag ? [tag] : [];
        if (tags.Count == 0)
        {
            throw new ImageRebaseException($"No tag to write the rebased image {image} under; name the image by tag or give the tags (ContainerImageTags).");
        }

        var original = await new RegistryImageSource(_registry, image).ReadAsync(cancellationToken).ConfigureAwait(false);
        var rebased = new List<(IImage Image, RebasedImage Info)>();
        var originalIndex = original.Index;
        foreach (var platformImage in original.Images)
        {
            rebased.Add(await RebaseOneAsync(request, platformImage, cancellationToken).ConfigureAwait(false));
        }

        var mountFrom = new List<string> { image.Repository };
        if (string.Equals(request.NewBase.Registry, image.Registry, StringComparison.OrdinalIgnoreCase))
        {
            mountFrom.Add(request.NewBase.Repository);
        }

        var mounts = mountFrom.Where(r => r != repository).Distinct(StringComparer.Ordinal).ToArray();
        _uploads.Reset();
        ImageContent result;
        if (originalIndex is not null)
        {
            var annotations = originalIndex.Index.Annotations is null
                ? null
                : new SortedDictionary<string, string>(originalIndex.Index.Annotations.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
            if (annotations is not null && annotations.ContainsKey(BaseNameAnnotation))
            {
                annotations[BaseNameAnnotation] = request.NewBase.ToString();
            }

            var format = MediaTypes.FormatOf(originalIndex.IndexDescriptor.MediaType);
            var index = new ComposedImageIndex(rebased.Select(r => r.Image).ToArray(), format, annotations);
            result = ImageContent.FromIndex(index);
        }
        else
        {
            result = ImageContent.FromImage(rebased[0].Image);
        }

        var digest = (await new RegistryImageTarget(_registry, image.Registry, repository, tags, mounts).WriteAsync(result, cancellationToken).ConfigureAwait(false)).Digest;

        var alreadyOnNewBase = rebased.All(r => r.Info.OriginalBase == r.Info.NewBase);
        Report(alreadyOnNewBase
            ? $"{image} already sits on {request.NewBase}; tags written, nothing rebuilt."
            : $"Rebased {image} onto {request.NewBase}: {digest}, uploaded {_uploads.Uploaded.ToString(CultureInfo.InvariantCulture)} bytes ({_uploads.UploadedBlobs.Length} blobs), app layers reused.");
        return new ImageRebaseResult
        {
            Digest = digest,
            Names = tags.Select(t => $"{image.Registry}/{repository}:{t}").ToArray(),
            Images = rebased.Select(r => r.Info).ToArray(),
            AlreadyOnNewBase = alreadyOnNewBase,
            BytesUploaded = _uploads.Uploaded,
            BlobsUploaded = _uploads.UploadedBlobs,
        };
    }

    private async Task<(IImage, RebasedImage)> RebaseOneAsync(ImageRebaseRequest request, IImage image, CancellationToken cancellationToken)
    {
        var name = $"{request.Image.Registry}/{request.Image.Repository}@{image.ManifestDescriptor.Digest}";
        var annotations = image.Manifest.Annotations ?? new Dictionary<string, string>();
        // Docker v2 manifests carry no annotations: then the same names as config labels (which publishing writes by default).
        var labels = image.Config.Config?.Labels ?? new Dictionary<string, string>();
        string? Recorded(string key) => annotations.TryGetValue(key, out var value) ? value : labels.TryGetValue(key, out var label) ? label : null;
        if (Recorded(BaseNameAnnotation) is not { } baseNameText || Recorded(BaseDigestAnnotation) is not { } baseDigestText
            || !Digest.TryParse(baseDigestText, out var originalBaseDigest))
        {
            throw new ImageRebaseException($"{name} does not record its base image ({BaseNameAnnotation} and {BaseDigestAnnotation}, as manifest annotations or config labels); only images published by Containers.Sdk (or another tool that writes them) can be rebased. Publish it again instead.");
        }

        if (!ImageReference.TryParse(baseNameText, out var originalBase))
        {
            throw new ImageRebaseException($"{name} names its base '{baseNameText}', which is not an image reference; publish it again instead of rebasing.");
        }

        var newBaseName = request.NewBase;
        if (!string.Equals(originalBase.Registry, newBaseName.Registry, StringComparison.OrdinalIgnoreCase) || originalBase.Repository != newBaseName.Repository)
        {
            throw new ImageRebaseException($"{name} was built on {originalBase.Registry}/{originalBase.Repository}, not on {newBaseName.Registry}/{newBaseName.Repository}; a rebase moves an image to a newer tag or digest of the same base repository. Name a tag or digest of {originalBase.Registry}/{originalBase.Repository} (ContainerRebaseBaseImage), or publish the app again on the other base.");
        }

        var platform = image.Config.Platform;
        IImage oldBase;
        try
        {
            oldBase = await _registry.GetImageAsync(originalBase.Registry, originalBase.Repository, originalBaseDigest.ToString(), platform, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryNotFoundException ex)
        {
            throw new ImageRebaseException($"The base {originalBase.Registry}/{originalBase.Repository}@{originalBaseDigest} that {name} records is no longer in the registry, so its layers cannot be told apart from the app's; publish the app again instead.", ex);
        }

        var baseLayerCount = oldBase.Layers.Count;
        var builtOnIt = image.Layers.Count >= baseLayerCount
            && image.Config.RootFs.DiffIds.Take(baseLayerCount).SequenceEqual(oldBase.Config.RootFs.DiffIds)
            && image.Layers.Take(baseLayerCount).Select(l => l.Descriptor.Digest).SequenceEqual(oldBase.Layers.Select(l => l.Descriptor.Digest));
        if (!builtOnIt)
        {
            throw new ImageRebaseException($"{name} says it was built on {originalBase.Registry}/{originalBase.Repository}@{originalBaseDigest}, but its first {baseLayerCount} layers are not that base's layers (compared by diff id and digest); it was changed after publishing, so it cannot be rebased. Publish the app again.");
        }

        var newBase = await _registry.GetImageAsync(newBaseName, platform, cancellationToken).ConfigureAwait(false);
        CheckCompatible(name, oldBase.Config, newBase.Config, originalBase, newBaseName);

        var appLayers = image.Layers.Skip(baseLayerCount).ToArray();
        var info = new RebasedImage(platform, image.ManifestDescriptor.Digest, image.ManifestDescriptor.Digest, originalBaseDigest, newBase.ManifestDescriptor.Digest, appLayers.Select(l => l.Descriptor.Digest).ToArray());
        var format = MediaTypes.FormatOf(image.Manifest.MediaType ?? image.ManifestDescriptor.MediaType);
        if (newBase.ManifestDescriptor.Digest == originalBaseDigest)
        {
            Report($"{PlatformMatching.Format(platform)}: already on {newBaseName}@{originalBaseDigest}.");
            return (image, info);
        }

        var config = RebaseConfig(image.Config, oldBase.Config, newBase.Config, newBaseName, newBase.ManifestDescriptor.Digest);
        var newAnnotations = format == ManifestFormat.Docker
            ? null
            : new SortedDictionary<string, string>(annotations.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal)
            {
                [BaseNameAnnotation] = newBaseName.ToString(),
                [BaseDigestAnnotation] = newBase.ManifestDescriptor.Digest.ToString(),
            };
        var rebased = Image.Create(config, [.. newBase.Layers, .. appLayers], format, newAnnotations);
        Report($"{PlatformMatching.Format(platform)}: {baseLayerCount} base layers of {originalBaseDigest.Hex[..12]} replaced by {newBase.Layers.Count} of {newBase.ManifestDescriptor.Digest.Hex[..12]}; {appLayers.Length} app layers kept.");
        return (rebased, info with { RebasedManifest = rebased.ManifestDescriptor.Digest });
    }

    private static void CheckCompatible(string name, ImageConfig oldBase, ImageConfig newBase, ImageReference oldName, ImageReference newName)
    {
        var oldPlatform = PlatformMatching.Format(oldBase.Platform);
        var newPlatform = PlatformMatching.Format(newBase.Platform);
        if (oldBase.OS != newBase.OS || oldBase.Architecture != newBase.Architecture || (oldBase.Variant ?? "") != (newBase.Variant ?? ""))
        {
            throw new ImageRebaseException($"{newName} is {newPlatform} but {name} was built on {oldPlatform} ({oldName}); a rebase cannot change the platform. Name a base for {oldPlatform}.");
        }

        var oldUser = oldBase.Config?.User ?? "";
        var newUser = newBase.Config?.User ?? "";
        if (!string.Equals(oldUser, newUser, StringComparison.Ordinal))
        {
            throw new ImageRebaseException($"{newName} runs as user '{newUser}' but {name} was built on a base running as '{oldUser}'; files the app relies on may not be readable or writable under another user, so it is not rebased. Publish the app again on the new base.");
        }

        var oldDirectory = oldBase.Config?.WorkingDir ?? "";
        var newDirectory = newBase.Config?.WorkingDir ?? "";
        if (!string.Equals(oldDirectory, newDirectory, StringComparison.Ordinal))
        {
            throw new ImageRebaseException($"{newName} has working directory '{newDirectory}' but {name} was built on one with '{oldDirectory}'; it is not rebased. Publish the app again on the new base.");
        }
    }

    // The app's config over the new base: what the app set (values that differ from the old base) is kept,
    // the rest comes from the new base, so a patched base's PATH or DOTNET_VERSION reaches the app.
    private static ImageConfig RebaseConfig(ImageConfig image, ImageConfig oldBase, ImageConfig newBase, ImageReference newBaseName, Digest newBaseDigest)
    {
        var app = image.Config ?? new ContainerConfig();
        var oldEnvironment = ToDictionary(oldBase.Config?.Env);
        var environment = new List<string>(newBase.Config?.Env ?? []);
        foreach (var entry in app.Env ?? [])
        {
            var (key, value) = ContainerConfig.SplitEnvironmentVariable(entry);
            if (oldEnvironment.TryGetValue(key, out var baseValue) && baseValue == value)
            {
                continue;
            }

            environment.RemoveAll(e => ContainerConfig.SplitEnvironmentVariable(e).Name == key);
            environment.Add(entry);
        }

        var labels = new Dictionary<string, string>(newBase.Config?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var oldLabels = oldBase.Config?.Labels ?? new Dictionary<string, string>();
        foreach (var (key, value) in app.Labels ?? new Dictionary<string, string>())
        {
            if (!(oldLabels.TryGetValue(key, out var baseValue) && baseValue == value))
            {
                labels[key] = value;
            }
        }

        if (labels.ContainsKey("org.opencontainers.image.base.digest"))
        {
            labels["org.opencontainers.image.base.digest"] = newBaseDigest.ToString();
        }

        if (labels.ContainsKey("org.opencontainers.image.base.name"))
        {
            labels["org.opencontainers.image.base.name"] = newBaseName.ToString();
        }

        var oldPorts = oldBase.Config?.ExposedPorts ?? new Dictionary<string, EmptyObject>();
        var ports = new SortedDictionary<string, EmptyObject>(StringComparer.Ordinal);
        foreach (var (port, value) in (newBase.Config?.ExposedPorts ?? new Dictionary<string, EmptyObject>()).Concat((app.ExposedPorts ?? new Dictionary<string, EmptyObject>()).Where(p => !oldPorts.ContainsKey(p.Key))))
        {
            ports[port] = value;
        }

        var oldHistory = oldBase.History ?? [];
        var appHistory = (image.History ?? []).Skip(oldHistory.Count);
        return image with
        {
            OSVersion = newBase.OSVersion,
            OSFeatures = newBase.OSFeatures,
            Variant = newBase.Variant,
            Config = app with
            {
                Env = environment,
                Labels = labels.Count == 0 ? null : new SortedDictionary<string, string>(labels, StringComparer.Ordinal),
                ExposedPorts = ports.Count == 0 ? null : ports,
            },
            History = [.. newBase.History ?? [], .. appHistory],
        };
    }

    private static Dictionary<string, string> ToDictionary(IReadOnlyList<string>? environment)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in environment ?? [])
        {
            var (key, value) = ContainerConfig.SplitEnvironmentVariable(entry);
            result[key] = value;
        }

        return result;
    }

    private void Report(string message) => _progress?.Report(new PublishProgress(message));

    /// <inheritdoc />
    public void Dispose() => _registry.Dispose();
}

/// <summary>An image cannot be rebased onto the named base; the message says why and what to do instead.</summary>
public sealed class ImageRebaseException : OciException
{
    /// <summary>Creates the exception.</summary>
    public ImageRebaseException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
