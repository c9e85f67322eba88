using Containers.Oci.Descriptors;

namespace Containers.Oci.Stores;

/// <summary>One entry of an OCI layout's index.json: a manifest or index, and the name it is known by.</summary>
/// <param name="RefName">The <c>org.opencontainers.image.ref.name</c> annotation (usually a tag), or null when the entry has none.</param>
/// <param name="Descriptor">The descriptor of the manifest or index, as listed.</param>
public sealed record OciLayoutEntry(string? RefName, Descriptor Descriptor);
