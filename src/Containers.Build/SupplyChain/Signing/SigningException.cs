using Containers.Oci;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>What went wrong with signing, verifying or a base image policy.</summary>
public enum SigningFailure
{
    /// <summary>ContainerSigningKey names no readable ECDSA P-256 private key.</summary>
    InvalidKey,

    /// <summary>A public key given for verification or a policy cannot be read.</summary>
    InvalidPublicKey,

    /// <summary>An image's signature or provenance is missing or does not verify.</summary>
    VerificationFailed,

    /// <summary>ContainerBaseImagePolicy cannot be parsed.</summary>
    InvalidPolicy,

    /// <summary>The base image breaks a rule of ContainerBaseImagePolicy.</summary>
    PolicyRefused,
}

/// <summary>
/// A signing, verification or base-image-policy failure. Its message names the setting or image and the rule,
/// never key material.
/// </summary>
public sealed class SigningException : OciException
{
    /// <summary>Creates the exception.</summary>
    public SigningException(SigningFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    /// <summary>What kind of failure it is.</summary>
    public SigningFailure Failure { get; }
}
