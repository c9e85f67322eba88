using Containers.Oci.References;
using Containers.Oci.Registry;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>
/// ContainerBaseImagePolicy: rules a base image must meet before anything is built, ';'-separated:
/// <c>pinned</c> (named by digest, not only a tag) and <c>signed-by=&lt;PEM public key file&gt;</c> (its manifest, or
/// the index its reference names, has a sigstore signature referrer by that key; several signed-by rules accept any
/// of their keys).
/// </summary>
/// <example><c>&lt;ContainerBaseImagePolicy&gt;pinned;signed-by=keys/base-images.pub&lt;/ContainerBaseImagePolicy&gt;</c></example>
public sealed class BaseImagePolicy
{
    private readonly string _text;

    private BaseImagePolicy(string text, bool requirePinned, IReadOnlyList<(string Path, VerificationKey Key)> signers)
    {
        _text = text;
        RequiresDigest = requirePinned;
        Signers = signers;
    }

    /// <summary>True when the base must be named by digest.</summary>
    public bool RequiresDigest { get; }

    /// <summary>The keys of which one must have signed the base; empty when no signature is required.</summary>
    public IReadOnlyList<(string Path, VerificationKey Key)> Signers { get; }

    /// <summary>Parses the setting; key files are read relative to <paramref name="baseDirectory"/>.</summary>
    /// <exception cref="SigningException">An unknown rule, or a key file that cannot be read.</exception>
    public static BaseImagePolicy Parse(string text, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pinned = false;
        var signers = new List<(string, VerificationKey)>();
        foreach (var rule in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = rule.IndexOf('=', StringComparison.Ordinal);
            var name = (separator < 0 ? rule : rule[..separator]).Trim().ToLowerInvariant();
            var value = separator < 0 ? null : rule[(separator + 1)..].Trim();
            switch (name)
            {
                case "pinned" when value is null:
                    pinned = true;
                    break;
                case "signed-by" when !string.IsNullOrEmpty(value):
                    var path = Path.GetFullPath(value, baseDirectory);
                    signers.Add((path, VerificationKey.FromFile(path, "ContainerBaseImagePolicy")));
                    break;
                default:
                    throw new SigningException(SigningFailure.InvalidPolicy, $"ContainerBaseImagePolicy rule '{rule}' is not known; expected 'pinned' (the base named by digest) or 'signed-by=<PEM public key file>', separated by ';'.");
            }
        }

        return new BaseImagePolicy(text.Trim(), pinned, signers);
    }

    /// <summary>
    /// Checks <paramref name="baseImage"/> (read from <paramref name="layoutPath"/> when given, else its registry).
    /// Reads only the manifest and its referrers; builds and pushes nothing.
    /// </summary>
    /// <exception cref="SigningException">The base breaks a rule; the message names the base and the rule.</exception>
    public async Task EnforceAsync(RegistryClient registry, ImageReference baseImage, string? layoutPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(baseImage);
        if (RequiresDigest && baseImage.Digest is null)
        {
            throw new SigningException(SigningFailure.PolicyRefused, $"ContainerBaseImagePolicy rule 'pinned' refuses base image {baseImage}: it is named by tag, not digest. Set ContainerBaseImage to {baseImage.Registry}/{baseImage.Repository}@sha256:<digest> (e.g. from 'skopeo inspect --format {{{{.Digest}}}} docker://{baseImage}').");
        }

        if (Signers.Count == 0)
        {
            return;
        }

        ISignatureSource source = layoutPath is not null ? new LayoutSignatureSource(layoutPath) : AttachedBundles.For(registry, baseImage);
        var reference = baseImage.Digest?.ToString() ?? baseImage.Tag ?? ImageReference.DefaultTag;
        var (descriptor, bytes) = await source.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        var bundles = await AttachedBundles.ReadAsync(source, descriptor.Digest, cancellationToken).ConfigureAwait(false);
        var signatures = bundles.Where(b => b.Bundle is { Content: SigstoreBundleContent.MessageSignature }).ToArray();
        foreach (var (_, bundle, _) in signatures)
        {
            if (Signers.Any(signer => bundle!.Verify(signer.Key, bytes) is null))
            {
                return;
            }
        }

        var keys = string.Join(" or ", Signers.Select(s => $"{Path.GetFileName(s.Path)} ({s.Key.Hint})"));
        var found = signatures.Length == 0
            ? "it has no signature"
            : $"its {signatures.Length} signature{(signatures.Length > 1 ? "s are" : " is")} by {string.Join(", ", signatures.Select(s => s.Bundle!.PublicKeyHint ?? "a certificate").Distinct())}";
        throw new SigningException(SigningFailure.PolicyRefused, $"ContainerBaseImagePolicy rule 'signed-by' refuses base image {baseImage} ({descriptor.Digest}): {found}, none verifying with {keys}. Use a base signed by that key, or sign this one (docs/signing.md).");
    }

    /// <inheritdoc />
    public override string ToString() => _text;
}
