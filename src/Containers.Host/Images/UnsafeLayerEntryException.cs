using Containers.Oci;

namespace Containers.Host.Images;

/// <summary>
/// A layer holds an entry that would write outside the root filesystem (a <c>..</c> component, an
/// absolute path, or a hard link whose target leaves the root). The whole unpack is refused.
/// </summary>
public sealed class UnsafeLayerEntryException : OciException
{
    /// <summary>Creates the exception for one entry of one layer.</summary>
    public UnsafeLayerEntryException(string layer, string entryName, string reason)
        : base($"Layer {layer} holds the entry '{entryName}', which {reason}. Unpacking was refused; rebuild the layer without entries that leave the root filesystem.")
    {
        Layer = layer;
        EntryName = entryName;
    }

    /// <summary>The layer that holds the entry (its digest when known).</summary>
    public string Layer { get; }

    /// <summary>The entry name exactly as stored in the tar.</summary>
    public string EntryName { get; }
}
