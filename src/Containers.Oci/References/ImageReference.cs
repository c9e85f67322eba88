using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DigestValue = Containers.Oci.Digest;

namespace Containers.Oci;

/// <summary>
/// A normalized image reference, <c>registry/repository[:tag][@digest]</c>, parsed with the grammar of
/// the distribution project's reference package and Docker Hub's normalization rules.
/// </summary>
/// <remarks>
/// <para>
/// Grammar: <c>[registry "/"] path [":" tag] ["@" digest]</c>. The registry is a host (dot-separated labels
/// of letters, digits and inner '-', or an IPv6 address in brackets) with an optional port. The first
/// path component is taken as the registry only when it contains '.' or ':', is <c>localhost</c>, or
/// contains an uppercase letter; otherwise the name is on Docker Hub (<c>docker.io</c>), and a
/// single-component Docker Hub name gets the <c>library/</c> prefix. <c>index.docker.io</c> is <c>docker.io</c>.
/// </para>
/// <para>
/// Every instance is canonical: <c>Parse(reference.ToString()) == reference</c>.
/// </para>
/// </remarks>
public sealed record ImageReference
{
    /// <summary>The canonical name of Docker Hub.</summary>
    public const string DockerHubRegistry = "docker.io";

    /// <summary>The tag used when a reference has neither tag nor digest.</summary>
    public const string DefaultTag = "latest";

    /// <summary>The maximum length of the name, registry + '/' + repository, in characters.</summary>
    public const int MaxNameLength = 255;

    /// <summary>The maximum length of a tag, in characters.</summary>
    public const int MaxTagLength = 128;

    private const string LegacyDockerHubRegistry = "index.docker.io";
    private const string OfficialRepositoryPrefix = "library/";
    private const string Localhost = "localhost";

    private ImageReference(string registry, string repository, string? tag, DigestValue? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host with optional port, for example <c>localhost:5000</c>; Docker Hub is <c>docker.io</c>.</summary>
    public string Registry { get; }

    /// <summary>The repository path, for example <c>library/ubuntu</c> for <c>ubuntu</c> on Docker Hub.</summary>
    public string Repository { get; }

    /// <summary>The tag, or null when the reference has none.</summary>
    public string? Tag { get; }

    /// <summary>The digest, or null when the reference has none.</summary>
    public Digest? Digest { get; }

    /// <summary>What to ask the registry for: the digest if present, else the tag, else <c>latest</c>.</summary>
    public string Reference => Digest?.ToString() ?? Tag ?? DefaultTag;

    /// <summary>The name without tag or digest: <c>registry/repository</c>.</summary>
    public string Name => Registry + "/" + Repository;

    /// <summary>Parses <paramref name="value"/> and normalizes it.</summary>
    /// <exception cref="ImageReferenceFormatException">The value does not follow the grammar; the message says which part is wrong and why.</exception>
    public static ImageReference Parse(string value)
    {
        var failure = TryParseCore(value, out var reference);
        if (failure is not null)
        {
            throw failure;
        }

        return reference!;
    }

    /// <summary>Parses <paramref name="value"/>; on failure <paramref name="error"/> says which part is wrong and why.</summary>
    public static bool TryParse(
        [NotNullWhen(true)] string? value,
        [NotNullWhen(true)] out ImageReference? reference,
        [NotNullWhen(false)] out string? error)
    {
        var failure = TryParseCore(value, out reference);
        error = failure?.Message;
        return failure is null;
    }

    /// <summary>Parses <paramref name="value"/>, returning false for anything that is not a valid reference.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out ImageReference? reference) =>
        TryParse(value, out reference, out _);

    /// <summary>
    /// Builds a reference from its parts, validating each one. Docker Hub normalization applies:
    /// <c>index.docker.io</c> becomes <c>docker.io</c>, and a single-component repository there gets <c>library/</c>.
    /// </summary>
    /// <exception cref="ImageReferenceFormatException">A part is invalid; <see cref="ImageReferenceFormatException.Part"/> says which.</exception>
    public static ImageReference Create(string registry, string repository, string? tag = null, Digest? digest = null)
    {
        ThrowIfInvalid(registry, ImageReferencePart.Registry, ValidateRegistry(registry));
        ThrowIfInvalid(repository, ImageReferencePart.Repository, ValidateRepository(repository));
        if (tag is not null)
        {
            ThrowIfInvalid(tag, ImageReferencePart.Tag, ValidateTag(tag));
        }

        ThrowIfInvalidDigest(digest);
        return CreateNormalized(registry, repository, tag, digest);
    }

    /// <summary>This reference with <paramref name="tag"/> as its tag; a digest, if any, is kept.</summary>
    /// <exception cref="ImageReferenceFormatException">The tag is invalid.</exception>
    public ImageReference WithTag(string tag)
    {
        ThrowIfInvalid(tag, ImageReferencePart.Tag, ValidateTag(tag));
        return new ImageReference(Registry, Repository, tag, Digest);
    }

    /// <summary>This reference with <paramref name="digest"/> as its digest; a tag, if any, is kept.</summary>
    /// <exception cref="ImageReferenceFormatException">The digest is <c>default</c>.</exception>
    public ImageReference WithDigest(Digest digest)
    {
        ThrowIfInvalidDigest(digest);
        return new ImageReference(Registry, Repository, Tag, digest);
    }

    /// <summary>This reference without a tag.</summary>
    public ImageReference WithoutTag() => new(Registry, Repository, null, Digest);

    /// <summary>This reference without a digest.</summary>
    public ImageReference WithoutDigest() => new(Registry, Repository, Tag, null);

    /// <summary>This reference in another repository of the same registry, keeping tag and digest.</summary>
    /// <exception cref="ImageReferenceFormatException">The repository is invalid.</exception>
    public ImageReference WithRepository(string repository)
    {
        ThrowIfInvalid(repository, ImageReferencePart.Repository, ValidateRepository(repository));
        return CreateNormalized(Registry, repository, Tag, Digest);
    }

    /// <summary>This reference on another registry, keeping repository, tag and digest.</summary>
    /// <exception cref="ImageReferenceFormatException">The registry is invalid.</exception>
    public ImageReference WithRegistry(string registry)
    {
        ThrowIfInvalid(registry, ImageReferencePart.Registry, ValidateRegistry(registry));
        return CreateNormalized(registry, Repository, Tag, Digest);
    }

    /// <summary>The canonical form, <c>registry/repository[:tag][@digest]</c>.</summary>
    public override string ToString()
    {
        var text = Registry + "/" + Repository;
        if (Tag is not null)
        {
            text += ":" + Tag;
        }

        if (Digest is { } digest)
        {
            text += "@" + digest.ToString();
        }

        return text;
    }

    /// <summary>True when <paramref name="tag"/> is a valid tag: 1 to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-'.</summary>
    public static bool IsValidTag(string tag) => ValidateTag(tag) is null;

    /// <summary>True when <paramref name="repository"/> is a valid repository path (without registry).</summary>
    public static bool IsValidRepository(string repository) => ValidateRepository(repository) is null;

    /// <summary>True when <paramref name="registry"/> is a valid registry (host with optional port) that a reference can name.</summary>
    public static bool IsValidRegistry(string registry) => ValidateRegistry(registry) is null;

    /// <summary>Null when <paramref name="tag"/> is valid; otherwise a sentence that says what is wrong with it.</summary>
    public static string? ValidateTag(string? tag)
    {
        if (string.IsNullOrEmpty(tag))
        {
            return "the tag is empty; a tag is 1 to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'.";
        }

        if (tag.Length > MaxTagLength)
        {
            return $"tag '{tag}' is {tag.Length} characters; the limit is {MaxTagLength}.";
        }

        foreach (var c in tag)
        {
            if (!IsWordCharacter(c) && c is not ('.' or '-'))
            {
                return $"tag '{tag}' contains {Describe(c)}; a tag may contain only letters, digits, '_', '.' and '-'.";
            }
        }

        if (tag[0] is '.' or '-')
        {
            return $"tag '{tag}' starts with '{tag[0]}'; a tag must start with a letter, a digit or '_'.";
        }

        return null;
    }

    /// <summary>Null when <paramref name="repository"/> is a valid repository path; otherwise a sentence that says what is wrong with it.</summary>
    /// <remarks>
    /// A repository is path components separated by '/'; each component is lowercase letters and digits,
    /// with a single '.', one or two '_', or any number of '-' between them.
    /// </remarks>
    public static string? ValidateRepository(string? repository)
    {
        if (string.IsNullOrEmpty(repository))
        {
            return "the repository is empty; expected lowercase path components separated by '/', for example 'team/app'.";
        }

        if (repository.Length > MaxNameLength)
        {
            return $"repository '{repository}' is {repository.Length} characters; the limit is {MaxNameLength}.";
        }

        foreach (var c in repository)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return $"repository '{repository}' contains uppercase letter '{c}'; repository names must be lowercase.";
            }

            if (!IsLowercaseAlphanumeric(c) && c is not ('.' or '_' or '-' or '/'))
            {
                return $"repository '{repository}' contains {Describe(c)}; a repository may contain only lowercase letters, digits, the separators '.', '_' and '-', and '/' between path components.";
            }
        }

        var start = 0;
        while (true)
        {
            var end = repository.IndexOf('/', start);
            if (end < 0)
            {
                end = repository.Length;
            }

            var error = ValidatePathComponent(repository, start, end);
            if (error is not null)
            {
                return error;
            }

            if (end == repository.Length)
            {
                return null;
            }

            start = end + 1;
        }
    }

    /// <summary>Null when <paramref name="registry"/> is a valid registry that a reference can name; otherwise a sentence that says what is wrong with it.</summary>
    /// <remarks>
    /// A registry is <c>host[:port]</c>: the host is dot-separated labels of letters, digits and inner '-',
    /// or an IPv6 address in brackets (<c>[::1]:5000</c>); the port is 1 to 65535. A host without '.',
    /// port or uppercase letter other than <c>localhost</c> is refused, because in a reference it would be
    /// read as a Docker Hub namespace.
    /// </remarks>
    public static string? ValidateRegistry(string? registry)
    {
        if (string.IsNullOrEmpty(registry))
        {
            return "the registry is empty; expected a host with an optional port, for example 'registry.example.com' or 'localhost:5000'.";
        }

        if (registry.Contains("://", StringComparison.Ordinal))
        {
            return $"registry '{registry}' includes a URL scheme; give only the host and port, for example '{registry[(registry.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/')}'.";
        }

        string? port;
        if (registry[0] == '[')
        {
            var close = registry.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return $"registry '{registry}' has '[' without a closing ']'; an IPv6 address is written in brackets, for example '[::1]:5000'.";
            }

            var address = registry[1..close];
            foreach (var c in address)
            {
                if (!char.IsAsciiHexDigit(c) && c != ':')
                {
                    return $"registry '{registry}' contains {Describe(c)} inside the brackets; an IPv6 address there is hex digits and ':' only (zone identifiers such as '%eth0' are not allowed).";
                }
            }

            if (!IPAddress.TryParse(address, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return $"registry '{registry}' has '[{address}]', which is not an IPv6 address.";
            }

            var rest = registry[(close + 1)..];
            if (rest.Length == 0)
            {
                return null;
            }

            if (rest[0] != ':')
            {
                return $"registry '{registry}' has {Describe(rest[0])} after ']'; expected ':' and a port, or nothing.";
            }

            port = rest[1..];
        }
        else
        {
            var colon = registry.IndexOf(':', StringComparison.Ordinal);
            var host = colon < 0 ? registry : registry[..colon];
            port = colon < 0 ? null : registry[(colon + 1)..];
            var hostError = ValidateHostName(registry, host);
            if (hostError is not null)
            {
                return hostError;
            }

            if (port is null && !IsRegistryComponent(host))
            {
                return $"registry '{registry}' has no '.', no port and is not 'localhost', so in an image reference '{registry}/app' would mean the Docker Hub repository '{DockerHubRegistry}/{registry}/app'; name the registry with its port (for example '{registry}:5000') or its fully qualified host name.";
            }
        }

        return port is null ? null : ValidatePort(registry, port);
    }

    /// <summary>Null when <paramref name="digest"/> is a valid digest string; otherwise a sentence that says what is wrong with it.</summary>
    public static string? ValidateDigest(string? digest)
    {
        if (string.IsNullOrEmpty(digest))
        {
            return "the digest is empty; expected 'sha256:<64 hex digits>'.";
        }

        if (!digest.Contains(':', StringComparison.Ordinal))
        {
            return $"the digest '{digest}' has no ':'; expected '<algorithm>:<hex>', for example 'sha256:<64 hex digits>'.";
        }

        return DigestValue.TryParse(digest, out _, out var error) ? null : "the digest " + error;
    }

    private static ImageReferenceFormatException? TryParseCore(string? value, out ImageReference? reference)
    {
        reference = null;
        if (string.IsNullOrEmpty(value))
        {
            return new ImageReferenceFormatException(
                string.Empty,
                ImageReferencePart.Reference,
                "the reference is empty; expected '[registry/]repository[:tag][@digest]', for example 'registry.example.com/team/app:1.0'.");
        }

        if (IsImageId(value))
        {
            return new ImageReferenceFormatException(
                value,
                ImageReferencePart.Reference,
                $"64 hexadecimal digits are an image ID, not a repository name; to address an image by digest write 'repository@sha256:{value}'.");
        }

        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            return new ImageReferenceFormatException(
                value,
                ImageReferencePart.Reference,
                $"it starts with a URL scheme; an image reference has none, write '{value[(scheme + 3)..]}'.");
        }

        var nameAndTag = value;
        string? digestText = null;
        var at = value.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            nameAndTag = value[..at];
            digestText = value[(at + 1)..];
            if (nameAndTag.Length == 0)
            {
                return new ImageReferenceFormatException(value, ImageReferencePart.Repository, "there is no repository before '@'; expected 'repository@sha256:<64 hex digits>'.");
            }
        }

        var lastSlash = nameAndTag.LastIndexOf('/');
        if (lastSlash < 0 && nameAndTag[0] == '[')
        {
            return new ImageReferenceFormatException(
                value,
                ImageReferencePart.Repository,
                $"'{nameAndTag}' has no '/', so it would be a Docker Hub repository, and a repository cannot start with '['; to use an IPv6 registry add a repository, for example '{nameAndTag}/app'.");
        }

        var tagColon = nameAndTag.IndexOf(':', lastSlash + 1);
        var name = tagColon < 0 ? nameAndTag : nameAndTag[..tagColon];
        var tag = tagColon < 0 ? null : nameAndTag[(tagColon + 1)..];
        if (name.Length == 0)
        {
            return new ImageReferenceFormatException(value, ImageReferencePart.Repository, "there is no repository before ':'; expected 'repository:tag'.");
        }

        var registry = DockerHubRegistry;
        var path = name;
        string? registryHint = null;
        var firstSlash = name.IndexOf('/', StringComparison.Ordinal);
        if (firstSlash >= 0)
        {
            var first = name[..firstSlash];
            if (IsRegistryComponent(first))
            {
                registry = first;
                path = name[(firstSlash + 1)..];
                if (first.Any(char.IsAsciiLetterUpper) && !first.Contains('.', StringComparison.Ordinal) && !first.Contains(':', StringComparison.Ordinal) && first != Localhost)
                {
                    registryHint = $" '{first}' was read as the registry because it contains uppercase letters; if it is part of the repository, write it in lowercase.";
                }
            }
        }

        if (!ReferenceEquals(registry, DockerHubRegistry))
        {
            var registryError = ValidateRegistry(registry);
            if (registryError is not null)
            {
                return new ImageReferenceFormatException(value, ImageReferencePart.Registry, registryError + registryHint);
            }
        }

        var repositoryError = ValidateRepository(path);
        if (repositoryError is not null)
        {
            return new ImageReferenceFormatException(value, ImageReferencePart.Repository, repositoryError + registryHint);
        }

        if (tag is not null)
        {
            var tagError = tag.Length == 0
                ? "the tag after ':' is empty; remove the ':' or add a tag, for example ':1.0'."
                : ValidateTag(tag);
            if (tagError is not null)
            {
                return new ImageReferenceFormatException(value, ImageReferencePart.Tag, tagError);
            }
        }

        DigestValue? digest = null;
        if (digestText is not null)
        {
            if (!DigestValue.TryParse(digestText, out var parsedDigest))
            {
                var digestError = digestText.Length == 0
                    ? "the digest after '@' is empty; expected 'sha256:<64 hex digits>'."
                    : ValidateDigest(digestText)!;
                return new ImageReferenceFormatException(value, ImageReferencePart.Digest, digestError);
            }

            digest = parsedDigest;
        }

        var normalizedRegistry = NormalizeRegistry(registry);
        var repository = NormalizeRepository(normalizedRegistry, path);
        var nameLength = normalizedRegistry.Length + 1 + repository.Length;
        if (nameLength > MaxNameLength)
        {
            return new ImageReferenceFormatException(
                value,
                ImageReferencePart.Repository,
                $"the name '{normalizedRegistry}/{repository}' is {nameLength} characters; the limit for registry, '/' and repository together is {MaxNameLength}.");
        }

        reference = new ImageReference(normalizedRegistry, repository, tag, digest);
        return null;
    }

    private static ImageReference CreateNormalized(string registry, string repository, string? tag, DigestValue? digest)
    {
        var normalizedRegistry = NormalizeRegistry(registry);
        var normalizedRepository = NormalizeRepository(normalizedRegistry, repository);
        var nameLength = normalizedRegistry.Length + 1 + normalizedRepository.Length;
        if (nameLength > MaxNameLength)
        {
            throw new ImageReferenceFormatException(
                repository,
                ImageReferencePart.Repository,
                $"the name '{normalizedRegistry}/{normalizedRepository}' is {nameLength} characters; the limit for registry, '/' and repository together is {MaxNameLength}.");
        }

        return new ImageReference(normalizedRegistry, normalizedRepository, tag, digest);
    }

    private static string NormalizeRegistry(string registry) =>
        registry == LegacyDockerHubRegistry ? DockerHubRegistry : registry;

    private static string NormalizeRepository(string registry, string repository) =>
        registry == DockerHubRegistry && !repository.Contains('/', StringComparison.Ordinal)
            ? OfficialRepositoryPrefix + repository
            : repository;

    private static void ThrowIfInvalid(string? value, ImageReferencePart part, string? error)
    {
        if (error is not null)
        {
            throw new ImageReferenceFormatException(value ?? string.Empty, part, error);
        }
    }

    private static void ThrowIfInvalidDigest(DigestValue? digest)
    {
        if (digest is { IsValid: false })
        {
            throw new ImageReferenceFormatException(string.Empty, ImageReferencePart.Digest, "the digest is uninitialized (default); create digests with Digest.Parse or Digest.Compute.");
        }
    }

    /// <summary>Distribution's rule for whether the first path component names a registry rather than a Docker Hub namespace.</summary>
    private static bool IsRegistryComponent(string component)
    {
        // A repository cannot start with '[', so such a component can only be meant as an IPv6 host.
        if (component == Localhost || component.StartsWith('[') || component.Contains('.', StringComparison.Ordinal) || component.Contains(':', StringComparison.Ordinal))
        {
            return true;
        }

        // Docker Hub namespaces are lowercase, so an uppercase first component can only be a host.
        foreach (var c in component)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return true;
            }
        }

        return false;
    }

    private static string? ValidatePathComponent(string repository, int start, int end)
    {
        if (start == end)
        {
            if (start == 0)
            {
                return $"repository '{repository}' starts with '/'; a repository is path components separated by '/', none of them empty.";
            }

            if (end == repository.Length)
            {
                return $"repository '{repository}' ends with '/'; a repository is path components separated by '/', none of them empty.";
            }

            return $"repository '{repository}' contains '//'; path components are separated by a single '/' and cannot be empty.";
        }

        var component = repository[start..end];
        if (!IsLowercaseAlphanumeric(component[0]))
        {
            return $"repository '{repository}' has the path component '{component}', which starts with '{component[0]}'; each component must start and end with a lowercase letter or digit.";
        }

        if (!IsLowercaseAlphanumeric(component[^1]))
        {
            return $"repository '{repository}' has the path component '{component}', which ends with '{component[^1]}'; each component must start and end with a lowercase letter or digit.";
        }

        var i = 0;
        while (i < component.Length)
        {
            if (IsLowercaseAlphanumeric(component[i]))
            {
                i++;
                continue;
            }

            var separatorStart = i;
            while (i < component.Length && !IsLowercaseAlphanumeric(component[i]))
            {
                i++;
            }

            var separator = component[separatorStart..i];
            if (!IsValidSeparator(separator))
            {
                return $"repository '{repository}' contains '{separator}' in the path component '{component}'; between letters and digits use a single '.', one or two '_', or one or more '-'.";
            }
        }

        return null;
    }

    private static bool IsValidSeparator(string separator)
    {
        if (separator is "." or "_" or "__")
        {
            return true;
        }

        foreach (var c in separator)
        {
            if (c != '-')
            {
                return false;
            }
        }

        return true;
    }

    private static string? ValidateHostName(string registry, string host)
    {
        if (host.Length == 0)
        {
            return $"registry '{registry}' has no host before ':'; expected a host with an optional port, for example 'localhost:5000'.";
        }

        foreach (var c in host)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-'))
            {
                return $"registry '{registry}' contains {Describe(c)} in the host name; a host name is letters, digits, '-' and '.', or an IPv6 address in brackets.";
            }
        }

        var start = 0;
        while (true)
        {
            var end = host.IndexOf('.', start);
            if (end < 0)
            {
                end = host.Length;
            }

            if (start == end)
            {
                var where = start == 0 ? "starts with '.'" : end == host.Length ? "ends with '.'" : "contains '..'";
                return $"registry '{registry}' {where}; a host name is labels separated by single dots, none of them empty.";
            }

            if (host[start] == '-' || host[end - 1] == '-')
            {
                return $"registry '{registry}' has the host label '{host[start..end]}', which {(host[start] == '-' ? "starts" : "ends")} with '-'; each label must start and end with a letter or digit.";
            }

            if (end == host.Length)
            {
                return null;
            }

            start = end + 1;
        }
    }

    private static string? ValidatePort(string registry, string port)
    {
        if (port.Length == 0)
        {
            return $"registry '{registry}' ends with ':' but has no port; write the port after ':', for example 'localhost:5000', or drop the ':'.";
        }

        var number = 0L;
        foreach (var c in port)
        {
            if (!char.IsAsciiDigit(c))
            {
                return $"registry '{registry}' has the port '{port}', which is not a number; a port is a number from 1 to 65535.";
            }

            // Saturate rather than overflow: any value past 65535 is reported the same way.
            number = Math.Min(number * 10 + (c - '0'), 1_000_000);
        }

        if (number is < 1 or > 65535)
        {
            return $"registry '{registry}' has port {port}, outside 1-65535.";
        }

        return null;
    }

    private static bool IsImageId(string value)
    {
        if (value.Length != 64)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowercaseAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    // Go's RE2 \w: ASCII letters, digits and '_'.
    private static bool IsWordCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string Describe(char c) => c switch
    {
        ' ' => "a space",
        _ when c < 0x21 || c == 0x7F || char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c) => "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
        _ when c > 0x7E => $"'{c}' (U+{((int)c).ToString("X4", CultureInfo.InvariantCulture)})",
        _ => $"'{c}'",
    };
}
