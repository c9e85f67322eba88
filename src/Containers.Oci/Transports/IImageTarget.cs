using Containers.Oci.Descriptors;

namespace Containers.Oci.Transports;

/// <summary>
/// Where an image is written: a registry repository, an OCI layout, an OCI or docker archive, a local docker/podman
/// engine. The target knows the names (tags) the image gets there; writing keeps the manifest bytes, so the digest is
/// the source's wherever the medium stores manifests as they are (all but the engines, which re-make them).
/// </summary>
public interface IImageTarget
{
    /// <summary>Writes <paramref name="content"/> and names it; returns the descriptor of what was written.</summary>
    /// <exception cref="OciException">The medium cannot hold the content (e.g. an index in a docker archive) or refused it.</exception>
    Task<Descriptor> WriteAsync(ImageContent content, CancellationToken cancellationToken = default);

    /// <summary>Describes the target for messages.</summary>
    string ToString();
}
