namespace Containers.Host.Runtimes;

/// <summary>The ways <see cref="Lifecycle.ContainerHost"/> can run a container.</summary>
public enum ContainerBackendKind
{
    /// <summary>
    /// The first that works here: as root on Linux, an OCI runtime on PATH (runc, crun, youki; one that fails is skipped
    /// for the rest of the process), else <see cref="Namespaces"/>; not root on Linux, <see cref="Cli"/> when podman or
    /// docker is there, else the OCI runtime rootless; not Linux, <see cref="Cli"/>.
    /// </summary>
    Automatic,

    /// <summary>
    /// An OCI runtime (runc, crun or youki) with a runtime-spec bundle. Not root, it runs rootless: the caller mapped to
    /// the container's root in a user namespace, on the host's network.
    /// </summary>
    OciRuntime,

    /// <summary>
    /// Built in, for machines with no OCI runtime: Linux namespaces through util-linux <c>unshare</c> (weaker isolation
    /// than a runtime: no seccomp or masked paths). Not root, it runs rootless like the OCI runtime backend.
    /// </summary>
    Namespaces,

    /// <summary>
    /// The podman or docker command line (CONTAINERS_HOST_CLI names another): the image is loaded into its store and run
    /// there, ports published with <c>--publish 127.0.0.1::port</c>. For developer machines where the host cannot run
    /// containers itself — not root, macOS, Windows. The app must listen on the container's network interface (0.0.0.0),
    /// as ASP.NET Core's container defaults do.
    /// </summary>
    Cli,
}
