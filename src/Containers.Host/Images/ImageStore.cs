using System.Diagnostics;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Oci.Stores;
using Containers.Shared;

namespace Containers.Host.Images;

/// <summary>
/// The host's local copy of images pulled from registries: an OCI layout in <c>&lt;cache&gt;/images</c>. An image is
/// pulled once (the platform's manifest, config and layers); a start by digest then reads it from here with no
/// registry request, a start by tag asks the registry only which digest the tag names now (one HEAD).
/// </summary>
/// <remarks>
/// Entries are named <c>&lt;registry&gt;/&lt;repository&gt;@&lt;digest the reference resolved to&gt;+&lt;os&gt;.&lt;arch&gt;</c>, plus the tag
/// reference itself (<c>…:15+linux.amd64</c>) so a tag can still be started when the registry does not answer.
/// </remarks>
internal sealed class ImageStore
{
    /// <summary>Environment variable with registry mirrors: <c>docker.io=127.0.0.1:5000,ghcr.io=mirror.local</c>.</summary>
    public const string MirrorsVariable = "CONTAINERS_HOST_REGISTRY_MIRRORS";

    private readonly string _directory;

    public ImageStore(string cacheDirectory) => _directory = Path.Combine(cacheDirectory, "images");

    /// <summary>The image <paramref name="reference"/> names for <paramref name="platform"/>: from the store, else pulled into it.</summary>
    public async Task<IImage> GetAsync(ImageReference reference, Platform platform, RegistryClientOptions? options, Action<string> log, CancellationToken cancellationToken)
    {
        var layout = OciLayout.Create(_directory);
        var platformKey = "+" + platform.OS + "." + platform.Architecture + (platform.Variant is { Length: > 0 } variant ? "." + variant : "");
        var source = Mirrored(reference, log);

        // Pinned by digest: what the store has under that digest is the image, whatever the registry says.
        if (reference.Digest is { } pinned && await TryReadAsync(layout, $"{reference.Name}@{pinned}{platformKey}", platform, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            log($"Image {reference} is in the host's image cache; no registry request.");
            return cached;
        }

        using var client = new RegistryClient(WithCredentials(options, source.Registry));
        Digest digest;
        if (reference.Digest is { } requested)
        {
            digest = requested;
        }
        else
        {
            Descriptor? head;
            try
            {
                head = await client.HeadManifestAsync(source.Registry, source.Repository, source.Reference, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RegistryUnreachableException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // The registry cannot say what the tag names now: the copy pulled before is what a start without the registry gets.
                if (await TryReadAsync(layout, reference + platformKey, platform, cancellationToken).ConfigureAwait(false) is { } offline)
                {
                    log($"The registry {source.Registry} did not answer for {reference} ({ex.Message}); starting the copy pulled before.");
                    return offline;
                }

                throw new OciException($"Cannot pull {reference} from {source.Registry}: {ex.Message}", ex);
            }

            digest = head?.Digest ?? throw new OciException($"The image {reference} does not exist in {source.Registry} (no manifest {source.Repository}:{source.Reference}); check the name and tag.");
            if (await TryReadAsync(layout, $"{reference.Name}@{digest}{platformKey}", platform, cancellationToken).ConfigureAwait(false) is { } current)
            {
                log($"Image {reference} ({digest.ToString()[..19]}) is in the host's image cache.");
                return current;
            }
        }

        var clock = Stopwatch.StartNew();
        var image = await client.GetImageAsync(source.Registry, source.Repository, digest.ToString(), platform, cancellationToken).ConfigureAwait(false);
        string[] names = reference.Digest is null
            ? [$"{reference.Name}@{digest}{platformKey}", reference + platformKey]
            : [$"{reference.Name}@{digest}{platformKey}"];
        await layout.WriteImageAsync(image, names, cancellationToken).ConfigureAwait(false);
        var bytes = image.Layers.Sum(layer => layer.Descriptor.Size);
        log($"Pulled {reference} from {source.Registry} into the host's image cache: {image.Layers.Count} layer(s), {bytes / 1024.0 / 1024.0:0.0} MiB in {clock.ElapsedMilliseconds} ms.");
        return await layout.ReadImageAsync(names[0], platform, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The reference to pull from: the same, or on the mirror <see cref="MirrorsVariable"/> names for its registry.</summary>
    internal static ImageReference Mirrored(ImageReference reference, Action<string>? log = null)
    {
        var configured = System.Environment.GetEnvironmentVariable(MirrorsVariable);
        if (string.IsNullOrWhiteSpace(configured))
        {
            return reference;
        }

        foreach (var pair in configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == pair.Length - 1 || ImageReference.ValidateRegistry(pair[(equals + 1)..]) is { } problem)
            {
                throw new OciException($"{MirrorsVariable} has '{pair}'; expected registry=mirror pairs separated by commas, e.g. docker.io=127.0.0.1:5000.");
            }

            if (string.Equals(pair[..equals], reference.Registry, StringComparison.OrdinalIgnoreCase))
            {
                var mirror = pair[(equals + 1)..];
                log?.Invoke($"Pulling {reference} from the mirror {mirror} ({MirrorsVariable}).");
                return reference.WithRegistry(mirror);
            }
        }

        return reference;
    }

    private static RegistryClientOptions WithCredentials(RegistryClientOptions? options, string registry) =>
        options?.CredentialProvider is not null
            ? options
            : (options ?? new RegistryClientOptions()) with
            {
                // The sources publishing reads (the SDK's pull variables, docker and podman config files), for this registry.
                CredentialProvider = new ConfiguredCredentialProvider(DotnetCredentialVariables.Apply(new CredentialProviderOptions { SourceRegistry = registry })),
            };

    private static async Task<IImage?> TryReadAsync(OciLayout layout, string name, Platform platform, CancellationToken cancellationToken)
    {
        try
        {
            return await layout.ReadImageAsync(name, platform, cancellationToken).ConfigureAwait(false);
        }
        catch (OciException)
        {
            // Not in the store (or a blob of it went missing): pulled again.
            return null;
        }
    }
}
