using System.Diagnostics.CodeAnalysis;
using Containers.Oci.Digests;
using Containers.Shared;
using DigestValue = Containers.Oci.Digests.Digest;

namespace Containers.Oci.References;

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
    public const string DockerHubRegistry = ImageNameRules.DockerHubRegistry;

    /// <summary>The tag used when a reference has neither tag nor digest.</summary>
    public const string DefaultTag = "latest";

    /// <summary>The maximum length of the name, registry + '/' + repository, in characters.</summary>
    public const int MaxNameLength = ImageNameRules.MaxNameLength;

    /// <summary>The maximum length of a tag, in characters.</summary>
    public const int MaxTagLength = ImageNameRules.MaxTagLength;

    private const string LegacyDockerHubRegistry = "index.docker.io";
    private const string OfficialRepositoryPrefix = "library/";
    private const string Localhost = ImageNameRules.Localhost;

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
    /// <remarks>The rule is shared with the Containers.Sdk analyzers (src/Shared/ImageNameRules.cs), so the IDE and publishing agree.</remarks>
    public static string? ValidateTag(string? tag) => ImageNameRules.ValidateTag(tag);

    /// <summary>Null when <paramref name="repository"/> is a valid repository path; otherwise a sentence that says what is wrong with it.</summary>
    /// <remarks>
    /// A repository is path components separated by '/'; each component is lowercase letters and digits,
    /// with a single '.', one or two '_', or any number of '-' between them. Shared with the analyzers.
    /// </remarks>
    public static string? ValidateRepository(string? repository) => ImageNameRules.ValidateRepository(repository);

    /// <summary>Null when <paramref name="registry"/> is a valid registry that a reference can name; otherwise a sentence that says what is wrong with it.</summary>
    /// <remarks>
    /// A registry is <c>host[:port]</c>: the host is dot-separated labels of letters, digits and inner '-',
    /// or an IPv6 address in brackets (<c>[::1]:5000</c>); the port is 1 to 65535. A host without '.',
    /// port or uppercase letter other than <c>localhost</c> is refused, because in a reference it would be
    /// read as a Docker Hub namespace. Shared with the analyzers.
    /// </remarks>
    public static string? ValidateRegistry(string? registry) => ImageNameRules.ValidateRegistry(registry);

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
            if (ImageNameRules.IsRegistryComponent(first))
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
}
