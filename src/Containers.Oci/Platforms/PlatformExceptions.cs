namespace Containers.Oci.Platforms;

/// <summary>An image index offers no manifest for the platform that was asked for.</summary>
public sealed class PlatformNotFoundException : OciException
{
    /// <summary>Creates the exception; the message lists the platforms the image offers.</summary>
    /// <param name="imageName">The image whose index was searched, as the user would recognize it.</param>
    /// <param name="wantedPlatform">The platform that was asked for.</param>
    /// <param name="availablePlatforms">The platforms of the image's manifests (attestations excluded).</param>
    public PlatformNotFoundException(string imageName, Platform wantedPlatform, IReadOnlyList<Platform> availablePlatforms)
        : base(BuildMessage(imageName, wantedPlatform, availablePlatforms))
    {
        ImageName = imageName;
        WantedPlatform = wantedPlatform;
        AvailablePlatforms = availablePlatforms;
    }

    /// <summary>The image whose index was searched.</summary>
    public string ImageName { get; }

    /// <summary>The platform that was asked for.</summary>
    public Platform WantedPlatform { get; }

    /// <summary>The platforms the image offers, in index order.</summary>
    public IReadOnlyList<Platform> AvailablePlatforms { get; }

    private static string BuildMessage(string imageName, Platform wanted, IReadOnlyList<Platform> available)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(available);
        var offered = available.Count == 0
            ? "its index lists no platform-specific image manifests"
            : "it offers " + string.Join(", ", available.Select(PlatformMatching.Format));
        return $"The image '{imageName}' has no manifest for platform {PlatformMatching.Format(wanted)}; {offered}. " +
            "Choose a platform the image offers, or a base image that supports " + PlatformMatching.Format(wanted) + ".";
    }
}

/// <summary>A platform string is not <c>os[(os.version)]/architecture[/variant]</c>.</summary>
public sealed class PlatformFormatException : OciException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="value">The text that was refused.</param>
    /// <param name="detail">Why it was refused.</param>
    public PlatformFormatException(string value, string detail)
        : base($"'{value}' is not a valid platform: {detail}")
    {
        Value = value;
        Detail = detail;
    }

    /// <summary>The text that was refused.</summary>
    public string Value { get; }

    /// <summary>Why it was refused.</summary>
    public string Detail { get; }
}

/// <summary>A .NET runtime identifier has no container platform this library knows.</summary>
public sealed class UnsupportedRuntimeIdentifierException : OciException
{
    /// <summary>Creates the exception; the message lists the known runtime identifiers.</summary>
    public UnsupportedRuntimeIdentifierException(string runtimeIdentifier, IReadOnlyList<string> knownRuntimeIdentifiers)
        : base(BuildMessage(runtimeIdentifier, knownRuntimeIdentifiers))
    {
        RuntimeIdentifier = runtimeIdentifier;
        KnownRuntimeIdentifiers = knownRuntimeIdentifiers;
    }

    /// <summary>The runtime identifier that was refused.</summary>
    public string RuntimeIdentifier { get; }

    /// <summary>The runtime identifiers that map to a platform.</summary>
    public IReadOnlyList<string> KnownRuntimeIdentifiers { get; }

    private static string BuildMessage(string runtimeIdentifier, IReadOnlyList<string> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        var message = $"The runtime identifier '{runtimeIdentifier}' does not map to a container platform; known runtime identifiers are {string.Join(", ", known)}.";
        var differentCase = known.FirstOrDefault(rid => string.Equals(rid, runtimeIdentifier, StringComparison.OrdinalIgnoreCase));
        if (differentCase is not null)
        {
            message += $" Runtime identifiers are lowercase: did you mean '{differentCase}'?";
        }
        else if (runtimeIdentifier.Contains('.', StringComparison.Ordinal))
        {
            message += " Version-specific runtime identifiers are not supported; use the portable one (for example 'linux-x64').";
        }

        return message;
    }
}
