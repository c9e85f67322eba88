using Containers.Host.Lifecycle;
using Containers.Oci;

namespace Containers.Host.Runtimes;

/// <summary>One container to start: its directory, the image, the caller's options and the container ports to publish.</summary>
internal sealed record ContainerLaunch(ContainerDirectory Directory, IImage Image, ContainerStartOptions Options, IReadOnlyList<int> Ports, Action<string> Log)
{
    public string Id => Directory.Id;

    public ImageConfig Config => Image.Config;
}
