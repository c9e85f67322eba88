using System.Text;
using Containers.Oci;
using Containers.Oci.Digests;

namespace Containers.Build.Publishing;

/// <summary>The reference a deployment uses for a published image, with what it was made from.</summary>
/// <param name="Reference">
/// The line written to a references file: <c>registry/repository@sha256:…</c> for a registry, the name containerd
/// resolves (<c>docker.io/library/app@sha256:…</c>) for containerd, <c>repository:tag</c> for docker and podman (their
/// stores keep no manifest digest), <c>oci:DIR:TAG</c>, <c>oci-archive:FILE</c> or <c>docker-archive:FILE</c> for files.
/// </param>
/// <param name="Repository">The repository part, as the destination names it (<c>registry/repository</c>, the normalized containerd name, or the local name).</param>
/// <param name="Digest">The digest of what the tags point at: the manifest, or the index of a multi-platform image.</param>
/// <param name="MediaType">That manifest's or index's media type.</param>
/// <param name="Tags">The tags written.</param>
/// <param name="IsDigestPinned">True when <paramref name="Reference"/> names the digest (registry and containerd).</param>
public sealed record ContainerImageReference(string Reference, string Repository, Digest Digest, string MediaType, IReadOnlyList<string> Tags, bool IsDigestPinned);

/// <summary>
/// Digest-pinned references for deployment files (what ko's <c>--image-refs</c> and Jib's <c>jib.outputPaths.digest</c>
/// give): one per publish, naming the index when several platforms were published (a Kubernetes node picks its platform
/// from it), the manifest otherwise.
/// </summary>
public static class ContainerImageReferences
{
    /// <summary>The reference of what <paramref name="result"/> wrote to <paramref name="destination"/>.</summary>
    public static ContainerImageReference For(ContainerDestination destination, ContainerPublishResult result)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(result);
        var tags = result.Tags;
        return destination switch
        {
            ContainerDestination.RegistryRepository registry => Pinned(registry.Registry + "/" + registry.Repository),
            ContainerDestination.Containerd containerd => Pinned(containerd.NormalizedRepository),
            ContainerDestination.LocalDaemon daemon => Named(daemon.Repository + ":" + tags[0], daemon.Repository),
            ContainerDestination.OciLayoutDirectory layout => Named(DefaultDestination.OciLayoutReference(result.LayoutPath ?? layout.DirectoryPath, tags[0]), layout.Repository),
            ContainerDestination.Archive archive => Named((archive.Format == ArchiveFormat.Oci ? "oci-archive:" : "docker-archive:") + (result.ArchivePath ?? archive.FilePath), archive.Repository),
            _ => throw new ArgumentOutOfRangeException(nameof(destination), destination.GetType().Name, "unknown destination"),
        };

        ContainerImageReference Pinned(string repository) =>
            new(repository + "@" + result.Digest, repository, result.Digest, result.MediaType, tags, IsDigestPinned: true);

        ContainerImageReference Named(string reference, string repository) =>
            new(reference, repository, result.Digest, result.MediaType, tags, IsDigestPinned: false);
    }

    /// <summary>
    /// Writes one line per reference to <paramref name="path"/> (directories created), through a temporary file renamed
    /// into place, so a reader never sees a half-written file.
    /// </summary>
    /// <exception cref="OciException">The file cannot be written; the message names it.</exception>
    public static void WriteFile(string path, IEnumerable<ContainerImageReference> references)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(references);
        var full = Path.GetFullPath(path);
        var temporary = full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(temporary, string.Concat(references.Select(r => r.Reference + "\n")), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new OciException($"ContainerImageReferencesFile '{path}' cannot be written ({ex.Message}); choose a writable path.", ex);
        }
    }

    /// <summary>Deletes a references file left by an earlier publish, so a failed publish never leaves one behind that names the old image.</summary>
    /// <exception cref="OciException">The file exists and cannot be deleted.</exception>
    public static void DeleteStale(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OciException($"ContainerImageReferencesFile '{path}' exists and cannot be replaced ({ex.Message}); choose a writable path.", ex);
        }
    }
}
