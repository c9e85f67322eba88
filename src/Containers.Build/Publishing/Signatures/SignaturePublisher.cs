using System.Security.Cryptography;
using System.Text;
using Containers.Build.Publishing.Building;
using Containers.Build.Reproducibility;
using Containers.Build.SupplyChain.Signing;
using Containers.Oci;
using Containers.Oci.Descriptors;
using Containers.Oci.Images;
using Containers.Oci.Referrers;
using Containers.Oci.Registry;
using Containers.Oci.Stores;

namespace Containers.Build.Publishing.Signatures;

/// <summary>
/// Signs each image manifest (and the index) and one SLSA provenance naming them all, as sigstore bundles, and puts
/// them where the destination keeps them: OCI referrers in a registry or layout, files beside a tarball, and the
/// signing output directory. The key is read here, from its location, and leaves this class only as signatures.
/// </summary>
internal sealed class SignaturePublisher(Action<string> report)
{
    /// <summary>Signs what the publish built. Reuses a bundle remembered in the output directory when it still verifies, so an unchanged image gets the same bytes.</summary>
    public List<PublishedSignature> Sign(ContainerPublishRequest request, ContainerSigningOptions options, IReadOnlyList<BuiltAppImage> images, IImageIndex? index)
    {
        var imageName = ImageName(request.Destination);
        var subjects = new List<(string Name, Descriptor Descriptor, ReadOnlyMemory<byte> Bytes)>();
        if (index is not null)
        {
            subjects.Add(("index", index.IndexDescriptor, index.IndexBytes));
        }

        foreach (var image in images)
        {
            subjects.Add((image.Info.RuntimeIdentifier, image.Image.ManifestDescriptor, image.Image.ManifestBytes));
        }

        var statement = ProvenanceStatement.Create(new ProvenanceRequest
        {
            Subjects = subjects.Select(s => new ProvenanceSubject(s.Name == "index" || images.Count == 1 ? imageName : $"{imageName} ({s.Name})", s.Descriptor.Digest)).ToArray(),
            Project = options.Project,
            Configuration = options.Configuration,
            RuntimeIdentifiers = images.Select(i => i.Info.RuntimeIdentifier).ToArray(),
            ContainerProperties = options.ContainerProperties,
            BaseImages = images.Select(i => new ProvenanceBaseImage(
                i.Info.RuntimeIdentifier,
                request.BaseImage.ToString(),
                request.BaseImageLayoutPath is { } layout ? "oci-layout:" + layout : request.BaseImage.Registry + "/" + request.BaseImage.Repository,
                i.BaseDigest)).ToArray(),
            Source = SourceRevision.Detect(request.ProjectDirectory),
            Builder = BuilderIdentity.Detect(options.Environment),
        });

        using var key = SigningKey.Load(options.KeyLocation, request.ProjectDirectory, options.Environment);
        var cache = options.OutputDirectory is { } directory ? Path.Combine(directory, ".cache") : null;
        var signatures = new List<PublishedSignature>();
        var (provenance, provenanceReused) = GetOrSign(cache, key, "dsse", statement, () => SigstoreBundle.SignEnvelope(SigstoreBundle.InTotoPayloadType, statement, key), []);
        foreach (var (name, descriptor, bytes) in subjects)
        {
            var (signature, reused) = GetOrSign(cache, key, "message", bytes.ToArray(), () => SigstoreBundle.SignMessage(bytes.Span, key), bytes.ToArray());
            signatures.Add(new PublishedSignature(name, descriptor, SigstoreBundle.SignaturePredicateType, signature) { Reused = reused });
            signatures.Add(new PublishedSignature(name, descriptor, ProvenanceStatement.PredicateType, provenance) { Reused = provenanceReused });
        }

        report($"Signed {subjects.Count} manifest{(subjects.Count > 1 ? "s" : "")} and their SLSA provenance with {key}{(signatures.All(s => s.Reused) ? " (unchanged: the earlier signatures are reused)" : "")}.");
        return signatures;
    }

    /// <summary>Pushes each bundle as a referrer of its manifest; call after the image is pushed, before the tags move.</summary>
    public async Task<List<PublishedSignature>> AttachAsync(RegistryClient registry, ContainerDestination.RegistryRepository destination, IReadOnlyList<PublishedSignature> signatures, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        var attached = new List<PublishedSignature>();
        foreach (var signature in signatures)
        {
            var pushed = await registry.PushReferrerAsync(destination.Registry, destination.Repository, Referrer(signature, timestamp), cancellationToken).ConfigureAwait(false);
            attached.Add(signature with { ReferrerDigest = pushed.ManifestDigest });
        }

        report($"Signatures and provenance attached as {attached.Count} referrers ({(attached.FirstOrDefault() is { } first ? "tag " + ReferrerArtifact.FallbackTag(first.Subject.Digest) + " and the like, or the referrers API" : "none")}).");
        return attached;
    }

    /// <summary>Writes each bundle into the layout as a referrer of its manifest.</summary>
    public static async Task<List<PublishedSignature>> AttachAsync(OciLayout layout, IReadOnlyList<PublishedSignature> signatures, BuildTimestamp timestamp, CancellationToken cancellationToken)
    {
        var attached = new List<PublishedSignature>();
        foreach (var signature in signatures)
        {
            var entry = await layout.WriteReferrerAsync(Referrer(signature, timestamp), cancellationToken).ConfigureAwait(false);
            attached.Add(signature with { ReferrerDigest = entry.Digest });
        }

        return attached;
    }

    /// <summary>
    /// Writes the bundles to files named after <paramref name="namedAfter"/> (a tarball path, or a file named after the
    /// repository in the output directory): app.sig.sigstore.json (app.linux-x64.sig.sigstore.json and
    /// app.index.sig.sigstore.json for several platforms) and app.provenance.sigstore.json.
    /// </summary>
    public static List<PublishedSignature> WriteFiles(string namedAfter, IReadOnlyList<PublishedSignature> signatures, bool perPlatform)
    {
        var name = Path.GetFileName(namedAfter);
        foreach (var extension in new[] { ".tar.gz", ".tgz", ".tar" })
        {
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^extension.Length];
                break;
            }
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(namedAfter)) ?? ".";
        var written = new List<PublishedSignature>();
        foreach (var signature in signatures)
        {
            var fileName = signature.IsProvenance
                ? name + ".provenance.sigstore.json"
                : name + (perPlatform ? "." + signature.Name : "") + ".sig.sigstore.json";
            var path = Path.Combine(directory, fileName);
            try
            {
                Directory.CreateDirectory(directory);
                AtomicFile.Write(path, signature.Bundle.Span);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new OciException($"The signature bundle '{path}' cannot be written ({ex.Message}); choose a writable output path (ContainerSigningOutputDirectory) or unset ContainerSigningKey.", ex);
            }

            written.Add(signature with { Files = [.. signature.Files, path] });
        }

        return written;
    }

    private static ReferrerArtifact Referrer(PublishedSignature signature, BuildTimestamp timestamp) =>
        ReferrerArtifact.Create(
            SigstoreBundle.MediaType,
            signature.Bundle,
            SigstoreBundle.MediaType,
            signature.Subject,
            new Dictionary<string, string>
            {
                [SigstoreBundle.ContentAnnotation] = signature.IsProvenance ? "dsse-envelope" : "message-signature",
                [SigstoreBundle.PredicateTypeAnnotation] = signature.PredicateType,
                ["org.opencontainers.image.created"] = timestamp.Text,
            });

    // ECDSA signatures are randomized: remembering the last one for the same signed bytes and key keeps an unchanged
    // publish byte-identical, so its referrers are the ones already there.
    private static (byte[] Bundle, bool Reused) GetOrSign(string? cache, SigningKey key, string kind, byte[] signed, Func<SigstoreBundle> sign, ReadOnlySpan<byte> message)
    {
        string? path = null;
        if (cache is not null)
        {
            var name = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\n{key.PublicKey.Hint}\n{Convert.ToHexString(SHA256.HashData(signed))}"))).ToLowerInvariant();
            path = Path.Combine(cache, name + ".sigstore.json");
            if (File.Exists(path))
            {
                try
                {
                    var remembered = File.ReadAllBytes(path);
                    var bundle = SigstoreBundle.Parse(remembered, "remembered bundle " + path);
                    var sameContent = kind == "dsse" ? bundle.Payload is { } payload && payload.AsSpan().SequenceEqual(signed) : bundle.Content == SigstoreBundleContent.MessageSignature;
                    if (sameContent && bundle.Verify(key.PublicKey, message) is null)
                    {
                        return (remembered, true);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OciException)
                {
                    // A damaged or foreign cache entry is simply signed again.
                }
            }
        }

        var made = sign().ToJson();
        if (path is not null)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                AtomicFile.Write(path, made);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not remembering only costs a new signature next time.
            }
        }

        return (made, false);
    }

    private static string ImageName(ContainerDestination destination) =>
        destination is ContainerDestination.RegistryRepository r ? r.Registry + "/" + r.Repository : destination.Repository;
}
