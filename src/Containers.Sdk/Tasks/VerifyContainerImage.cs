using Containers.Build.SupplyChain.Signing;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Shared;
using Microsoft.Build.Framework;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Checks the published image's signatures and SLSA provenance against a public key, through
/// <see cref="ContainerImageVerifier"/>: the index and every platform manifest must each have both, signed by the key.
/// Each failure is one coded error naming the manifest and what failed.
/// </summary>
public sealed class VerifyContainerImage : ContainerTask
{
    /// <summary>The resolved ContainerRegistry; empty verifies the OCI layout instead.</summary>
    public string? ContainerRegistry { get; set; }

    /// <summary>The resolved ContainerRepository.</summary>
    [Required] public string ContainerRepository { get; set; } = "";

    /// <summary>The resolved tags; the first names the image unless ContainerVerifyImage is set.</summary>
    public ITaskItem[] ContainerImageTags { get; set; } = [];

    /// <summary>ContainerOciLayoutPath, or the default layout: where the image is without a registry.</summary>
    public string? ContainerOciLayoutPath { get; set; }

    /// <summary>
    /// Ours, ContainerVerifyImage: the image to verify instead, <c>registry/repository[:tag|@digest]</c> or
    /// <c>oci:&lt;layout directory&gt;[:ref]</c>.
    /// </summary>
    public string? ContainerVerifyImage { get; set; }

    /// <summary>Ours, ContainerVerificationKey: the PEM ECDSA P-256 public key; empty uses the public half of ContainerSigningKey.</summary>
    public string? ContainerVerificationKey { get; set; }

    /// <summary>Ours, ContainerSigningKey: its location (file or environment variable name), for its public half.</summary>
    public string? ContainerSigningKey { get; set; }

    /// <summary>The project directory, against which relative paths are resolved.</summary>
    [Required] public string ProjectDirectory { get; set; } = "";

    /// <summary>The digest verified.</summary>
    [Output] public string? VerifiedContainerDigest { get; private set; }

    /// <inheritdoc />
    protected override bool ExecuteCore(CancellationToken cancellationToken)
    {
        VerificationKey key;
        if (!string.IsNullOrWhiteSpace(ContainerVerificationKey))
        {
            key = VerificationKey.FromFile(Path.GetFullPath(ContainerVerificationKey.Trim(), ProjectDirectory), "ContainerVerificationKey");
        }
        else if (!string.IsNullOrWhiteSpace(ContainerSigningKey))
        {
            using var signingKey = SigningKey.Load(ContainerSigningKey, ProjectDirectory);
            key = signingKey.PublicKey;
        }
        else
        {
            LogCodedError(ContainerErrorCodes.InvalidPublicKey, "VerifyContainerImage needs a public key: set ContainerVerificationKey to the path of the PEM ECDSA P-256 public key that signed the image (or ContainerSigningKey, whose public half is then used).");
            return false;
        }

        var tag = ContainerImageTags.Select(t => t.ItemSpec).FirstOrDefault(t => t.Length > 0) ?? ImageReference.DefaultTag;
        var target = NullIfEmpty(ContainerVerifyImage)
            ?? (NullIfEmpty(ContainerRegistry) is { } registry ? $"{registry}/{ContainerRepository}:{tag}" : $"oci:{ContainerOciLayoutPath}:{tag}");
        Log.LogMessage(MessageImportance.High, $"Verifying {target} against {key}.");

        ImageVerificationResult result;
        if (target.StartsWith("oci:", StringComparison.Ordinal))
        {
            var (directory, reference) = SplitLayoutReference(target["oci:".Length..], tag);
            result = ContainerImageVerifier.VerifyLayoutAsync(Path.GetFullPath(directory, ProjectDirectory), reference, key, cancellationToken).GetAwaiter().GetResult();
        }
        else
        {
            ImageReference image;
            try
            {
                image = ImageReference.Parse(target);
            }
            catch (ImageReferenceFormatException ex)
            {
                LogCodedError(ContainerErrorCodes.InvalidReference, $"ContainerVerifyImage '{target}': {ex.Message}; give registry/repository[:tag|@digest] or oci:<layout directory>[:ref].");
                return false;
            }

            var credentials = new ConfiguredCredentialProvider(DotnetCredentialVariables.Apply(new CredentialProviderOptions { DestinationRegistry = image.Registry, SourceRegistry = image.Registry }));
            using var client = new RegistryClient(new RegistryClientOptions { CredentialProvider = credentials });
            result = ContainerImageVerifier.VerifyAsync(client, image, key, cancellationToken).GetAwaiter().GetResult();
        }

        VerifiedContainerDigest = result.Digest.ToString();
        foreach (var line in result.Verified)
        {
            Log.LogMessage(MessageImportance.Normal, "  " + line);
        }

        foreach (var failure in result.Failures)
        {
            LogCodedError(ContainerErrorCodes.VerificationFailed, $"VerifyContainerImage: {failure}.");
        }

        if (result.IsVerified)
        {
            Log.LogMessage(MessageImportance.High, $"Verified {result.Image} ({result.Digest}): {result.Verified.Count} checks passed, signatures and SLSA provenance by {key.Hint}.");
        }

        return result.IsVerified;
    }

    // oci:/path/to/layout:ref — the ref is what follows the last ':' unless that is part of the path.
    private static (string Directory, string Reference) SplitLayoutReference(string value, string defaultReference)
    {
        var colon = value.LastIndexOf(':');
        if (colon > 0 && !value[(colon + 1)..].Contains('/', StringComparison.Ordinal))
        {
            var reference = value[(colon + 1)..];
            // oci:<dir>:sha256:<hex> names a digest.
            var before = value[..colon];
            if (before.EndsWith(":sha256", StringComparison.Ordinal))
            {
                return (before[..^":sha256".Length], "sha256:" + reference);
            }

            return (before, reference);
        }

        return (value, defaultReference);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
