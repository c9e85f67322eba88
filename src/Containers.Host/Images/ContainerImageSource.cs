using System.Runtime.InteropServices;
using Containers.Oci;
using Containers.Oci.Images;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Transports;

namespace Containers.Host.Images;

/// <summary>Where <see cref="Lifecycle.ContainerHost"/> takes an image from: an OCI layout, a tarball or a registry.</summary>
public abstract class ContainerImageSource
{
    private protected ContainerImageSource()
    {
    }

    /// <summary>An image in an OCI image layout directory, by tag (<c>org.opencontainers.image.ref.name</c>) or digest; null takes the layout's only image.</summary>
    public static ContainerImageSource FromOciLayout(string layoutDirectory, string? reference = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(layoutDirectory);
        return new LayoutSource(layoutDirectory, reference);
    }

    /// <summary>An image in a tarball: an OCI archive or a docker-archive (<c>docker save</c>, <c>ContainerArchiveOutputPath</c>).</summary>
    public static ContainerImageSource FromArchive(string tarballPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tarballPath);
        return new ArchiveSource(tarballPath);
    }

    /// <summary>
    /// An image in a registry, e.g. <c>127.0.0.1:5000/app:1.0</c> or <c>postgres:15</c> (Docker Hub). It is pulled once into
    /// the host's image cache; a later start by digest makes no registry request, one by tag only asks which digest the
    /// tag names (and starts the cached copy when the registry does not answer). Credentials come from the places
    /// publishing reads (the SDK's pull variables, docker's and podman's config files) unless
    /// <paramref name="options"/> names a provider; <c>CONTAINERS_HOST_REGISTRY_MIRRORS</c> (<c>docker.io=127.0.0.1:5000</c>)
    /// pulls a registry's images from a mirror.
    /// </summary>
    public static ContainerImageSource FromRegistry(string imageReference, RegistryClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageReference);
        return new RegistrySource(ImageReference.Parse(imageReference), options);
    }

    /// <summary>
    /// The image a string names, as skopeo and the <c>dotnet container</c> command write it: <c>oci:DIR[:TAG]</c> (an OCI
    /// layout), <c>oci-archive:FILE</c>, <c>docker-archive:FILE</c>, <c>docker://REFERENCE</c> or a plain registry reference
    /// (<c>postgres:15</c>, <c>127.0.0.1:5000/app@sha256:…</c>).
    /// </summary>
    /// <exception cref="OciException">The string is none of these; the message shows the forms.</exception>
    public static ContainerImageSource Parse(string image)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        return FromLocation(ImageLocation.Parse(image));
    }

    /// <summary>The image at <paramref name="location"/>: a registry, an OCI layout or an archive.</summary>
    /// <exception cref="OciException">The location is containerd's store, which images are written to, not read from.</exception>
    public static ContainerImageSource FromLocation(ImageLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Transport switch
        {
            ImageTransport.Registry => FromRegistry(location.RegistryReference!.ToString()),
            ImageTransport.OciLayout => FromOciLayout(location.Path!, location.Reference),
            ImageTransport.OciArchive or ImageTransport.DockerArchive => new ArchiveSource(location.Path!, location.Reference),
            _ => throw new OciException($"'{location}': images are imported into containerd, not read from it; run the image from where it came (a registry, a layout or an archive)."),
        };
    }

    /// <summary>The platform of this machine, which is the one a local runtime can run.</summary>
    public static Platform HostPlatform => RuntimeInformation.OSArchitecture switch
    {
        Architecture.Arm64 => Platform.LinuxArm64,
        _ => Platform.LinuxAmd64,
    };

    /// <summary>Reads the image for the context's platform; the owner (if any) keeps its layers readable until disposed.</summary>
    internal abstract Task<(IImage Image, IDisposable? Owner)> LoadAsync(ImageLoadContext context, CancellationToken cancellationToken);

    /// <summary>
    /// A string that stays the same as long as a reused graph may take <see cref="LoadAsync"/> to give the same image
    /// (a file's path, size and time; a registry reference as written), so attaching to it reads no image and asks no
    /// registry; null when only loading can tell.
    /// </summary>
    internal virtual string? Fingerprint => null;

    private protected static string? FileFingerprint(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{file.FullName} {file.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)} {file.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : null;
    }

    /// <summary>Describes the source for messages.</summary>
    public abstract override string ToString();

    private sealed class LayoutSource(string directory, string? reference) : ContainerImageSource
    {
        // Blobs are named by their digests: only index.json says which image a name is.
        internal override string? Fingerprint => FileFingerprint(Path.Combine(directory, "index.json")) is { } index ? $"oci-layout {index} {reference}" : null;

        internal override async Task<(IImage Image, IDisposable? Owner)> LoadAsync(ImageLoadContext context, CancellationToken cancellationToken) =>
            (await new OciLayoutImageSource(directory, reference).ReadImageAsync(context.Platform, cancellationToken).ConfigureAwait(false), null);

        public override string ToString() => $"OCI layout {directory}" + (reference is null ? "" : $" ({reference})");
    }

    private sealed class ArchiveSource(string path, string? reference = null) : ContainerImageSource
    {
        internal override string? Fingerprint => FileFingerprint(path) is { } file ? "archive " + file + (reference is null ? "" : " " + reference) : null;

        internal override async Task<(IImage Image, IDisposable? Owner)> LoadAsync(ImageLoadContext context, CancellationToken cancellationToken) =>
            (await new ArchiveImageSource(path, reference).ReadImageAsync(context.Platform, cancellationToken).ConfigureAwait(false), null);

        public override string ToString() => $"archive {path}" + (reference is null ? "" : $" ({reference})");
    }

    private sealed class RegistrySource(ImageReference reference, RegistryClientOptions? options) : ContainerImageSource
    {
        // A tag is taken to name the digest it named when the reused graph started, as a running service's image is by
        // docker compose up: no registry request on attach. A moved tag is picked up when the graph is started anew.
        internal override string? Fingerprint => "registry " + reference;

        internal override async Task<(IImage Image, IDisposable? Owner)> LoadAsync(ImageLoadContext context, CancellationToken cancellationToken) =>
            (await new ImageStore(context.CacheDirectory).GetAsync(reference, context.Platform, options, context.Log, cancellationToken).ConfigureAwait(false), null);

        public override string ToString() => reference.ToString();
    }
}

/// <summary>Where and for what an image is loaded: the platform to select from an index, the host's cache, the log.</summary>
internal sealed record ImageLoadContext(Platform Platform, string CacheDirectory, Action<string> Log);
