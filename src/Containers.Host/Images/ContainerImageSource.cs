using System.Runtime.InteropServices;
using Containers.Oci;
using Containers.Oci.Registry;

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

    /// <summary>An image in a registry, e.g. <c>127.0.0.1:5000/app:1.0</c>.</summary>
    public static ContainerImageSource FromRegistry(string imageReference, RegistryClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageReference);
        return new RegistrySource(ImageReference.Parse(imageReference), options);
    }

    /// <summary>The platform of this machine, which is the one a local runtime can run.</summary>
    public static Platform HostPlatform => RuntimeInformation.OSArchitecture switch
    {
        Architecture.Arm64 => Platform.LinuxArm64,
        _ => Platform.LinuxAmd64,
    };

    /// <summary>Reads the image for <paramref name="platform"/>; the owner (if any) keeps its layers readable until disposed.</summary>
    internal abstract Task<(IImage Image, IDisposable? Owner)> LoadAsync(Platform platform, CancellationToken cancellationToken);

    /// <summary>Describes the source for messages.</summary>
    public abstract override string ToString();

    private sealed class LayoutSource(string directory, string? reference) : ContainerImageSource
    {
        internal override async Task<(IImage Image, IDisposable? Owner)> LoadAsync(Platform platform, CancellationToken cancellationToken)
        {
            var layout = OciLayout.Open(directory);
            var name = reference;
            if (name is null)
            {
                var names = await layout.GetRefNamesAsync(cancellationToken).ConfigureAwait(false);
                name = names.Count == 1
                    ? names[0]
                    : throw new OciException($"The OCI layout '{directory}' holds {names.Count} tagged images ({string.Join(", ", names)}); name one with ContainerImageSource.FromOciLayout(directory, reference).");
            }

            return (await layout.ReadImageAsync(name, platform, cancellationToken).ConfigureAwait(false), null);
        }

        public override string ToString() => $"OCI layout {directory}" + (reference is null ? "" : $" ({reference})");
    }

    private sealed class ArchiveSource(string path) : ContainerImageSource
    {
        internal override async Task<(IImage Image, IDisposable? Owner)> LoadAsync(Platform platform, CancellationToken cancellationToken)
        {
            OciArchiveFile archive;
            try
            {
                archive = await OciArchive.OpenAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (OciException)
            {
                // Not an OCI archive: a docker-archive has manifest.json instead of index.json.
                var docker = await DockerArchive.OpenAsync(path, cancellationToken).ConfigureAwait(false);
                return (await docker.ReadImageAsync(cancellationToken: cancellationToken).ConfigureAwait(false), null);
            }

            var names = await archive.GetRefNamesAsync(cancellationToken).ConfigureAwait(false);
            if (names.Count == 0)
            {
                var entries = await archive.GetEntriesAsync(cancellationToken).ConfigureAwait(false);
                return (await archive.ReadImageAsync(entries[0].Descriptor.Digest.ToString(), platform, cancellationToken).ConfigureAwait(false), null);
            }

            return (await archive.ReadImageAsync(names[0], platform, cancellationToken).ConfigureAwait(false), null);
        }

        public override string ToString() => $"archive {path}";
    }

    private sealed class RegistrySource(ImageReference reference, RegistryClientOptions? options) : ContainerImageSource
    {
        internal override async Task<(IImage Image, IDisposable? Owner)> LoadAsync(Platform platform, CancellationToken cancellationToken)
        {
            // The image's layers stream from the registry through this client: it lives until they are unpacked.
            var client = new RegistryClient(options ?? new RegistryClientOptions());
            try
            {
                return (await client.GetImageAsync(reference, platform, cancellationToken).ConfigureAwait(false), client);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        public override string ToString() => reference.ToString();
    }
}
