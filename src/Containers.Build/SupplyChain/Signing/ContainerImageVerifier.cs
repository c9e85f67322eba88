using Containers.Oci.Descriptors;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.References;
using Containers.Oci.Registry;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>The outcome of verifying an image: what verified and, naming each, what did not.</summary>
/// <param name="Image">The image as named.</param>
/// <param name="Digest">The digest the reference resolved to (manifest or index).</param>
/// <param name="Verified">One line per check that passed.</param>
/// <param name="Failures">One line per check that failed; empty when the image verifies.</param>
public sealed record ImageVerificationResult(string Image, Digest Digest, IReadOnlyList<string> Verified, IReadOnlyList<string> Failures)
{
    /// <summary>True when every manifest (and the index) has a signature and a provenance that verify with the key.</summary>
    public bool IsVerified => Failures.Count == 0;
}

/// <summary>
/// Checks an image's signatures and SLSA provenance against a public key: the index (when there is one) and every
/// platform manifest must each have a message-signature bundle over its exact bytes and a DSSE provenance bundle
/// whose in-toto statement names its digest, both signed by the key.
/// </summary>
/// <example>
/// <code>
/// var key = VerificationKey.FromFile("cosign.pub", "VerifyContainerImage");
/// var result = await ContainerImageVerifier.VerifyAsync(registryClient, ImageReference.Parse("127.0.0.1:5000/app:1.0"), key);
/// if (!result.IsVerified) Console.Error.WriteLine(string.Join('\n', result.Failures));
/// </code>
/// </example>
public static class ContainerImageVerifier
{
    /// <summary>Verifies an image in a registry (the referrers API, or the <c>sha256-…</c> tag fallback).</summary>
    public static Task<ImageVerificationResult> VerifyAsync(RegistryClient client, ImageReference image, VerificationKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(image);
        return VerifyAsync(AttachedBundles.For(client, image), image.Digest?.ToString() ?? image.Tag ?? ImageReference.DefaultTag, key, cancellationToken);
    }

    /// <summary>Verifies an image in an OCI layout, named by its ref (tag) or digest.</summary>
    public static Task<ImageVerificationResult> VerifyLayoutAsync(string layoutDirectory, string reference, VerificationKey key, CancellationToken cancellationToken = default) =>
        VerifyAsync(new LayoutSignatureSource(layoutDirectory), reference, key, cancellationToken);

    /// <summary>
    /// Verifies a bundle file against the manifest bytes it is about (for tarball outputs, whose bundles lie beside
    /// the tarball): a message signature over <paramref name="manifest"/>, or a provenance naming its digest.
    /// </summary>
    /// <returns>Null when it verifies, else what failed.</returns>
    public static string? VerifyBundle(ReadOnlySpan<byte> bundleJson, ReadOnlySpan<byte> manifest, VerificationKey key, string what)
    {
        ArgumentNullException.ThrowIfNull(key);
        var bundle = SigstoreBundle.Parse(bundleJson, what);
        return Check(bundle, manifest.ToArray(), Digest.Compute(manifest), key, what).Problem;
    }

    internal static async Task<ImageVerificationResult> VerifyAsync(ISignatureSource source, string reference, VerificationKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var verified = new List<string>();
        var failures = new List<string>();
        var (top, topBytes) = await source.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        var subjects = new List<(string Name, Digest Digest, byte[] Bytes)> { (MediaTypes.IsIndex(top.MediaType) ? "index" : "manifest", top.Digest, topBytes) };
        if (MediaTypes.IsIndex(top.MediaType))
        {
            var index = OciJson.DeserializeIndex(topBytes, $"index {top.Digest} of {source.Name}");
            foreach (var entry in index.Manifests.Where(m => MediaTypes.IsImageManifest(m.MediaType) && m.Platform is not null))
            {
                var (_, bytes) = await source.GetManifestAsync(entry.Digest.ToString(), cancellationToken).ConfigureAwait(false);
                subjects.Add(($"{Containers.Oci.Platforms.PlatformMatching.Format(entry.Platform!)} manifest", entry.Digest, bytes));
            }
        }

        foreach (var (name, digest, bytes) in subjects)
        {
            var bundles = await AttachedBundles.ReadAsync(source, digest, cancellationToken).ConfigureAwait(false);
            var what = $"{name} {digest} of {source.Name}";
            var signatureProblems = new List<string>();
            var provenanceProblems = new List<string>();
            bool signed = false, attested = false;
            foreach (var (referrer, bundle, problem) in bundles)
            {
                var isProvenance = bundle?.Content == SigstoreBundleContent.DsseEnvelope
                    || referrer.Annotations?.GetValueOrDefault(SigstoreBundle.ContentAnnotation) == "dsse-envelope";
                if (bundle is null)
                {
                    (isProvenance ? provenanceProblems : signatureProblems).Add(problem!);
                    continue;
                }

                var (ok, checkProblem) = Check(bundle, bytes, digest, key, $"referrer {referrer.Digest}");
                if (ok)
                {
                    if (isProvenance)
                    {
                        attested = true;
                    }
                    else
                    {
                        signed = true;
                    }
                }
                else
                {
                    (isProvenance ? provenanceProblems : signatureProblems).Add(checkProblem!);
                }
            }

            if (signed)
            {
                verified.Add($"{what}: signature by {key.Hint} verifies");
            }
            else
            {
                failures.Add($"{what}: no signature verifies with key {key.Hint}" + (signatureProblems.Count > 0 ? ": " + string.Join("; ", signatureProblems) : " (no signature referrer)"));
            }

            if (attested)
            {
                verified.Add($"{what}: SLSA provenance signed by {key.Hint} verifies and names it");
            }
            else
            {
                failures.Add($"{what}: no SLSA provenance verifies with key {key.Hint}" + (provenanceProblems.Count > 0 ? ": " + string.Join("; ", provenanceProblems) : " (no provenance referrer)"));
            }
        }

        return new ImageVerificationResult(source.Name + (reference.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":") + reference, top.Digest, verified, failures);
    }

    private static (bool Ok, string? Problem) Check(SigstoreBundle bundle, byte[] manifest, Digest digest, VerificationKey key, string what)
    {
        if (bundle.Content == SigstoreBundleContent.MessageSignature)
        {
            return bundle.Verify(key, manifest) is { } problem ? (false, $"{what}: {problem}") : (true, null);
        }

        if (bundle.Verify(key) is { } envelopeProblem)
        {
            return (false, $"{what}: {envelopeProblem}");
        }

        if (bundle.PayloadType != SigstoreBundle.InTotoPayloadType)
        {
            return (false, $"{what}: the envelope's payload type is '{bundle.PayloadType}', not {SigstoreBundle.InTotoPayloadType}");
        }

        var (predicateType, subjects) = ProvenanceStatement.Read(bundle.Payload, what);
        if (predicateType != ProvenanceStatement.PredicateType)
        {
            return (false, $"{what}: the statement's predicate type is '{predicateType}', not {ProvenanceStatement.PredicateType}");
        }

        return subjects.Contains(digest) ? (true, null) : (false, $"{what}: the provenance does not name {digest} among its subjects");
    }
}
