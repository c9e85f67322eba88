using Containers.Oci.Transports;

namespace Containers.Build.Publishing;

/// <summary>Where a built image goes. Each kind is a value; the publisher writes to exactly one.</summary>
public abstract record ContainerDestination
{
    private protected ContainerDestination()
    {
    }

    /// <summary>The tags the image is written under (at least one).</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>The repository name the image is written as (within the registry, or as the local name).</summary>
    public abstract string Repository { get; init; }

    /// <summary>Pushes to a registry repository.</summary>
    /// <param name="Registry">The registry host, with port when not the default.</param>
    /// <param name="Repository">The repository within it.</param>
    public sealed record RegistryRepository(string Registry, string Repository) : ContainerDestination;

    /// <summary>Writes into an OCI image layout directory (created when missing), one ref name per tag.</summary>
    /// <param name="DirectoryPath">The layout directory.</param>
    /// <param name="Repository">The repository name, used for ref names <c>repository:tag</c>-free layouts keep only the tag.</param>
    public sealed record OciLayoutDirectory(string DirectoryPath, string Repository) : ContainerDestination;

    /// <summary>Writes a tarball: docker-archive (<c>docker load</c>) or OCI archive.</summary>
    /// <param name="FilePath">The tarball path.</param>
    /// <param name="Repository">The repository name written as RepoTags in a docker archive.</param>
    /// <param name="Format">Which tarball format.</param>
    public sealed record Archive(string FilePath, string Repository, ArchiveFormat Format) : ContainerDestination;

    /// <summary>Loads into a local container engine through its CLI (<c>docker load</c> or <c>podman load</c>).</summary>
    /// <param name="Command">The CLI: <c>docker</c> or <c>podman</c>, or a full path.</param>
    /// <param name="Repository">The repository name the image is loaded as.</param>
    public sealed record LocalDaemon(string Command, string Repository) : ContainerDestination;

    /// <summary>Imports into containerd's content and image stores over its API socket (<c>LocalRegistry=containerd</c>).</summary>
    /// <param name="Address">containerd's socket path.</param>
    /// <param name="Namespace">The containerd namespace (<c>k8s.io</c> for the images Kubernetes nodes run).</param>
    /// <param name="Repository">The repository name; the image names are its normalized form (<see cref="ImageNames"/>).</param>
    public sealed record Containerd(string Address, string Namespace, string Repository) : ContainerDestination
    {
        /// <summary>
        /// The names the image gets, one per tag: the repository as Kubernetes and ctr resolve a short name
        /// (<c>app</c> → <c>docker.io/library/app</c>, <c>team/app</c> → <c>docker.io/team/app</c>; a name whose first part
        /// is a host stays), so a pod's <c>image: app:1.0</c> finds the imported image.
        /// </summary>
        public IReadOnlyList<string> ImageNames => Tags.Select(tag => NormalizedRepository + ":" + tag).ToArray();

        /// <summary>The repository as containerd's clients name it (see <see cref="ImageNames"/>).</summary>
        public string NormalizedRepository => ContainerdImageTarget.NormalizeName(Repository);
    }
}

/// <summary>Tarball formats.</summary>
public enum ArchiveFormat
{
    /// <summary>The <c>docker save</c> format, loadable by <c>docker load</c> and <c>podman load</c>.</summary>
    Docker,

    /// <summary>A tar of an OCI image layout (<c>oci-archive:</c>).</summary>
    Oci,
}
