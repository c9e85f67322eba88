using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;

namespace Containers.Oci.Stores;

// Garbage collection: RemoveRefAsync leaves blobs (another entry may share them); this frees those no entry reaches.
public sealed partial class OciLayout
{
    /// <summary>
    /// Finds the blobs that no entry of index.json reaches (through manifests, their config and layers, indexes and
    /// their manifests) and, unless <paramref name="dryRun"/>, deletes them. Blobs younger than
    /// <paramref name="minimumAge"/> are kept: a writer stores an image's blobs before it names the image in index.json.
    /// </summary>
    /// <returns>The unreferenced blobs (deleted unless <paramref name="dryRun"/>) with their sizes.</returns>
    /// <exception cref="ImageStoreException">index.json or a manifest it reaches cannot be read.</exception>
    public async Task<IReadOnlyList<(Digest Digest, long Size)>> CollectGarbageAsync(TimeSpan minimumAge, bool dryRun, CancellationToken cancellationToken = default)
    {
        var reached = new HashSet<Digest>();
        var pending = new Stack<Descriptor>((await GetEntriesAsync(cancellationToken).ConfigureAwait(false)).Select(e => e.Descriptor));
        while (pending.TryPop(out var descriptor))
        {
            if (!reached.Add(descriptor.Digest) || !HasBlob(descriptor.Digest))
            {
                continue;
            }

            if (MediaTypes.IsIndex(descriptor.MediaType))
            {
                var index = OciJson.DeserializeIndex(await ReadBlobAsync(descriptor.Digest, cancellationToken).ConfigureAwait(false), $"index {descriptor.Digest} in {DirectoryPath}");
                foreach (var manifest in index.Manifests)
                {
                    pending.Push(manifest);
                }
            }
            else if (MediaTypes.IsImageManifest(descriptor.MediaType))
            {
                var manifest = OciJson.DeserializeManifest(await ReadBlobAsync(descriptor.Digest, cancellationToken).ConfigureAwait(false), $"manifest {descriptor.Digest} in {DirectoryPath}");
                reached.Add(manifest.Config.Digest);
                reached.UnionWith(manifest.Layers.Select(l => l.Digest));
            }
        }

        var garbage = new List<(Digest, long)>();
        var blobs = Path.Combine(DirectoryPath, "blobs");
        if (!Directory.Exists(blobs))
        {
            return garbage;
        }

        var cutoff = DateTime.UtcNow - minimumAge;
        foreach (var algorithm in new DirectoryInfo(blobs).EnumerateDirectories())
        {
            foreach (var file in algorithm.EnumerateFiles())
            {
                // Temporary files of writers in flight are not blobs (their names are no digest).
                if (!Digest.TryParse($"{algorithm.Name}:{file.Name}", out var digest) || reached.Contains(digest) || file.LastWriteTimeUtc > cutoff)
                {
                    continue;
                }

                garbage.Add((digest, file.Length));
                if (!dryRun)
                {
                    file.Delete();
                }
            }
        }

        return garbage;
    }

    private async Task<byte[]> ReadBlobAsync(Digest digest, CancellationToken cancellationToken)
    {
        using var stream = OpenBlob(digest);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
