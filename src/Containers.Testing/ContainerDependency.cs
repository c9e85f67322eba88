using Containers.Host.Images;

namespace Containers.Testing;

/// <summary>
/// An image the tests need beside the apps — a database, a cache, a neighbouring service (a <c>ContainerDependency</c>
/// item): a registry reference (<c>postgres:15</c>, pulled once into the host's image cache), an OCI layout
/// (<c>oci:DIR[:TAG]</c>) or a tarball (<c>oci-archive:FILE</c>, <c>docker-archive:FILE</c>). The generated
/// <c>ContainersUnderTest</c> class has one per item.
/// </summary>
/// <example>
/// <code>
/// &lt;ContainerDependency Include="db" Image="postgres:15" Wait="tcp:5432"&gt;
///   &lt;Environment&gt;POSTGRES_PASSWORD=test&lt;/Environment&gt;
/// &lt;/ContainerDependency&gt;
/// </code>
/// </example>
public sealed class ContainerDependency : TestContainer
{
    /// <summary>Creates a handle named <paramref name="name"/> for the image <paramref name="image"/> (any form <see cref="ContainerImageSource.Parse"/> reads).</summary>
    /// <exception cref="Containers.Oci.OciException">The image is none of those forms; the message shows them.</exception>
    public ContainerDependency(string name, string image)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        ImageReference = image;
        Image = ContainerImageSource.Parse(image);
    }

    /// <summary>The image as written (the item's <c>Image</c> metadata).</summary>
    public string ImageReference { get; }

    /// <inheritdoc />
    public override ContainerImageSource Image { get; }
}
