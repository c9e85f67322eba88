
namespace Containers.Oci.References;

/// <summary>The part of an image reference that a <see cref="ImageReferenceFormatException"/> is about.</summary>
public enum ImageReferencePart
{
    /// <summary>The reference as a whole: empty, or shaped like no reference at all.</summary>
    Reference,
    /// <summary>The registry host and port.</summary>
    Registry,
    /// <summary>The repository path, or the name (registry and repository) as a whole when it is too long.</summary>
    Repository,
    /// <summary>The tag after ':'.</summary>
    Tag,
    /// <summary>The digest after '@'.</summary>
    Digest,
}

/// <summary>
/// An image reference, or one of its parts, does not follow the distribution reference grammar.
/// The message names the part, the text that was refused and why.
/// </summary>
public sealed class ImageReferenceFormatException : OciException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="value">The text that was refused: the whole reference for <see cref="ImageReference.Parse"/>, else the part.</param>
    /// <param name="part">Which part is wrong.</param>
    /// <param name="detail">Why that part is wrong, as one or more sentences.</param>
    public ImageReferenceFormatException(string value, ImageReferencePart part, string detail)
        : base($"'{value}' is not a valid image reference: {detail}")
    {
        Value = value;
        Part = part;
        Detail = detail;
    }

    /// <summary>The text that was refused.</summary>
    public string Value { get; }

    /// <summary>Which part of the reference is wrong.</summary>
    public ImageReferencePart Part { get; }

    /// <summary>Why the part is wrong, without the leading "'x' is not a valid image reference".</summary>
    public string Detail { get; }
}
