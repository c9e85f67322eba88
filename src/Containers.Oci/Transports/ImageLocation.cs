using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Stores;

namespace Containers.Oci.Transports;

/// <summary>The media an <see cref="ImageLocation"/> names.</summary>
public enum ImageTransport
{
    /// <summary>A registry: <c>docker://REFERENCE</c> or a plain reference (<c>postgres:15</c>, <c>127.0.0.1:5000/app@sha256:…</c>).</summary>
    Registry,

    /// <summary>An OCI image layout directory: <c>oci:DIRECTORY[:REFERENCE]</c>.</summary>
    OciLayout,

    /// <summary>An OCI archive file: <c>oci-archive:FILE[:REFERENCE]</c>.</summary>
    OciArchive,

    /// <summary>A docker archive file (<c>docker save</c>): <c>docker-archive:FILE[:NAME[:TAG]]</c>.</summary>
    DockerArchive,

    /// <summary>containerd's image store, as a target only: <c>containerd:[NAMESPACE/]NAME[:TAG]</c>.</summary>
    Containerd,
}

/// <summary>
/// Where an image is, written the way skopeo and <c>dotnet container</c> write it: <c>oci:DIR[:TAG]</c>,
/// <c>oci-archive:FILE[:TAG]</c>, <c>docker-archive:FILE[:NAME:TAG]</c>, <c>docker://REFERENCE</c> or a plain registry
/// reference. It makes the <see cref="IImageSource"/> to read from there and the <see cref="IImageTarget"/> to write there.
/// </summary>
/// <example>
/// Copy an image from a registry into an OCI layout, keeping its digest:
/// <code>
/// using var registry = new RegistryClient();
/// var content = await ImageLocation.Parse("127.0.0.1:5000/app:1.0").CreateSource(registry).ReadAsync();
/// await ImageLocation.Parse("oci:/tmp/app-layout:1.0").CreateTarget(registry).WriteAsync(content);
/// </code>
/// </example>
public sealed class ImageLocation
{
    private const string Forms = "a registry reference (postgres:15, 127.0.0.1:5000/app:1.0, docker://REFERENCE), oci:DIRECTORY[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or containerd:[NAMESPACE/]NAME[:TAG]";

    private ImageLocation(ImageTransport transport, string? path, string? reference, ImageReference? registryReference, string? containerdNamespace = null)
    {
        Transport = transport;
        Path = path;
        Reference = reference;
        RegistryReference = registryReference;
        ContainerdNamespace = containerdNamespace;
    }

    /// <summary>The medium.</summary>
    public ImageTransport Transport { get; }

    /// <summary>The layout directory or archive file; null for a registry.</summary>
    public string? Path { get; }

    /// <summary>The name inside a layout or archive (a tag, a digest, a docker archive's <c>NAME:TAG</c>); null when none was given.</summary>
    public string? Reference { get; }

    /// <summary>The registry reference; null for the other media.</summary>
    public ImageReference? RegistryReference { get; }

    /// <summary>containerd's namespace (<see cref="ImageTransport.Containerd"/> only); <see cref="Reference"/> is the full image name there.</summary>
    public string? ContainerdNamespace { get; }

    /// <summary>An image in a registry.</summary>
    public static ImageLocation FromRegistry(ImageReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return new ImageLocation(ImageTransport.Registry, null, null, reference);
    }

    /// <summary>An image in an OCI layout directory, by ref name or digest (null: its only image).</summary>
    public static ImageLocation FromOciLayout(string directory, string? reference = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return new ImageLocation(ImageTransport.OciLayout, directory, NullIfEmpty(reference), null);
    }

    /// <summary>An image in an OCI archive file, by ref name or digest (null: its first named image).</summary>
    public static ImageLocation FromOciArchive(string path, string? reference = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new ImageLocation(ImageTransport.OciArchive, path, NullIfEmpty(reference), null);
    }

    /// <summary>An image in a docker archive file, by <c>NAME:TAG</c> (null: its only image).</summary>
    public static ImageLocation FromDockerArchive(string path, string? reference = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new ImageLocation(ImageTransport.DockerArchive, path, NullIfEmpty(reference), null);
    }

    /// <summary>
    /// An image name in containerd (namespace null: <see cref="ContainerdStore.DefaultNamespace"/>, or
    /// <c>CONTAINERD_NAMESPACE</c> as ctr reads it), normalized as Kubernetes resolves short names; no tag: <c>latest</c>.
    /// </summary>
    /// <exception cref="ImageReferenceFormatException">The name is not an image reference.</exception>
    public static ImageLocation FromContainerd(string name, string? @namespace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var reference = ImageReference.Parse(name);
        var full = (reference.Tag is null && reference.Digest is null ? reference.WithTag(ImageReference.DefaultTag) : reference).ToString();

        var ns = NullIfEmpty(@namespace) ?? NullIfEmpty(Environment.GetEnvironmentVariable("CONTAINERD_NAMESPACE")) ?? ContainerdStore.DefaultNamespace;
        return new ImageLocation(ImageTransport.Containerd, null, full, null, ns);
    }

    /// <summary>Parses one of the forms listed on <see cref="ImageLocation"/>.</summary>
    /// <exception cref="OciException">The text is none of them; the message shows the forms.</exception>
    public static ImageLocation Parse(string text) =>
        TryParse(text, out var location, out var error) ? location : throw new OciException(error);

    /// <summary>Parses one of the forms listed on <see cref="ImageLocation"/>; false with a message that shows the forms otherwise.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ImageLocation? location, out string error)
    {
        location = null;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"An empty image name; expected {Forms}.";
            return false;
        }

        if (text.StartsWith("oci:", StringComparison.Ordinal))
        {
            // oci:DIR:TAG — the tag is after the last ':' when that is not part of the path.
            var rest = text["oci:".Length..];
            var colon = rest.LastIndexOf(':');
            (var directory, var reference) = colon > 0 && !rest[(colon + 1)..].Contains('/', StringComparison.Ordinal)
                ? (rest[..colon], rest[(colon + 1)..])
                : (rest, null);
            return Made(directory, d => FromOciLayout(d, reference), text, out location, out error);
        }

        foreach (var (prefix, make) in new (string, Func<string, string?, ImageLocation>)[] { ("oci-archive:", FromOciArchive), ("docker-archive:", FromDockerArchive) })
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                // FILE[:REFERENCE], as skopeo splits it: the file ends at the first ':'.
                var rest = text[prefix.Length..];
                var colon = rest.IndexOf(':', StringComparison.Ordinal);
                (var file, var reference) = colon >= 0 ? (rest[..colon], rest[(colon + 1)..]) : (rest, null);
                return Made(file, f => make(f, reference), text, out location, out error);
            }
        }

        if (text.StartsWith("containerd:", StringComparison.Ordinal))
        {
            return TryParseContainerd(text, out location, out error);
        }

        var registryText = text.StartsWith("docker://", StringComparison.Ordinal) ? text["docker://".Length..] : text;
        if (!ImageReference.TryParse(registryText, out var parsed))
        {
            error = $"'{text}' is not an image: expected {Forms}.";
            return false;
        }

        location = FromRegistry(parsed);
        return true;
    }

    // containerd:[NAMESPACE/]NAME[:TAG]. The first part is a namespace only when a full name with a host follows it
    // (k8s.io/docker.io/library/app:1.0): a name's own first part is a namespace to nobody.
    private static bool TryParseContainerd(string text, out ImageLocation? location, out string error)
    {
        location = null;
        var rest = text["containerd:".Length..];
        string? ns = null;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && rest.IndexOf('/', slash + 1) is var second and > 0 && ContainerdImageTarget.IsHost(rest[(slash + 1)..second]) && ContainerdStore.IsValidNamespace(rest[..slash]))
        {
            ns = rest[..slash];
            rest = rest[(slash + 1)..];
        }

        if (!ImageReference.TryParse(rest, out _))
        {
            error = $"'{text}' names no image: expected containerd:[NAMESPACE/]NAME[:TAG] (containerd:app:1.0, containerd:k8s.io/docker.io/library/app:1.0).";
            return false;
        }

        location = FromContainerd(rest, ns);
        error = "";
        return true;
    }

    /// <summary>
    /// The source that reads this image. A registry needs <paramref name="registryClient"/> (its credentials, mirrors
    /// and progress); the other media read files.
    /// </summary>
    /// <exception cref="ArgumentNullException">A registry location without a client.</exception>
    /// <exception cref="OciException">containerd, which is a target only.</exception>
    public IImageSource CreateSource(RegistryClient? registryClient = null) => Transport switch
    {
        ImageTransport.Containerd => throw new OciException($"'{this}': images are imported into containerd, not read from it; read the image from where it came (a registry, a layout or an archive)."),
        ImageTransport.Registry => new RegistryImageSource(registryClient ?? throw new ArgumentNullException(nameof(registryClient), $"Reading {this} needs a RegistryClient."), RegistryReference!),
        ImageTransport.OciLayout => new OciLayoutImageSource(Path!, Reference),
        _ => new ArchiveImageSource(Path!, Reference),
    };

    /// <summary>
    /// The target that writes this image: a registry push (needs <paramref name="registryClient"/>), a layout
    /// (created when missing, named by the reference), or an archive file (replaced; stamped with
    /// <paramref name="archiveEntryTime"/> or the fixed default), or containerd (at <c>CONTAINERD_ADDRESS</c>, else its default socket). A docker archive needs a <c>NAME:TAG</c>.
    /// </summary>
    /// <exception cref="OciException">A docker archive without a name.</exception>
    public IImageTarget CreateTarget(RegistryClient? registryClient = null, DateTimeOffset? archiveEntryTime = null) => Transport switch
    {
        ImageTransport.Registry => new RegistryImageTarget(registryClient ?? throw new ArgumentNullException(nameof(registryClient), $"Writing {this} needs a RegistryClient."), RegistryReference!),
        ImageTransport.OciLayout => new OciLayoutImageTarget(Path!, Reference is null ? [] : [Reference]),
        ImageTransport.OciArchive => new OciArchiveImageTarget(Path!, Reference is null ? [] : [Reference], archiveEntryTime),
        // ctr's variable for the socket; the default is containerd's own.
        ImageTransport.Containerd => new ContainerdImageTarget(NullIfEmpty(Environment.GetEnvironmentVariable("CONTAINERD_ADDRESS")), ContainerdNamespace, [Reference!]),
        _ => new DockerArchiveImageTarget(
            Path!,
            Reference is null ? throw new OciException($"'{this}': a docker archive names its image; write docker-archive:{Path}:NAME:TAG.") : [Reference],
            archiveEntryTime),
    };

    /// <summary>The location in the form <see cref="Parse(string)"/> reads.</summary>
    public override string ToString() => Transport switch
    {
        ImageTransport.Registry => RegistryReference!.ToString(),
        ImageTransport.OciLayout => FormatOciLayout(Path!, Reference),
        ImageTransport.OciArchive => "oci-archive:" + Path + (Reference is null ? "" : ":" + Reference),
        ImageTransport.Containerd => $"containerd:{ContainerdNamespace}/{Reference}",
        _ => "docker-archive:" + Path + (Reference is null ? "" : ":" + Reference),
    };

    internal static string FormatOciLayout(string directory, string? reference) => "oci:" + directory + (reference is null ? "" : ":" + reference);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool Made(string path, Func<string, ImageLocation> make, string text, out ImageLocation? location, out string error)
    {
        if (path.Length == 0)
        {
            location = null;
            error = $"'{text}' names no file or directory: expected {Forms}.";
            return false;
        }

        location = make(path);
        error = "";
        return true;
    }
}
