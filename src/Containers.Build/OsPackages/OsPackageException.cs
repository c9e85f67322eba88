namespace Containers.Build.OsPackages;

/// <summary>
/// Codes of OS package failures (CONTAINER81xx). Every message names the package and/or the source it concerns,
/// what was expected and how to fix it; docs/os-packages.md lists them.
/// </summary>
public static class OsPackageErrorCodes
{
    /// <summary>A package named by ContainerOsPackage is in none of the sources' indexes.</summary>
    public const string UnknownPackage = "CONTAINER8120";

    /// <summary>The package exists but not in the version asked for.</summary>
    public const string VersionNotFound = "CONTAINER8121";

    /// <summary>A dependency cannot be satisfied, or a package conflicts with what the base image has installed.</summary>
    public const string Unsatisfiable = "CONTAINER8122";

    /// <summary>A package has no build for the architecture of a runtime identifier.</summary>
    public const string ArchitectureNotAvailable = "CONTAINER8123";

    /// <summary>A repository's InRelease/Release signature does not verify against the source's keys, or it is unsigned.</summary>
    public const string SignatureInvalid = "CONTAINER8124";

    /// <summary>A downloaded index or .deb does not have the size or SHA-256 its signed index promises.</summary>
    public const string HashMismatch = "CONTAINER8125";

    /// <summary>A repository could not be reached or answered with an error.</summary>
    public const string RepositoryUnreachable = "CONTAINER8126";

    /// <summary>A source or package setting, the base image's distribution or the lock file is not usable as given.</summary>
    public const string InvalidConfiguration = "CONTAINER8127";

    /// <summary>ContainerOsPackagesLockedMode is on and the lock file would change.</summary>
    public const string LockFileOutOfDate = "CONTAINER8128";

    /// <summary>A .deb file is not a well-formed Debian binary package.</summary>
    public const string InvalidPackageFile = "CONTAINER8129";

    /// <summary>Warning: packages with maintainer scripts (postinst ...) were added; the scripts are not run.</summary>
    public const string MaintainerScriptsNotRun = "CONTAINER8130";
}

/// <summary>An OS package could not be resolved, fetched or laid out; <see cref="Code"/> is one of <see cref="OsPackageErrorCodes"/>.</summary>
public sealed class OsPackageException : Exception
{
    /// <summary>Creates the exception with its code and one-line message.</summary>
    public OsPackageException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>One of <see cref="OsPackageErrorCodes"/>.</summary>
    public string Code { get; }
}
