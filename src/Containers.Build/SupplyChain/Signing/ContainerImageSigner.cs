using Containers.Oci.References;
using Containers.Oci.Referrers;
using Containers.Oci.Registry;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>
/// Signs an image that is already in a registry (a base image, say, for ContainerBaseImagePolicy's
/// <c>signed-by</c>): a message-signature bundle over the manifest or index the reference names, attached as its
/// referrer the way cosign's bundle format does.
/// </summary>
/// <example>
/// <code>
/// using var key = SigningKey.Load("keys/base.pem", Environment.CurrentDirectory);
/// await ContainerImageSigner.SignAsync(registryClient, ImageReference.Parse("127.0.0.1:5000/dotnet/runtime:10.0"), key);
/// </code>
/// </example>
public static class ContainerImageSigner
{
    /// <summary>Signs and attaches; returns the referrer's digest.</summary>
    public static async Task<ReferrerPushResult> SignAsync(RegistryClient client, ImageReference image, SigningKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(key);
        var manifest = await client.GetManifestAsync(image.Registry, image.Repository, image.Digest?.ToString() ?? image.Tag ?? ImageReference.DefaultTag, cancellationToken).ConfigureAwait(false);
        var bundle = SigstoreBundle.SignMessage(manifest.Bytes.Span, key).ToJson();
        var artifact = ReferrerArtifact.Create(
            SigstoreBundle.MediaType,
            bundle,
            SigstoreBundle.MediaType,
            manifest.Descriptor,
            new Dictionary<string, string>
            {
                [SigstoreBundle.ContentAnnotation] = "message-signature",
                [SigstoreBundle.PredicateTypeAnnotation] = SigstoreBundle.SignaturePredicateType,
            });
        return await client.PushReferrerAsync(image.Registry, image.Repository, artifact, cancellationToken).ConfigureAwait(false);
    }
}
