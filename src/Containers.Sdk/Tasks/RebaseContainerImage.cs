using Containers.Build.SupplyChain;
using Containers.Oci.Platforms;
using Containers.Oci.References;
using Containers.Oci.Registry;
using Containers.Oci.Registry.Credentials;
using Containers.Shared;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Moves the published image onto a newer base without rebuilding it, through <see cref="ImageRebaser"/>: the
/// app layers stay byte-identical and are not uploaded again; only the new manifest and config are written.
/// </summary>
public sealed class RebaseContainerImage : ContainerTask
{
    /// <summary>The resolved ContainerRegistry: the registry holding the image (rebasing works on registry images).</summary>
    public string? ContainerRegistry { get; set; }

    /// <summary>The resolved ContainerRepository.</summary>
    [Required] public string ContainerRepository { get; set; } = "";

    /// <summary>The resolved tags; the first names the image to rebase unless ContainerRebaseImage is set, and all are moved to the result.</summary>
    public ITaskItem[] ContainerImageTags { get; set; } = [];

    /// <summary>The resolved ContainerBaseImage: the new base unless ContainerRebaseBaseImage is set.</summary>
    public string? ContainerBaseImage { get; set; }

    /// <summary>Ours, ContainerRebaseImage: the image to rebase (e.g. a digest); default the first tag of ContainerRepository in ContainerRegistry.</summary>
    public string? ContainerRebaseImage { get; set; }

    /// <summary>Ours, ContainerRebaseBaseImage: the new base (same repository as the image's base, newer tag or digest).</summary>
    public string? ContainerRebaseBaseImage { get; set; }

    /// <summary>What the tags point at after the rebase.</summary>
    [Output] public string? GeneratedContainerDigest { get; private set; }

    /// <summary>The full names written.</summary>
    [Output] public ITaskItem[] GeneratedContainerNames { get; private set; } = [];

    /// <inheritdoc />
    protected override bool ExecuteCore(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(ContainerRegistry))
        {
            LogCodedError(ContainerErrorCodes.RebaseRefused, "RebaseContainer works on an image in a registry, and ContainerRegistry is empty; set ContainerRegistry to the registry the image was pushed to.");
            return false;
        }

        var tags = ContainerImageTags.Select(t => t.ItemSpec).Where(t => t.Length > 0).ToArray();
        var image = !string.IsNullOrWhiteSpace(ContainerRebaseImage)
            ? Parse(ContainerRebaseImage, "ContainerRebaseImage")
            : Parse($"{ContainerRegistry}/{ContainerRepository}:{tags.FirstOrDefault() ?? ImageReference.DefaultTag}", "ContainerRepository");
        var newBaseText = string.IsNullOrWhiteSpace(ContainerRebaseBaseImage) ? ContainerBaseImage : ContainerRebaseBaseImage;
        if (string.IsNullOrWhiteSpace(newBaseText))
        {
            LogCodedError(ContainerErrorCodes.RebaseRefused, "No base image to rebase onto: set ContainerRebaseBaseImage (e.g. mcr.microsoft.com/dotnet/aspnet:10.0 or a digest of it).");
            return false;
        }

        var newBase = Parse(newBaseText, string.IsNullOrWhiteSpace(ContainerRebaseBaseImage) ? "ContainerBaseImage" : "ContainerRebaseBaseImage");
        Log.LogMessage(MessageImportance.High, $"Rebasing {image} onto {newBase}.");
        var credentials = new ConfiguredCredentialProvider(DotnetCredentialVariables.Apply(new CredentialProviderOptions
        {
            DestinationRegistry = image.Registry,
            SourceRegistry = newBase.Registry,
        }));
        using var rebaser = new ImageRebaser(new RegistryClientOptions { CredentialProvider = credentials }, new TaskLogProgress(Log));
        var result = rebaser.RebaseAsync(
            new ImageRebaseRequest
            {
                Image = image,
                NewBase = newBase,
                DestinationRepository = ContainerRepository,
                Tags = tags.Length > 0 ? tags : [image.Tag ?? ImageReference.DefaultTag],
            },
            cancellationToken).GetAwaiter().GetResult();

        GeneratedContainerDigest = result.Digest.ToString();
        GeneratedContainerNames = result.Names.Select(n => (ITaskItem)new TaskItem(n)).ToArray();
        foreach (var rebased in result.Images)
        {
            Log.LogMessage(MessageImportance.High, $"  {PlatformMatching.Format(rebased.Platform)}: {rebased.OriginalManifest} -> {rebased.RebasedManifest} (base {rebased.OriginalBase} -> {rebased.NewBase}, {rebased.AppLayers.Count} app layers kept)");
        }

        Log.LogMessage(MessageImportance.High, $"Rebased {string.Join(", ", result.Names)}: {result.Digest}, uploaded {result.BytesUploaded} B.");
        return true;
    }

    private static ImageReference Parse(string text, string property)
    {
        try
        {
            return ImageReference.Parse(text.Trim());
        }
        catch (ImageReferenceFormatException ex)
        {
            throw new ImageRebaseException($"{property}: {ex.Message}", ex);
        }
    }
}
